import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAuthorityKey } from '../../src/keystore/keyfile.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const LOADER = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const CLI = [process.execPath, '--import', LOADER, join(root, 'src', 'cli', 'main.ts')];
const PASSPHRASE = 'typed at the Kordai desk';

/** Runs the CLI on a pseudo-terminal (test/fixtures/terminal.py), typing each answer at its prompt. */
async function atTerminal(args: string[], answers: [string, string][], cwd: string) {
  const spec = JSON.stringify({ argv: [...CLI, ...args], cwd, answers });
  const { stdout } = await run('python3', [join(root, 'test', 'fixtures', 'terminal.py'), spec], {
    timeout: 300_000,
  });
  return JSON.parse(stdout) as { transcript: string; code: number };
}

describe('a passphrase typed at the terminal', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-tty-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is asked twice for a new key file and never echoed', { timeout: 300_000 }, async () => {
    const made = await atTerminal(
      ['keys', 'authority', '--dir', 'ca', '--kdf', 'interactive'],
      [
        ['Passphrase for', PASSPHRASE],
        ['Again', PASSPHRASE],
      ],
      dir,
    );
    expect(made.code, made.transcript).toBe(0);
    expect(made.transcript).toContain('keep it offline');
    expect(made.transcript).not.toContain(PASSPHRASE);
    const keys = await readAuthorityKey(join(dir, 'ca', 'authority.key'), { value: PASSPHRASE });
    expect(made.transcript).toContain(keys.keyId);
  });

  it('opens the file when right, and refuses with one code when wrong', {
    timeout: 300_000,
  }, async () => {
    const head = [
      'admin',
      'head',
      '--authority',
      'ca/authority.key',
      '--directory',
      'ca/directory.json',
    ];
    const wrong = await atTerminal(head, [['Passphrase for', 'typed at the Kordai desk?']], dir);
    expect(wrong.code).toBe(1);
    expect(wrong.transcript).toContain('KEY_FILE_PASSPHRASE_WRONG');
    const right = await atTerminal(head, [['Passphrase for', PASSPHRASE]], dir);
    expect(right.code, right.transcript).toBe(0);
    expect(right.transcript).toContain('signed the head');
    expect(right.transcript).not.toContain(PASSPHRASE);
  });

  it('two different answers make no key file', { timeout: 300_000 }, async () => {
    const result = await atTerminal(
      ['keys', 'authority', '--dir', 'other', '--kdf', 'interactive'],
      [
        ['Passphrase for', PASSPHRASE],
        ['Again', `${PASSPHRASE}!`],
      ],
      dir,
    );
    expect(result.code).toBe(1);
    expect(result.transcript).toContain('the two passphrases differ');
  });
});
