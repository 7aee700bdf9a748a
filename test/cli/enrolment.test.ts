import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../src/crypto/sodium.js';
import { RedisEngine } from '../../src/engine/redis.js';
import { readAuthorityKey, readDeviceKey } from '../../src/keystore/keyfile.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { freePort } from '../fixtures/ports.js';

// keys/README.md's walk-through, run as written: an administrator enrols a new office and revokes
// a lost laptop with child processes of the CLI, against a gateway process on real Redis.
const root = join(import.meta.dirname, '..', '..');
const LOADER = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const MAIN = join(root, 'src', 'cli', 'main.ts');

const PASSPHRASES = {
  CARICC_PASSPHRASE: 'two halves of the authority passphrase',
  DEVICE_PASSPHRASE: 'Panji Poyon laptop passphrase',
  HUB_KEY_PASSPHRASE: 'hub host passphrase, from systemd',
};

/** The README's sh blocks from a heading to the next heading of the same level. */
function commandsOf(readme: string, heading: string): string[] {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`keys/README.md has no "## ${heading}"`);
  const next = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) =>
    (m[1] ?? '').split('\n').filter((line) => line.trim() && !line.startsWith('#')),
  );
}

/** The shared test machine seals at Argon2id's floor; the README's commands use the default. */
const cheaper = (line: string) =>
  /liaison keys (authority|request) /.test(line) ? `${line} --kdf interactive` : line;

interface Result {
  line: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('keys/README.md: enrolling a new office and revoking a lost laptop', () => {
  let dir: string;
  let gateway: ChildProcess | undefined;
  const gatewayLog: string[] = [];
  const prefix = `liaison-test:${randomUUID()}:`;
  // Found free in beforeAll (a random one could be taken).
  let port = 0;
  let url = '';
  const results: Result[] = [];
  let env: NodeJS.ProcessEnv;

  const sh = (line: string, extra: Record<string, string> = {}) =>
    new Promise<Result>((done) => {
      const child = spawn('bash', ['-c', line], { cwd: dir, env: { ...env, ...extra } });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk;
      });
      child.on('close', (code) => {
        const result = { line, code, stdout, stderr };
        results.push(result);
        done(result);
      });
    });

  const ok = async (line: string) => {
    const result = await sh(line);
    expect(result.stderr, line).toBe('');
    expect(result.code, `${line}\n${result.stderr}`).toBe(0);
    return result.stdout;
  };

  async function startGateway() {
    gateway = spawn(process.execPath, ['--import', LOADER, MAIN, 'gateway'], {
      cwd: dir,
      env: {
        ...env,
        PORT: String(port),
        AUTHORITY_FILE: 'ca/authority.pub.json',
        LOG_LEVEL: 'debug',
      },
    });
    gateway.stdout?.on('data', (chunk: Buffer) => gatewayLog.push(chunk.toString()));
    gateway.stderr?.on('data', (chunk: Buffer) => gatewayLog.push(chunk.toString()));
    for (let i = 0; i < 1200; i++) {
      try {
        if ((await fetch(`${url}/readyz`)).ok) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`the gateway did not become ready: ${gatewayLog.join('')}`);
  }

  beforeAll(async () => {
    port = await freePort();
    url = `http://127.0.0.1:${port}`;
    dir = await mkdtemp(join(tmpdir(), 'liaison-enrol-'));
    const bin = join(dir, 'bin');
    await mkdir(bin);
    await writeFile(
      join(bin, 'liaison'),
      `#!/bin/sh\nexec "${process.execPath}" --import "${LOADER}" "${MAIN}" "$@"\n`,
    );
    await chmod(join(bin, 'liaison'), 0o755);
    env = {
      ...process.env,
      ...PASSPHRASES,
      PATH: `${bin}:${process.env.PATH}`,
      GATEWAY: url,
      REDIS_URL,
      REDIS_PREFIX: prefix,
    };
  });

  afterAll(async () => {
    if (gateway && gateway.exitCode === null) {
      const exited = new Promise((done) => gateway?.once('exit', done));
      gateway.kill('SIGTERM');
      await Promise.race([exited, sleep(15_000)]);
      if (gateway.exitCode === null) gateway.kill('SIGKILL');
    }
    const engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 1 });
    await engine.destroy();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the office enrols with keys made on its laptop, logs in, and is cut off once revoked', {
    timeout: 600_000,
  }, async () => {
    const readme = await readFile(join(root, 'keys', 'README.md'), 'utf8');
    const enrol = commandsOf(readme, 'Enrolling a new office');
    const revoke = commandsOf(readme, 'Revoking a lost laptop');
    expect(enrol.length).toBeGreaterThan(10);

    for (const line of enrol) {
      if (line.includes('$GATEWAY') && !gateway) await startGateway();
      await ok(cheaper(line));
    }
    const byCommand = (part: string) => results.find((r) => r.line.includes(part))?.stdout ?? '';
    // The safety number the officer reads out is the one CARICC approved and the channel serves.
    const safety = byCommand('keys request --device TJ-PANJ/desk-1').match(
      /safety number[^:]*: ([\d ]+)/,
    )?.[1];
    expect(safety).toMatch(/^(\d{5} ){7}\d{5}$/);
    expect(
      byCommand(
        'admin approve --authority ca/authority.key --directory ca/directory.json --passphrase-env CARICC_PASSPHRASE --request panj-desk-1',
      ),
    ).toContain(safety);
    expect(byCommand('liaison directory --key panj-desk-1.key')).toMatch(
      new RegExp(`TJ-PANJ/desk-1 +${safety}`),
    );
    expect(byCommand('liaison directory --key panj-desk-1.key')).toContain('linked to AF-SHERKHAN');
    expect(byCommand('liaison inbox --key panj-desk-1.key')).toContain('nothing waiting');
    expect(byCommand('hub checkpoint')).toContain('checkpoint written');

    // A wrong passphrase opens neither the laptop's key nor the hub's: one clear code.
    const inbox = enrol.find((l) => l.startsWith('liaison inbox')) as string;
    const wrong = await sh(inbox, { DEVICE_PASSPHRASE: 'a guess at the passphrase' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('KEY_FILE_PASSPHRASE_WRONG');
    const checkpoint = enrol.find((l) => l.includes('hub checkpoint')) as string;
    const wrongHub = await sh(checkpoint.replace('checkpoint.json', 'other.json'), {
      HUB_KEY_PASSPHRASE: 'not the hub passphrase',
    });
    expect(wrongHub.code).toBe(1);
    expect(wrongHub.stderr).toContain('KEY_FILE_PASSPHRASE_WRONG');

    for (const line of revoke) await ok(line);
    const lost = await sh(inbox);
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain('DEVICE_REVOKED');

    // Nothing the run printed or logged, nor any public file it made, holds a key or passphrase.
    const device = await readDeviceKey(join(dir, 'panj-desk-1.key'), {
      value: PASSPHRASES.DEVICE_PASSPHRASE,
    });
    const hub = await readDeviceKey(join(dir, 'hub.key'), {
      value: PASSPHRASES.HUB_KEY_PASSPHRASE,
    });
    const authority = await readAuthorityKey(join(dir, 'ca', 'authority.key'), {
      value: PASSPHRASES.CARICC_PASSPHRASE,
    });
    const secrets = [
      device.keys.signingSecretKey,
      device.keys.signingSecretKey.subarray(0, 32),
      device.keys.encryptionSecretKey,
      hub.keys.signingSecretKey,
      hub.keys.signingSecretKey.subarray(0, 32),
      hub.keys.encryptionSecretKey,
      authority.signingSecretKey,
      authority.signingSecretKey.subarray(0, 32),
    ].flatMap((bytes) => [
      toBase64Url(bytes),
      Buffer.from(bytes).toString('base64'),
      Buffer.from(bytes).toString('hex'),
    ]);
    const publicFiles = await Promise.all(
      [
        'panj-desk-1.request.json',
        'panj-desk-1.approval.json',
        'hub.request.json',
        'hub.approval.json',
        'ca/directory.json',
        'ca/authority.pub.json',
        'checkpoint.json',
      ].map((file) => readFile(join(dir, file), 'utf8')),
    );
    const everything = [
      gatewayLog.join(''),
      ...results.flatMap((r) => [r.stdout, r.stderr]),
      ...publicFiles,
    ].join('\n');
    expect(gatewayLog.join('').length).toBeGreaterThan(0);
    for (const secret of [...secrets, ...Object.values(PASSPHRASES)]) {
      expect(everything.includes(secret), 'a key or passphrase leaked').toBe(false);
    }
  });
});
