import type { Signed } from '../../protocol/v1/certificate.js';
import { RecordCheckpointPayload } from '../../protocol/v1/checkpoint.js';
import type { DeviceKeys } from '../crypto/keys.js';
import { openSigned, signObject } from '../crypto/signed.js';
import { fromBase64Url, fromUtf8, ready } from '../crypto/sodium.js';
import { LiaisonError } from '../errors.js';
import type { Directory } from './directory.js';

// Record checkpoints (PROTOCOL.md §10a): the hub signs them, and anyone holding the directory
// (analysts, offices, an auditor with an exported file) checks them against a certified hub key.

const DOMAIN = 'liaison/v1/record-checkpoint';

/** The hub signs where its record stands, with its own key (never in Redis). */
export async function signCheckpoint(
  hubKeys: DeviceKeys,
  head: { seq: number; hash: string },
  at: number = Date.now(),
): Promise<Signed> {
  await ready;
  const payload: RecordCheckpointPayload = {
    v: 1,
    type: 'liaison.record-checkpoint',
    hub: hubKeys.deviceId,
    keyId: hubKeys.keyId,
    seq: head.seq,
    hash: head.hash,
    at,
  };
  return signObject(DOMAIN, payload, hubKeys.signingSecretKey);
}

/** Checks a checkpoint's signature against a hub key the directory certified. */
export function verifyCheckpoint(signed: Signed, directory: Directory): RecordCheckpointPayload {
  let claimed: unknown;
  try {
    claimed = JSON.parse(fromUtf8(fromBase64Url(signed.payload)));
  } catch {
    throw new LiaisonError('CHECKPOINT_INVALID', 'payload is not JSON');
  }
  const named = RecordCheckpointPayload.safeParse(claimed);
  if (!named.success) throw new LiaisonError('CHECKPOINT_INVALID', 'payload does not match');
  // A hub key usable when it signed: certified, not rotated out, not revoked.
  let certificate: ReturnType<Directory['usableKey']>;
  try {
    certificate = directory.usableKey(named.data.hub, named.data.keyId, named.data.at);
  } catch (error) {
    throw new LiaisonError('CHECKPOINT_INVALID', 'not signed with a usable hub key', {
      reason: error instanceof LiaisonError ? error.code : 'UNKNOWN',
    });
  }
  if (certificate.role !== 'hub') {
    throw new LiaisonError('CHECKPOINT_INVALID', 'not signed with a hub key');
  }
  openSigned(DOMAIN, signed, certificate.signingPublicKey, {
    invalid: 'CHECKPOINT_INVALID',
    untrusted: 'CHECKPOINT_INVALID',
  });
  return named.data;
}

/**
 * Of two checkpoints a device kept (each verified when it was kept), the one further along the
 * record by what it says: the higher position, or at one position the later; `a` when neither
 * is, or when one cannot be read. For merging what two processes of one device saved, never for
 * trusting one served (verifyCheckpoint).
 *
 * @example
 * const kept = furtherCheckpoint(client.checkpoint, onDisk.knownCheckpoint);
 */
export function furtherCheckpoint(
  a: Signed | undefined,
  b: Signed | undefined,
): Signed | undefined {
  const [x, y] = [a && claimed(a), b && claimed(b)];
  if (!x || !y) return a ?? b;
  return y.seq > x.seq || (y.seq === x.seq && y.at > x.at) ? b : a;
}

function claimed(signed: Signed): RecordCheckpointPayload | undefined {
  try {
    const parsed = RecordCheckpointPayload.safeParse(
      JSON.parse(fromUtf8(fromBase64Url(signed.payload))),
    );
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
