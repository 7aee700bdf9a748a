// The private halves of a device's prekeys (PROTOCOL.md §5.6), kept as a one-way chain: the
// state holds only the chain key of the oldest day still needed, every later day's prekey is
// derived from it, and retiring a day replaces the chain key by the next one. A key stolen on
// day 9 derives day 9 onwards, never day 1; and every process of one device (a running chat, a
// one-shot `liaison inbox`) derives the very same prekeys from the same state.
import type { Signed } from '../../protocol/v1/certificate.js';
import { PREKEY_AHEAD_MS, PREKEY_LIFETIME_MS, PrekeyState } from '../../protocol/v1/prekey.js';
import { LiaisonError } from '../errors.js';
import { backend } from './current.js';
import { encode } from './encoding.js';
import type { DeviceKeys } from './keys.js';
import { CLOCK_SKEW_MS, makePrekey, type PrekeyPair, signPrekey } from './prekey.js';
import { fromBase64Url, fromUtf8, sodium, toBase64Url, utf8 } from './sodium.js';

const DAY = PREKEY_LIFETIME_MS;
const dayOf = (time: number) => Math.floor(time / DAY);

/** The chain of one identity key: `chainKey` is the chain key of day number `day`. */
interface Chain {
  readonly keyId: string;
  day: number;
  chainKey: Uint8Array;
}

/** `chain(d + 1) = BLAKE2b-256(encode(["liaison/v1/prekey-chain"]), key = chain(d))` */
const nextChainKey = (chainKey: Uint8Array) =>
  backend().hash(32, encode(['liaison/v1/prekey-chain']), chainKey);
/** The prekey of day `d`: `crypto_box_seed_keypair(BLAKE2b-256(encode(["liaison/v1/prekey-seed", d]), key = chain(d)))` */
const seedOf = (chainKey: Uint8Array, day: number) =>
  backend().hash(32, encode(['liaison/v1/prekey-seed', day]), chainKey);

/**
 * A device's (or the hub's) prekeys. Time is always passed in, never read, so tests run the
 * schedule on a fake clock.
 *
 * @example
 * const store = PrekeyStore.open(keys, saved); // saved: a former `store.seal()`, or undefined
 * await request(socket, 'prekeys:publish', { prekeys: store.schedule(Date.now()) }, PrekeyPublishAck);
 */
export class PrekeyStore {
  readonly #identity: DeviceKeys;
  readonly #chains = new Map<string, Chain>();
  /** Derived pairs by prekey id (a cache of the chains), with the public key decoded. */
  readonly #pairs = new Map<string, Held>();
  /** The same pairs by chain and day (`slot`): found without scanning every pair held. */
  readonly #bySlot = new Map<string, Held>();
  /** The last day number `schedule` published up to. */
  #published = -1;

  constructor(identity: DeviceKeys) {
    this.#identity = identity;
  }

  /**
   * The store of `identity`, from the state `sealed` by `seal()` (a state of another device, or
   * one changed, is PREKEY_STATE_INVALID); a new chain for the identity's key if it has none.
   */
  static open(identity: DeviceKeys, sealed: string | undefined): PrekeyStore {
    const store = new PrekeyStore(identity);
    if (sealed !== undefined) {
      const state = unsealState(sealed, identity);
      for (const c of state.chains) {
        store.#chains.set(c.keyId, {
          keyId: c.keyId,
          day: c.day,
          chainKey: fromBase64Url(c.chainKey),
        });
      }
    }
    return store;
  }

  /**
   * Every prekey of the identity's current key from today to 7 days ahead, signed, to publish
   * (on each connection: the gateway may have lost them). Starts the chain on first use.
   */
  published(now: number): Signed[] {
    const chain = this.#chainOf(this.#identity.keyId, now);
    const signed: Signed[] = [];
    for (let day = Math.max(dayOf(now), chain.day); day <= dayOf(now + PREKEY_AHEAD_MS); day++) {
      signed.push(signPrekey(this.#pair(chain, day).payload, this.#identity));
    }
    return signed;
  }

  /** The prekeys `published(now)` has that no earlier call of `schedule` returned. */
  schedule(now: number): Signed[] {
    const all = this.published(now);
    const first = Math.max(dayOf(now), this.#chainOf(this.#identity.keyId, now).day);
    const fresh = all.filter((_, i) => first + i > this.#published);
    this.#published = Math.max(this.#published, first + all.length - 1);
    return fresh;
  }

  /**
   * Deletes (and zeroes) the prekeys no envelope can still need, oldest first: past `notAfter +
   * 5 min` with the inbox drained after that, or past `notAfter + retentionMs` regardless.
   * `drainedAt` is the last time this device had fetched and acknowledged (or held) everything
   * queued for it. `keep` sees each private key just before it is zeroed (the hub archives it).
   * Returns the prekey ids deleted.
   */
  retire(
    now: number,
    drainedAt: number | undefined,
    retentionMs: number,
    keep?: (prekeyId: string, secretKey: Uint8Array) => void,
  ): string[] {
    const deleted: string[] = [];
    for (const chain of this.#chains.values()) {
      for (;;) {
        const notAfter = (chain.day + 1) * DAY;
        const lastAccepted = notAfter + CLOCK_SKEW_MS;
        const drained = drainedAt !== undefined && drainedAt > lastAccepted && now > lastAccepted;
        if (!(drained || now > notAfter + retentionMs)) break;
        const pair = this.#pair(chain, chain.day);
        keep?.(pair.payload.prekeyId, pair.secretKey);
        deleted.push(pair.payload.prekeyId);
        this.#forget(chain.keyId, chain.day);
        const next = nextChainKey(chain.chainKey);
        backend().wipe(chain.chainKey);
        chain.chainKey = next;
        chain.day += 1;
      }
    }
    return deleted;
  }

  /** The private half of `prekeyId`; OWN_KEY_MISSING once it was retired (or never made here). */
  open(prekeyId: string): Uint8Array {
    const held = this.#pairs.get(prekeyId) ?? this.#find(prekeyId);
    if (!held) throw new LiaisonError('OWN_KEY_MISSING', undefined, { keyIds: [prekeyId] });
    return held.secretKey;
  }

  /** Opens a crypto_box_seal box sealed to `prekeyId`'s public key. */
  openSealed(prekeyId: string, sealed: Uint8Array): Uint8Array {
    const secretKey = this.open(prekeyId);
    const held = this.#pairs.get(prekeyId) as Held;
    try {
      return backend().sealOpen(sealed, held.publicKey, secretKey);
    } catch {
      throw new LiaisonError('DECRYPT_FAILED');
    }
  }

  /** The prekey ids whose private halves can be derived now (up to the last day published). */
  held(): string[] {
    const last = Math.max(this.#published, ...[...this.#chains.values()].map((c) => c.day));
    const ids: string[] = [];
    for (const chain of this.#chains.values()) {
      for (let day = chain.day; day <= last; day++)
        ids.push(this.#pair(chain, day).payload.prekeyId);
    }
    return ids;
  }

  /**
   * The state, sealed for this device alone: XChaCha20-Poly1305 under
   * `BLAKE2b-256(encode(["liaison/v1/prekey-state", deviceId]), key = encryption secret key)`,
   * `base64url(nonce ‖ ciphertext)`, associated data the device id (PROTOCOL.md §5.6).
   */
  seal(): string {
    const state: PrekeyState = {
      v: 1,
      chains: [...this.#chains.values()].map((c) => ({
        keyId: c.keyId,
        day: c.day,
        chainKey: toBase64Url(c.chainKey),
      })),
    };
    const key = stateKey(this.#identity);
    const nonce = sodium.randombytes_buf(sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
    const sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      utf8(JSON.stringify(state)),
      utf8(this.#identity.deviceId),
      null,
      nonce,
      key,
    );
    backend().wipe(key);
    const out = new Uint8Array(nonce.length + sealed.length);
    out.set(nonce);
    out.set(sealed, nonce.length);
    return toBase64Url(out);
  }

  /** Zeroes every chain key and derived private key (the store is unusable afterwards). */
  wipe(): void {
    for (const chain of this.#chains.values()) backend().wipe(chain.chainKey);
    for (const pair of this.#pairs.values()) backend().wipe(pair.secretKey);
    this.#chains.clear();
    this.#pairs.clear();
    this.#bySlot.clear();
  }

  #chainOf(keyId: string, now: number): Chain {
    let chain = this.#chains.get(keyId);
    if (!chain) {
      chain = { keyId, day: dayOf(now), chainKey: sodium.randombytes_buf(32) };
      this.#chains.set(keyId, chain);
    }
    return chain;
  }

  /** The pair of `day` on `chain`; `dayKey` is that day's chain key when the caller has it. */
  #pair(chain: Chain, day: number, dayKey?: Uint8Array): PrekeyPair {
    const cached = this.#bySlot.get(slot(chain.keyId, day));
    if (cached) return cached;
    let key = dayKey ?? chain.chainKey;
    if (!dayKey) {
      for (let d = chain.day; d < day; d++) {
        const next = nextChainKey(key);
        if (key !== chain.chainKey) backend().wipe(key);
        key = next;
      }
    }
    const seed = seedOf(key, day);
    if (!dayKey && key !== chain.chainKey) backend().wipe(key);
    // Signed with the identity in use: a past key's prekeys are only opened, never published.
    const pair = makePrekey(this.#identity, day * DAY, day * DAY, seed);
    backend().wipe(seed);
    const kept: Held = {
      ...pair,
      keyId: chain.keyId,
      day,
      publicKey: fromBase64Url(pair.payload.publicKey),
    };
    this.#pairs.set(pair.payload.prekeyId, kept);
    this.#bySlot.set(slot(chain.keyId, day), kept);
    return kept;
  }

  /** Derives forward (at most 60 days past the last published) to find a prekey id. */
  #find(prekeyId: string) {
    for (const chain of this.#chains.values()) {
      const last = Math.max(this.#published, chain.day) + 60;
      // One walk down the chain: each day's key is derived once from the day before.
      let key = chain.chainKey;
      for (let day = chain.day; day <= last; day++) {
        if (this.#pair(chain, day, key).payload.prekeyId === prekeyId) {
          if (key !== chain.chainKey) backend().wipe(key);
          return this.#pairs.get(prekeyId);
        }
        const next = nextChainKey(key);
        if (key !== chain.chainKey) backend().wipe(key);
        key = next;
      }
      if (key !== chain.chainKey) backend().wipe(key);
    }
    return undefined;
  }

  #forget(keyId: string, day: number): void {
    const pair = this.#bySlot.get(slot(keyId, day));
    if (!pair) return;
    backend().wipe(pair.secretKey);
    this.#pairs.delete(pair.payload.prekeyId);
    this.#bySlot.delete(slot(keyId, day));
  }
}

/** A derived pair as held: which chain and day it is, and its public key decoded. */
type Held = PrekeyPair & {
  readonly keyId: string;
  readonly day: number;
  readonly publicKey: Uint8Array;
};

const slot = (keyId: string, day: number) => `${day} ${keyId}`;

function stateKey(identity: DeviceKeys): Uint8Array {
  return backend().hash(
    32,
    encode(['liaison/v1/prekey-state', identity.deviceId]),
    identity.encryptionSecretKey,
  );
}

function unsealState(sealed: string, identity: DeviceKeys): PrekeyState {
  const invalid = () => new LiaisonError('PREKEY_STATE_INVALID');
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(sealed);
  } catch {
    throw invalid();
  }
  const n = sodium.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
  const key = stateKey(identity);
  let json: unknown;
  try {
    const plain = backend().decrypt(
      bytes.slice(n),
      utf8(identity.deviceId),
      bytes.slice(0, n),
      key,
    );
    json = JSON.parse(fromUtf8(plain));
  } catch {
    throw invalid();
  } finally {
    backend().wipe(key);
  }
  const state = PrekeyState.safeParse(json);
  if (!state.success) throw invalid();
  return state.data;
}
