import type { Socket } from 'socket.io-client';
import { PrekeyGetAck } from '../../protocol/v1/events.js';
import { pickVerified, type VerifiedPrekey, verifyPrekey } from '../crypto/prekey.js';
import { fromBase64Url, fromUtf8 } from '../crypto/sodium.js';
import type { Directory, RecipientKey } from '../directory/directory.js';
import type { WrapTarget } from '../envelope/wrap.js';
import { LiaisonError } from '../errors.js';
import { request } from './socket.js';

/** Most verified prekeys of other devices kept in memory (oldest go first). */
const MAX_CACHED = 4_096;
/**
 * How long a device's prekeys fetched are used before they are fetched again: a device that lost
 * its state publishes new ones, and a sender must move to them.
 */
const REFETCH_AFTER_MS = 5 * 60_000;

/** What a sender seals to, and which recipients got no forward secrecy (no prekey published). */
export interface SealTargets {
  readonly targets: WrapTarget[];
  readonly withoutPrekey: string[];
}

/**
 * The prekeys of other devices this client has fetched and verified (PROTOCOL.md §5.6): a sender
 * picks one per recipient, a reader finds the hub's to rebuild its wrap. Every prekey is verified
 * under the certificate it names before it is kept, so a gateway can withhold prekeys, never
 * substitute one.
 */
export class PeerPrekeys {
  private readonly byId = new Map<string, VerifiedPrekey>();
  /** When each device's prekeys were last fetched. */
  private readonly fetchedAt = new Map<string, number>();

  /**
   * One target per recipient key: its prekey valid at `createdAt`, fetched when none is known
   * or the device's were fetched over 5 minutes ago.
   * A recipient that published none is sealed to its certified key and listed in
   * `withoutPrekey`, unless `required`: then PREKEY_MISSING.
   */
  async targets(
    socket: Socket,
    directory: Directory,
    keys: readonly RecipientKey[],
    createdAt: number,
    required: boolean,
  ): Promise<SealTargets> {
    const stale = (deviceId: string) =>
      createdAt - (this.fetchedAt.get(deviceId) ?? Number.NEGATIVE_INFINITY) > REFETCH_AFTER_MS;
    const unknown = keys.filter((k) => stale(k.deviceId) || !this.pick(k, createdAt));
    if (unknown.length > 0)
      await this.fetch(
        socket,
        directory,
        unknown.map((k) => k.deviceId),
      );
    const targets: WrapTarget[] = [];
    const withoutPrekey: string[] = [];
    for (const key of keys) {
      const prekey = this.pick(key, createdAt);
      if (prekey) {
        targets.push({
          ...key,
          prekeyId: prekey.prekeyId,
          encryptionPublicKey: prekey.publicKeyBytes,
        });
        continue;
      }
      if (required) {
        throw new LiaisonError('PREKEY_MISSING', undefined, {
          deviceId: key.deviceId,
          keyId: key.keyId,
        });
      }
      targets.push(key);
      withoutPrekey.push(key.deviceId);
    }
    return { targets, withoutPrekey };
  }

  /** Fetches the named prekeys of devices that are not known yet (a reader before opening). */
  async ensure(
    socket: Socket,
    directory: Directory,
    wanted: readonly { deviceId: string; prekeyId: string }[],
  ): Promise<void> {
    const missing = wanted.filter((w) => !this.byId.has(w.prekeyId));
    if (missing.length === 0) return;
    await this.fetch(
      socket,
      directory,
      missing.map((m) => m.deviceId),
      missing.map((m) => m.prekeyId),
    );
  }

  /** The verified public key of `prekeyId` of that device key, if known. */
  publicKey(deviceId: string, keyId: string, prekeyId: string): Uint8Array | undefined {
    const prekey = this.byId.get(prekeyId);
    return prekey && prekey.deviceId === deviceId && prekey.keyId === keyId
      ? prekey.publicKeyBytes
      : undefined;
  }

  private pick(key: RecipientKey, createdAt: number): VerifiedPrekey | undefined {
    try {
      return pickVerified([...this.byId.values()], key, createdAt);
    } catch {
      return undefined;
    }
  }

  private async fetch(
    socket: Socket,
    directory: Directory,
    deviceIds: readonly string[],
    prekeyIds?: readonly string[],
  ): Promise<void> {
    const ids = [...new Set(deviceIds)].slice(0, 64);
    const asked = prekeyIds ? { prekeyIds: [...new Set(prekeyIds)].slice(0, 64) } : {};
    const { prekeys } = await request(
      socket,
      'prekeys:get',
      { deviceIds: ids, ...asked },
      PrekeyGetAck,
    );
    const now = Date.now();
    for (const { deviceId, prekeys: list } of prekeys) {
      if (!prekeyIds) {
        // What the device publishes now replaces what was kept of it: forget its other valid ones.
        this.fetchedAt.set(deviceId, now);
        for (const [id, kept] of this.byId) {
          if (kept.deviceId === deviceId && kept.notAfter > now) this.byId.delete(id);
        }
      }
      for (const signed of list) {
        // Which key signed it is in the payload; the directory says whether that key is certified.
        let prekey: VerifiedPrekey;
        try {
          const claimed = JSON.parse(fromUtf8(fromBase64Url(signed.payload)));
          const certificate = directory.certificateOf(deviceId, String(claimed?.keyId));
          if (!certificate) continue;
          prekey = verifyPrekey(signed, certificate);
        } catch {
          continue;
        }
        this.byId.set(prekey.prekeyId, prekey);
      }
    }
    while (this.byId.size > MAX_CACHED) this.byId.delete(this.byId.keys().next().value as string);
  }
}
