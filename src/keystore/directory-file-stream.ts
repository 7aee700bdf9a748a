// Node only. A directory file of 100,000 devices is ~180 MB of JSON: parsed whole it costs its
// text and every statement as objects at once, and a server's memory keeps that peak long after.
// Read here in chunks instead, each statement parsed on its own when it is wanted.
import { open } from 'node:fs/promises';
import { Signed } from '../../protocol/v1/certificate.js';
import { DirectoryFile } from './directory-file.js';

const CHUNK_BYTES = 1 << 20;
/** A statement is at most 16 KiB of base64url and a signature; anything far longer is not one. */
const MAX_VALUE_BYTES = 64 * 1024;

/** Everything of a directory file but its statements. */
const Header = DirectoryFile.omit({ statements: true });
export type DirectoryFileHeader = ReturnType<typeof Header.parse>;

/**
 * A directory file's authority and head, checked as `DirectoryFile` checks them, read without
 * holding the file (its statements are skipped, not parsed; `readDirectoryStatements` reads them).
 */
export async function readDirectoryHeader(path: string): Promise<DirectoryFileHeader> {
  const scan = scanFile(path, false);
  let step = await scan.next();
  while (!step.done) step = await scan.next();
  const parsed = Header.safeParse(step.value);
  if (!parsed.success) throw new SyntaxError(`${path} is not a directory file`);
  return parsed.data;
}

/** The statements of a directory file in order, in batches of up to `size`, each checked. */
export async function* readDirectoryStatements(path: string, size: number) {
  let batch: Signed[] = [];
  let n = 0;
  for await (const texts of scanFile(path, true)) {
    for (const text of texts) {
      n++;
      let parsed: ReturnType<typeof Signed.safeParse> | undefined;
      try {
        parsed = Signed.safeParse(JSON.parse(text));
      } catch {
        parsed = undefined;
      }
      if (!parsed?.success) throw new SyntaxError(`${path}: statement ${n} is not a signed object`);
      batch.push(parsed.data);
      if (batch.length === size) {
        yield batch;
        batch = [];
      }
    }
  }
  if (batch.length > 0) yield batch;
}

const isSpace = (byte: number) => byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
const [QUOTE, BACKSLASH, COMMA, COLON] = [0x22, 0x5c, 0x2c, 0x3a];
const [OPEN_OBJECT, CLOSE_OBJECT, OPEN_ARRAY, CLOSE_ARRAY] = [0x7b, 0x7d, 0x5b, 0x5d];

/**
 * Walks the file's top-level object: yields the texts of the `statements` array's elements
 * chunk by chunk (none when `statements` is false) and returns every other member, parsed.
 */
async function* scanFile(
  path: string,
  statements: boolean,
): AsyncGenerator<string[], Record<string, unknown>> {
  const file = await open(path);
  const bad = (why: string) => new SyntaxError(`${path} is not a directory file (${why})`);
  let chunk: Buffer = Buffer.alloc(0);
  let at = 0;
  let eof = false;
  /** Texts of elements completed in this chunk, handed out before the next read. */
  let done: string[] = [];
  // Two buffers read into in turn rather than a new megabyte for each read: a value is far
  // shorter than a chunk (MAX_VALUE_BYTES), so one read spans at most the chunk before it.
  const buffers = [Buffer.allocUnsafe(CHUNK_BYTES), Buffer.allocUnsafe(CHUNK_BYTES)];
  let reads = 0;
  const fill = async () => {
    chunk = buffers[reads++ % 2] as Buffer;
    const { bytesRead } = await file.read(chunk, 0, CHUNK_BYTES, null);
    chunk = chunk.subarray(0, bytesRead);
    at = 0;
    eof = bytesRead === 0;
  };
  /** The next byte that is not whitespace (−1 at the end), left unread. */
  const peek = async (): Promise<number> => {
    for (;;) {
      while (at < chunk.length && isSpace(chunk[at] as number)) at++;
      if (at < chunk.length) return chunk[at] as number;
      if (eof) return -1;
      await fill();
      if (eof) return -1;
    }
  };
  const expect = async (byte: number) => {
    if ((await peek()) !== byte) throw bad(`expected ${String.fromCharCode(byte)}`);
    at++;
  };
  /** Reads one JSON value whole; its text, unless `keep` is false. */
  const value = async (keep: boolean): Promise<string> => {
    await peek();
    const parts: Buffer[] = [];
    let size = 0;
    let depth = 0;
    let inString = false;
    let escaped = false;
    let start = at;
    for (;;) {
      let end = -1;
      for (let i = at; i < chunk.length; i++) {
        if (inString) {
          // Strings are most of the file: jump to the next quote, escaped if an odd run of
          // backslashes stands before it (one left over from the chunk before counts too).
          if (escaped) {
            escaped = false;
            continue;
          }
          const quote = chunk.indexOf(QUOTE, i);
          const stop = quote < 0 ? chunk.length : quote;
          let run = 0;
          while (stop - run - 1 >= i && chunk[stop - run - 1] === BACKSLASH) run++;
          if (quote < 0) {
            escaped = run % 2 === 1;
            i = chunk.length;
            break;
          }
          i = quote;
          if (run % 2 === 1) continue;
          inString = false;
          if (depth === 0) {
            end = i + 1;
            break;
          }
          continue;
        }
        const byte = chunk[i] as number;
        if (byte === QUOTE) inString = true;
        else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) depth++;
        else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
          if (depth === 0) {
            end = i;
            break;
          }
          if (--depth === 0) {
            end = i + 1;
            break;
          }
        } else if (depth === 0 && (byte === COMMA || isSpace(byte))) {
          end = i;
          break;
        }
      }
      if (end >= 0) {
        if (keep) parts.push(chunk.subarray(start, end));
        at = end;
        break;
      }
      size += chunk.length - start;
      if (keep) {
        if (size > MAX_VALUE_BYTES) throw bad('a value far too long');
        parts.push(chunk.subarray(start));
      }
      if (eof) throw bad('it ends in the middle of a value');
      // What was completed is handed out before the chunk is replaced.
      await fill();
      if (eof) throw bad('it ends in the middle of a value');
      start = 0;
    }
    if (!keep) return '';
    return parts.length === 1
      ? (parts[0] as Buffer).toString('utf8')
      : Buffer.concat(parts).toString('utf8');
  };

  try {
    const members: Record<string, unknown> = {};
    let sawStatements = false;
    await expect(OPEN_OBJECT);
    let first = true;
    for (;;) {
      if ((await peek()) === CLOSE_OBJECT) {
        at++;
        break;
      }
      if (!first) await expect(COMMA);
      first = false;
      const key = JSON.parse(await value(true)) as unknown;
      if (typeof key !== 'string' || key in members || (key === 'statements' && sawStatements))
        throw bad('a member is not a new name');
      await expect(COLON);
      if (key !== 'statements') {
        members[key] = JSON.parse(await value(true));
        continue;
      }
      sawStatements = true;
      await expect(OPEN_ARRAY);
      for (let element = 0; ; element++) {
        if ((await peek()) === CLOSE_ARRAY) {
          at++;
          break;
        }
        if (element > 0) await expect(COMMA);
        const before = chunk;
        const text = await value(statements);
        if (statements) done.push(text);
        if (chunk !== before && done.length > 0) {
          yield done;
          done = [];
        }
      }
      if (done.length > 0) yield done;
      done = [];
    }
    if ((await peek()) !== -1) throw bad('text after the directory');
    if (!sawStatements) throw bad('no statements');
    return members;
  } catch (error) {
    if (error instanceof SyntaxError)
      throw error.message.startsWith(path) ? error : bad(error.message);
    throw error;
  } finally {
    await file.close();
  }
}
