import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinAuthority, publishAuthority } from '../../src/crypto/certificate.js';
import { generateAuthorityKeys } from '../../src/crypto/keys.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { type Hub, startHub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { generateDevKeySet, keySetPaths } from '../../src/keystore/devset.js';
import { readDeviceKey } from '../../src/keystore/keyfile.js';
import { startDevSetGateway } from '../fixtures/dev-gateway.js';
import { REDIS_URL } from '../fixtures/engines.js';

const root = join(import.meta.dirname, '..', '..');
const LOADER = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');
const run = promisify(execFile);
const liaison = (...args: string[]) =>
  run(process.execPath, ['--import', LOADER, join(root, 'src', 'cli', 'main.ts'), ...args]).then(
    ({ stdout }) => ({ code: 0, stdout }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      stdout: `${error.stdout}${error.stderr}`,
    }),
  );

describe('the office and analyst commands', () => {
  let dir: string;
  const prefix = `liaison-test:${randomUUID()}:`;
  let engines: RedisEngine[];
  let store: HubStore;
  let gateway: Gateway;
  let hub: Hub;
  let tail: ChildProcess;
  let tailed = '';

  // A development key set (three Console files at 600,000 PBKDF2 rounds): seconds when busy.
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-office-'));
    await generateDevKeySet(dir);
    const paths = keySetPaths(dir);
    const authority = await pinAuthority(JSON.parse(await readFile(paths.authorityPublic, 'utf8')));
    engines = [0, 1].map(() => new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 60_000 }));
    store = new HubStore(REDIS_URL, prefix);
    const logger = pino({ level: 'silent' });
    gateway = await startDevSetGateway(dir, engines[0] as RedisEngine);
    hub = await startHub(
      {
        host: '127.0.0.1',
        port: 0,
        audience: 'liaison-hub',
        consumer: 'cli-test',
        deadlines: { FLASH: 60_000, IMMEDIATE: 60_000 },
        retentionMs: 3_600_000,
      },
      {
        engine: engines[1] as RedisEngine,
        store,
        hubKeys: (await readDeviceKey(paths.deviceKey('CARICC/hub'))).keys,
        authority,
        logger,
      },
    );
    tail = spawn(process.execPath, [
      '--import',
      LOADER,
      join(root, 'src', 'cli', 'main.ts'),
      'hub',
      'tail',
      '--key',
      paths.deviceKey('CARICC/analyst-1'),
      '--hub',
      hub.url,
      '--authority',
      paths.authorityPublic,
    ]);
    tail.stdout?.on('data', (chunk: Buffer) => (tailed += chunk.toString()));
  }, 120_000);
  afterAll(async () => {
    tail.kill();
    await hub.close();
    await gateway.close();
    await store.close();
    await engines[0]?.destroy();
    for (const engine of engines) await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('an alert is sent, listed in the inbox, acknowledged, and an analyst watches it all', {
    timeout: 240_000,
  }, async () => {
    const paths = keySetPaths(dir);
    const common = ['--gateway', gateway.url, '--authority', paths.authorityPublic];
    const directory = await liaison(
      'directory',
      '--key',
      paths.deviceKey('KZ-KORDAI/desk-1'),
      ...common,
    );
    expect(directory.stdout).toMatch(/KZ-KORDAI +BLO Kordai \(Kordai\) +linked to KG-AKZHOL/);
    expect(directory.stdout).toMatch(/KG-AKZHOL\/desk-1 +(\d{5} ){7}\d{5}/);

    // `liaison alert` from KZ-KORDAI/desk-1.
    const alertFromKordai = (office: string, ...flags: string[]) =>
      liaison('alert', office, '--key', paths.deviceKey('KZ-KORDAI/desk-1'), ...common, ...flags);
    const sent = await alertFromKordai(
      'KG-AKZHOL',
      '--title',
      'Grey Kamaz turned back',
      '--category',
      'suspicious-vehicle',
      '--precedence',
      'FLASH',
      '--plate',
      '01 KG 777 ABC',
      // Its conditions of use and the source's evaluation travel sealed, shown before the title.
      '--handling',
      'H2',
      '--reliability',
      'B',
      '--accuracy',
      '2',
      '--case',
      'Kordai route',
    );
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/\(case [0-9a-f-]{36}: add to it with --case-id\)/);
    const id = /alert (\S+) accepted/.exec(sent.stdout)?.[1] as string;

    const caseId = /\(case ([0-9a-f-]{36}):/.exec(sent.stdout)?.[1] as string;
    const inCase = await liaison(
      'inbox',
      '--key',
      paths.deviceKey('KG-AKZHOL/desk-1'),
      ...common,
      '--case',
      caseId,
    );
    expect(inCase.stdout).toContain(`${id}  `);
    const otherCase = randomUUID();
    const elsewhere = await liaison(
      'inbox',
      '--key',
      paths.deviceKey('KG-AKZHOL/desk-1'),
      ...common,
      '--case',
      otherCase,
    );
    expect(elsewhere.stdout).toContain(`nothing waiting in case ${otherCase}`);
    expect(elsewhere.stdout).not.toContain(id);
    const listed = await liaison('inbox', '--key', paths.deviceKey('KG-AKZHOL/desk-1'), ...common);
    // A FLASH alert stands out and says how to acknowledge it.
    expect(listed.stdout).toMatch(
      new RegExp(
        `${id}  !!! \\[\\d\\d:\\d\\d [^\\]]+\\] FLASH from KZ-KORDAI/desk-1 !!! ALERT FLASH suspicious-vehicle: \\[H2\\] \\[B2\\] \\[case Kordai route, open\\] Grey Kamaz turned back`,
      ),
    );
    expect(listed.stdout).toContain(`liaison inbox --ack ${id}`);
    const acked = await liaison(
      'inbox',
      '--key',
      paths.deviceKey('KG-AKZHOL/desk-1'),
      ...common,
      '--ack',
      id,
      '--done',
    );
    expect(acked.stdout).toContain(`acknowledged ${id}`);
    expect(
      (await liaison('inbox', '--key', paths.deviceKey('KG-AKZHOL/desk-1'), ...common)).stdout,
    ).toContain('nothing waiting');

    const refused = await alertFromKordai('UZ-OYBEK', '--title', 'x');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('NOT_LINKED');
    // H3 without its restriction never leaves the device.
    const unrestricted = await alertFromKordai('KG-AKZHOL', '--title', 'x', '--handling', 'H3');
    expect(unrestricted.code).toBe(2);
    expect(unrestricted.stdout).toContain('--handling');

    for (let i = 0; i < 100 && !tailed.includes(`acknowledges ${id}`); i++)
      await new Promise((r) => setTimeout(r, 100));
    expect(tailed).toContain(
      'KZ-KORDAI → KG-AKZHOL alert FLASH [H2] [B2] [case Kordai route, open] Grey Kamaz turned back',
    );
    expect(tailed).toContain(`KG-AKZHOL → KZ-KORDAI alert-ack acknowledges ${id}`);
  });

  it('an analyst tails as JSON with the directory verified against the pinned root', {
    timeout: 240_000,
  }, async () => {
    const paths = keySetPaths(dir);
    const verified = spawn(process.execPath, [
      '--import',
      LOADER,
      join(root, 'src', 'cli', 'main.ts'),
      'hub',
      'tail',
      '--key',
      paths.deviceKey('CARICC/analyst-1'),
      '--hub',
      hub.url,
      '--authority',
      paths.authorityPublic,
      '--gateway',
      gateway.url,
      '--kind',
      'alert',
      '--json',
    ]);
    let out = '';
    verified.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    try {
      for (let i = 0; i < 200 && !out.includes('\n'); i++)
        await new Promise((r) => setTimeout(r, 100));
      const first = JSON.parse(out.split('\n')[0] as string);
      expect(first).toMatchObject({ kind: 'alert', from: 'KZ-KORDAI', to: ['KG-AKZHOL'] });
      expect(first.body).toMatchObject({ title: 'Grey Kamaz turned back', precedence: 'FLASH' });
    } finally {
      verified.kill();
    }

    // A root the gateway's directory is not signed by: refused before the hub is asked.
    const other = join(dir, 'other-authority.pub.json');
    await writeFile(other, JSON.stringify(publishAuthority(await generateAuthorityKeys(), 'x')));
    const fooled = await liaison(
      'hub',
      'tail',
      '--key',
      paths.deviceKey('CARICC/analyst-1'),
      '--hub',
      hub.url,
      '--authority',
      other,
      '--gateway',
      gateway.url,
    );
    expect(fooled.code).toBe(1);
    expect(fooled.stdout).toContain('CERT_UNTRUSTED');
  });

  it('an analyst searches the record and makes a token for the HTTP API from the CLI', {
    timeout: 240_000,
  }, async () => {
    const paths = keySetPaths(dir);
    const analyst = ['--key', paths.deviceKey('CARICC/analyst-1'), '--hub', hub.url];
    const [found, token] = await Promise.all([
      liaison('hub', 'search', ...analyst, '--authority', paths.authorityPublic, '--kind', 'alert'),
      liaison('hub', 'token', '--key', paths.deviceKey('CARICC/analyst-1')),
    ]);
    expect(found.code).toBe(0);
    // The analyst sees the provider's conditions and evaluation too.
    expect(found.stdout).toContain(
      'KZ-KORDAI → KG-AKZHOL alert FLASH [H2] [B2] [case Kordai route, open] Grey Kamaz turned back',
    );
    expect(found.stdout).not.toContain('alert-ack');
    expect(token.code).toBe(0);
    const stats = await fetch(`${hub.url}/v1/stats`, {
      headers: { authorization: `Bearer ${token.stdout.trim()}` },
    });
    expect(stats.status).toBe(200);
  });

  it('an office device cannot tail the hub', async () => {
    const paths = keySetPaths(dir);
    const result = await liaison(
      'hub',
      'tail',
      '--key',
      paths.deviceKey('KZ-KORDAI/desk-1'),
      '--hub',
      hub.url,
      '--authority',
      paths.authorityPublic,
    );
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('FORBIDDEN');
  });
});
