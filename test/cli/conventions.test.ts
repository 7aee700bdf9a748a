import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENVELOPE_VERSION } from '../../protocol/v1/envelope.js';
import { generateDevKeySet, keySetPaths } from '../../src/keystore/devset.js';
import { liaison } from '../fixtures/cli.js';

/** The CLI as people expect one (gh, kubectl): help, version, errors that name the flag and fix. */
describe('liaison as a command-line tool', () => {
  let dir: string;
  let paths: ReturnType<typeof keySetPaths>;
  let dead: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-conventions-'));
    await generateDevKeySet(dir);
    paths = keySetPaths(dir);
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    dead = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    await new Promise((done) => server.close(done));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints help to stdout with exit 0, every option of each command listed, and its version', {
    timeout: 120_000,
  }, async () => {
    const [top, version, alert, inbox, tail, directory] = await Promise.all([
      liaison(['--help']),
      liaison(['--version']),
      liaison(['alert', '--help']),
      liaison(['inbox', '--help']),
      liaison(['hub', 'tail', '--help']),
      liaison(['directory', '--help']),
    ]);
    for (const r of [top, version, alert, inbox, tail, directory]) {
      expect(r.code).toBe(0);
      expect(r.stderr).toBe('');
    }
    expect(top.stdout).toContain('Exit codes: 0');
    expect(version.stdout).toBe(`liaison 0.1.0 (protocol v${ENVELOPE_VERSION})\n`);
    const flags = (text: string, names: string[]) => {
      for (const name of names) expect(text).toContain(`--${name}`);
    };
    const client = [
      'key',
      'gateway',
      'authority',
      'audience',
      'json',
      'passphrase-env',
      'passphrase-fd',
    ];
    flags(alert.stdout, [
      ...client,
      'title',
      'category',
      'precedence',
      'description',
      'bcp',
      'plate',
      'person',
      'hours',
    ]);
    expect(alert.stdout).toContain('drug-seizure');
    expect(alert.stdout).toContain('FLASH');
    flags(inbox.stdout, [...client, 'ack', 'done']);
    flags(directory.stdout, client);
    flags(tail.stdout, [
      'key',
      'hub',
      'authority',
      'audience',
      'gateway',
      'office',
      'border',
      'kind',
      'precedence',
      'after',
      'token-lifetime',
      'json',
      'passphrase-env',
      'passphrase-fd',
    ]);
  });

  it('errors name the flag and the fix, with exit 2 for usage and 1 for an unreachable gateway, and JSON under --json', {
    timeout: 120_000,
  }, async () => {
    const key = paths.deviceKey('KZ-KORDAI/desk-1');
    const common = ['--gateway', dead, '--authority', paths.authorityPublic];
    const [category, publicKey, down, unknown, json] = await Promise.all([
      liaison(['alert', 'KG-AKZHOL', '--key', key, '--title', 't', '--category', 'smuggling']),
      liaison(['inbox', '--key', paths.authorityPublic, ...common]),
      liaison(['inbox', '--key', key, ...common]),
      liaison(['inbox', '--frobnicate']),
      liaison(['inbox', '--key', key, ...common, '--json']),
    ]);
    expect(category).toMatchObject({ code: 2 });
    expect(category.stderr).toContain('--category: expected one of drug-seizure');
    expect(publicKey).toMatchObject({ code: 2 });
    expect(publicKey.stderr).toContain(`--key ${paths.authorityPublic}: not a device key file`);
    expect(publicKey.stderr).toContain('holds no private key');
    expect(down).toMatchObject({ code: 1 });
    expect(down.stderr).toContain(`cannot reach the gateway at ${dead}`);
    expect(down.stderr).not.toContain('fetch failed');
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.stderr).toContain('--frobnicate');
    expect(unknown.stderr).toContain('liaison inbox --help');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stderr)).toMatchObject({ error: { code: 'UNAVAILABLE' } });
  });
});
