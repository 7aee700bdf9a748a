import { fromBase64Url, sodium, toBase64Url } from '../crypto/sodium.js';
import type { RedisConnection } from '../engine/redis/connection.js';

/**
 * The hub's retired prekeys, each private half sealed (crypto_box_seal) to CARICC's archive key,
 * which is never on the hub host (PROTOCOL.md §5.6). Only a holder of the archive secret key
 * opens what the record holds beyond the hub's window.
 */
export interface PrekeyArchive {
  put(prekeyId: string, sealed: Uint8Array): Promise<void>;
  get(prekeyId: string): Promise<Uint8Array | undefined>;
}

/** The archive in Redis: one hash, prekey id → sealed private half. */
export class RedisPrekeyArchive implements PrekeyArchive {
  constructor(private readonly connection: RedisConnection) {}

  async put(prekeyId: string, sealed: Uint8Array): Promise<void> {
    await this.connection.redis.hset(
      this.connection.keys.hubPrekeyArchive,
      prekeyId,
      toBase64Url(sealed),
    );
  }

  async get(prekeyId: string): Promise<Uint8Array | undefined> {
    const text = await this.connection.redis.hget(this.connection.keys.hubPrekeyArchive, prekeyId);
    return text ? fromBase64Url(text) : undefined;
  }
}

/**
 * Opens an archived prekey's private half with the archive key pair (on the archive
 * workstation); undefined when it is not archived or not sealed to this key.
 */
export async function openArchived(
  archive: PrekeyArchive,
  prekeyId: string,
  archiveKey: { publicKey: Uint8Array; secretKey: Uint8Array },
): Promise<Uint8Array | undefined> {
  const sealed = await archive.get(prekeyId);
  if (!sealed) return undefined;
  try {
    return sodium.crypto_box_seal_open(sealed, archiveKey.publicKey, archiveKey.secretKey);
  } catch {
    return undefined;
  }
}
