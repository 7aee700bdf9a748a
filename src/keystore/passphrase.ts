import { readFileSync } from 'node:fs';
import { LiaisonError } from '../errors.js';

/**
 * Where a passphrase comes from: a person at a terminal, or, for services, an environment
 * variable or an inherited file descriptor named by the operator. `value` is for programs that
 * hold the passphrase themselves (the SDK's Node entry, tests).
 */
export type PassphraseSource =
  | { readonly env: string }
  | { readonly fd: number }
  | { readonly terminal: true }
  | { readonly value: string };

/** Passphrases shorter than this are refused when a key file is made (not when one is opened). */
export const MIN_PASSPHRASE_LENGTH = 8;
const MAX_PASSPHRASE_BYTES = 4096;

/**
 * Reads the passphrase as UTF-8 bytes, which the caller wipes after use. `confirm` asks twice at
 * a terminal (for a new key file). A missing source or an empty passphrase is
 * KEY_FILE_PASSPHRASE_MISSING, with what to do in the message.
 */
export async function readPassphrase(
  source: PassphraseSource | undefined,
  what: string,
  options: { confirm?: boolean } = {},
): Promise<Buffer> {
  const bytes = await rawPassphrase(source, what, options.confirm ?? false);
  if (bytes.length === 0 || bytes.length > MAX_PASSPHRASE_BYTES) {
    throw new LiaisonError(
      'KEY_FILE_PASSPHRASE_MISSING',
      `${what}: the passphrase is empty or longer than ${MAX_PASSPHRASE_BYTES} bytes`,
    );
  }
  return bytes;
}

async function rawPassphrase(
  source: PassphraseSource | undefined,
  what: string,
  confirm: boolean,
): Promise<Buffer> {
  if (source === undefined) {
    throw new LiaisonError(
      'KEY_FILE_PASSPHRASE_MISSING',
      `${what} is sealed: run at a terminal to be asked, or give --passphrase-env NAME or --passphrase-fd N`,
    );
  }
  if ('value' in source) return Buffer.from(source.value, 'utf8');
  if ('env' in source) {
    const value = process.env[source.env];
    if (!value) {
      throw new LiaisonError(
        'KEY_FILE_PASSPHRASE_MISSING',
        `${what}: the environment variable ${source.env} holding its passphrase is not set`,
      );
    }
    return Buffer.from(value, 'utf8');
  }
  if ('fd' in source) return withoutLineEnd(readFileSync(source.fd));
  const first = await askAtTerminal(`Passphrase for ${what}: `);
  if (!confirm) return first;
  const second = await askAtTerminal('Again, to confirm: ');
  const same = first.equals(second);
  second.fill(0);
  if (!same) {
    first.fill(0);
    throw new LiaisonError('KEY_FILE_PASSPHRASE_MISSING', 'the two passphrases differ');
  }
  return first;
}

/** One line from a file descriptor: a service's secret file or pipe usually ends in a newline. */
function withoutLineEnd(bytes: Buffer): Buffer {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === 0x0a) end--;
  if (end > 0 && bytes[end - 1] === 0x0d) end--;
  return bytes.subarray(0, end);
}

/** Reads a line from the terminal without echoing it (raw mode; Ctrl-C aborts). */
function askAtTerminal(prompt: string): Promise<Buffer> {
  const input = process.stdin;
  if (!input.isTTY) {
    return Promise.reject(
      new LiaisonError(
        'KEY_FILE_PASSPHRASE_MISSING',
        'no terminal to ask for the passphrase: give --passphrase-env NAME or --passphrase-fd N',
      ),
    );
  }
  // Echo goes off before the prompt shows, so nothing typed after it can be echoed.
  input.setRawMode(true);
  process.stderr.write(prompt);
  const typed: number[] = [];
  return new Promise((resolve, reject) => {
    const finish = (error?: Error) => {
      input.setRawMode(false);
      input.pause();
      input.off('data', onData);
      process.stderr.write('\n');
      const line = Buffer.from(typed);
      typed.fill(0);
      if (error) reject(error);
      else resolve(line);
    };
    const onData = (chunk: Buffer) => {
      for (const byte of chunk) {
        if (byte === 0x0d || byte === 0x0a) return finish();
        if (byte === 0x03) return finish(new Error('cancelled'));
        if (byte === 0x7f || byte === 0x08) typed.pop();
        else typed.push(byte);
      }
      chunk.fill(0);
    };
    input.resume();
    input.on('data', onData);
  });
}
