// Node only. Ed25519 checks of a large batch (a directory of 100,000 devices is ~300,000
// signatures) spread over worker threads, each on native libsodium. What the workers found is
// handed back as a backend whose `verify` answers from it for exactly those (key, signature,
// message) triples and checks everything else itself, so the code that verifies (statements,
// certificates) stays the one path, run once per item, and is merely spared the repeated work.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { CryptoBackend } from './backend.js';
import { SIGNATURE_BYTES, SIGNING_KEY_BYTES } from './backend.js';

/** One detached signature to check. */
export interface SignatureCheck {
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
  readonly publicKey: Uint8Array;
}

let onThreads = 0;
/** How many signatures this process has checked on worker threads (tests count them). */
export const verifiedOnThreads = () => onThreads;

/**
 * Checks per message to a worker: large enough that posting costs little against verifying
 * (256 checks are ~20 ms of work), small enough that a window of a few hundred statements
 * keeps every worker busy.
 */
const CHUNK = 256;
/** Below this many checks (in one call or all calls so far) threads cost more to start than they save. */
export const PARALLEL_FROM = 2_000;

// Plain CommonJS, evaluated in the worker: no loader, no TypeScript, only sodium-native. A
// batch comes as one transferred buffer (see pack): nothing is copied into the worker's memory.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const sodium = require(workerData.sodium);
parentPort.on('message', ({ buffer, count }) => {
  const lengths = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  for (let i = 0, at = count; i < count; i++) {
    const m = lengths.getUint32(at, true), s = lengths.getUint32(at + 4, true), k = lengths.getUint32(at + 8, true);
    const message = bytes.subarray(at + 12, at + 12 + m);
    const signature = bytes.subarray(at + 12 + m, at + 12 + m + s);
    const publicKey = bytes.subarray(at + 12 + m + s, at + 12 + m + s + k);
    at += 12 + m + s + k;
    bytes[i] = s === ${SIGNATURE_BYTES} && k === ${SIGNING_KEY_BYTES} &&
      sodium.crypto_sign_verify_detached(signature, message, publicKey) ? 1 : 0;
  }
  parentPort.postMessage(buffer, [buffer]);
});
`;

/**
 * Checks into one buffer, `into` when it is large enough: first a result byte per check (the
 * worker writes 1 for a good signature), then per check three u32 lengths (little-endian),
 * message, signature, key. The buffer travels to the worker and back, so a start of 300,000
 * checks reuses one buffer a worker instead of allocating a megabyte for every batch.
 */
function pack(checks: readonly SignatureCheck[], into: ArrayBuffer | undefined): ArrayBuffer {
  let size = checks.length;
  for (const c of checks) size += 12 + c.message.length + c.signature.length + c.publicKey.length;
  // Room to spare: the next batch is about as large, and then reuses this one.
  const buffer = into && into.byteLength >= size ? into : new ArrayBuffer(size + (size >> 2));
  const lengths = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  let at = checks.length;
  for (const { message, signature, publicKey } of checks) {
    lengths.setUint32(at, message.length, true);
    lengths.setUint32(at + 4, signature.length, true);
    lengths.setUint32(at + 8, publicKey.length, true);
    at += 12;
    bytes.set(message, at);
    at += message.length;
    bytes.set(signature, at);
    at += signature.length;
    bytes.set(publicKey, at);
    at += publicKey.length;
  }
  return buffer;
}

/**
 * Worker threads that verify batches of checks on native libsodium (default: one per core, at
 * most 4). Where sodium-native or threads are not available, or a batch is small, it checks
 * here with `fallback`. Close it when done.
 *
 * @example
 * const pool = new VerifyPool(backend());
 * try { const ok = await pool.verify(checks); } finally { await pool.close(); }
 */
export class VerifyPool {
  readonly #fallback: CryptoBackend;
  readonly #threads: number;
  #workers: Worker[] | undefined;
  /** Batches wait here for a free worker. */
  #idle: Worker[] = [];
  #waiting: ((worker: Worker) => void)[] = [];
  /** The buffer each worker last handed back, for its next batch. */
  readonly #buffers = new Map<Worker, ArrayBuffer>();
  /** Checks asked for so far: a long batch given in small parts starts the threads too. */
  #asked = 0;

  constructor(fallback: CryptoBackend, threads = Math.min(4, availableParallelism())) {
    this.#fallback = fallback;
    this.#threads = threads;
  }

  /** One boolean per check, in order. */
  async verify(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    this.#asked += checks.length;
    const workers = this.#asked >= PARALLEL_FROM ? this.#start() : [];
    if (workers.length === 0) {
      return checks.map((c) => this.#fallback.verify(c.signature, c.message, c.publicKey));
    }
    const results: boolean[] = new Array(checks.length);
    const chunks: Promise<void>[] = [];
    for (let at = 0; at < checks.length; at += CHUNK) {
      chunks.push(
        this.#run(checks.slice(at, at + CHUNK)).then((ok) => {
          onThreads += ok.length;
          for (let i = 0; i < ok.length; i++) results[at + i] = ok[i] === true;
        }),
      );
    }
    await Promise.all(chunks);
    return results;
  }

  async close(): Promise<void> {
    const workers = this.#workers ?? [];
    this.#workers = [];
    this.#buffers.clear();
    await Promise.all(workers.map((w) => w.terminate()));
  }

  #start(): Worker[] {
    if (this.#workers) return this.#workers;
    this.#workers = [];
    if (this.#threads < 2) return this.#workers;
    let sodium: string;
    try {
      sodium = createRequire(import.meta.url).resolve('sodium-native');
    } catch {
      return this.#workers;
    }
    for (let i = 0; i < this.#threads; i++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { sodium },
        execArgv: [],
      });
      worker.unref();
      this.#workers.push(worker);
      this.#idle.push(worker);
    }
    return this.#workers;
  }

  async #run(checks: SignatureCheck[]): Promise<boolean[]> {
    const worker =
      this.#idle.pop() ?? (await new Promise<Worker>((take) => this.#waiting.push(take)));
    try {
      return await new Promise<boolean[]>((done, fail) => {
        const onError = (error: Error) => {
          worker.off('message', onMessage);
          fail(error);
        };
        const onMessage = (buffer: ArrayBuffer) => {
          worker.off('error', onError);
          // Read before the worker (and its buffer) takes the next batch.
          const ok = new Uint8Array(buffer, 0, checks.length);
          const found = Array.from(ok, (byte) => byte === 1);
          this.#buffers.set(worker, buffer);
          done(found);
        };
        worker.once('message', onMessage);
        worker.once('error', onError);
        const buffer = pack(checks, this.#buffers.get(worker));
        this.#buffers.delete(worker);
        worker.postMessage({ buffer, count: checks.length }, [buffer]);
      });
    } finally {
      const waiter = this.#waiting.shift();
      if (waiter) waiter(worker);
      else this.#idle.push(worker);
    }
  }
}

/**
 * `real` with the outcome of checks already made: `verify` of one of those exact triples (same
 * signature, key and message bytes) answers what was found; anything else is verified by `real`.
 */
export function withVerified(
  real: CryptoBackend,
  checks: readonly SignatureCheck[],
  results: readonly boolean[],
): CryptoBackend {
  type Known = { check: SignatureCheck; ok: boolean };
  // Callers that pass the very arrays they checked ahead are found by identity; any other
  // arrays by their bytes, indexed only if someone asks.
  const byArray = new Map<Uint8Array, Known>();
  for (let i = 0; i < checks.length; i++) {
    const check = checks[i] as SignatureCheck;
    byArray.set(check.signature, { check, ok: results[i] === true });
  }
  let byBytes: Map<string, Known[]> | undefined;
  const indexed = () => {
    if (byBytes) return byBytes;
    byBytes = new Map();
    for (let i = 0; i < checks.length; i++) {
      const check = checks[i] as SignatureCheck;
      const key = keyOf(check.signature);
      byBytes.set(key, [...(byBytes.get(key) ?? []), { check, ok: results[i] === true }]);
    }
    return byBytes;
  };
  const matches = (
    check: SignatureCheck,
    signature: Uint8Array,
    message: Uint8Array,
    key: Uint8Array,
  ) =>
    sameBytes(check.signature, signature) &&
    sameBytes(check.publicKey, key) &&
    sameBytes(check.message, message);
  return {
    ...real,
    verify(signature, message, publicKey) {
      const same = byArray.get(signature);
      const found =
        same && matches(same.check, signature, message, publicKey)
          ? same
          : indexed()
              .get(keyOf(signature))
              ?.find(({ check }) => matches(check, signature, message, publicKey));
      return found ? found.ok : real.verify(signature, message, publicKey);
    },
  };
}

const keyOf = (signature: Uint8Array) =>
  Buffer.from(signature.buffer, signature.byteOffset, signature.byteLength).toString('base64');

/** Public values (signatures, keys, signed messages): no constant time needed. */
const sameBytes = (a: Uint8Array, b: Uint8Array) =>
  a === b ||
  (a.length === b.length &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ));
