import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiaisonClient } from '../../src/client/client.js';
import { type PinnedAuthority, pinAuthority } from '../../src/crypto/certificate.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { type Hub, startHub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { generateDevKeySet, keySetPaths } from '../../src/keystore/devset.js';
import { readDeviceKey } from '../../src/keystore/keyfile.js';
import { cliArgs } from '../fixtures/cli.js';
import { startDevSetGateway } from '../fixtures/dev-gateway.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { keptHubPrekeys } from '../fixtures/hub.js';

const FLASH_DEADLINE_MS = 5_000;
const TOKEN_SECONDS = 2;

/**
 * `liaison hub tail` as an analyst leaves it running: past its tokens' lifetime, across a restart
 * of the hub replica it follows, with escalations made while it was away.
 */
describe('liaison hub tail, left running', () => {
  let dir: string;
  let paths: ReturnType<typeof keySetPaths>;
  let authority: PinnedAuthority;
  const prefix = `liaison-test:${randomUUID()}:`;
  const engines: RedisEngine[] = [];
  const stores: HubStore[] = [];
  let gateway: Gateway;
  let followed: Hub | undefined;
  let other: Hub;
  let port = 0;
  let tail: ChildProcess | undefined;
  let out = '';
  let sender: LiaisonClient;

  // One hub host: a restarted hub keeps its prekey state, as `liaison hub run` does on disk.
  const hubPrekeys = keptHubPrekeys();
  const hub = async (consumer: string, on = 0) => {
    const engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 600_000 });
    const store = new HubStore(REDIS_URL, prefix);
    engines.push(engine);
    stores.push(store);
    return startHub(
      {
        host: '127.0.0.1',
        port: on,
        audience: 'liaison-hub',
        consumer,
        deadlines: { FLASH: FLASH_DEADLINE_MS, IMMEDIATE: 60_000 },
        retentionMs: 3_600_000,
      },
      {
        engine,
        store,
        hubKeys: (await readDeviceKey(paths.deviceKey('CARICC/hub'))).keys,
        authority,
        logger: pino({ level: 'silent' }),
        prekeys: hubPrekeys,
      },
    );
  };
  const printed = async (text: string, from = 0) => {
    // Up to 2 minutes: a restarted hub and a reconnect take seconds, more on a busy machine.
    for (let i = 0; i < 2_400 && !out.slice(from).includes(text); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(out.slice(from)).toContain(text);
  };
  const flash = (title: string) =>
    sender.sendAlert('KG-AKZHOL', {
      category: 'drug-seizure',
      precedence: 'FLASH',
      title,
      description: '',
      location: { bcp: 'Kordai' },
      subjects: [],
      validFrom: Date.now(),
      validUntil: Date.now() + 3_600_000,
    });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-tail-'));
    await generateDevKeySet(dir);
    paths = keySetPaths(dir);
    authority = await pinAuthority(JSON.parse(await readFile(paths.authorityPublic, 'utf8')));
    const engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 600_000 });
    engines.push(engine);
    gateway = await startDevSetGateway(dir, engine);
    followed = await hub('followed');
    port = Number(new URL(followed.url).port);
    other = await hub('other');
    sender = new LiaisonClient({
      url: gateway.url,
      audience: 'liaison-gateway',
      keys: (await readDeviceKey(paths.deviceKey('KZ-KORDAI/desk-1'))).keys,
      authority,
      acknowledge: false,
    });
    await sender.start();
  });
  afterAll(async () => {
    tail?.kill('SIGKILL');
    sender?.stop();
    await followed?.close();
    await other?.close();
    await gateway?.close();
    await engines[0]?.destroy();
    for (const engine of engines) await engine.close();
    for (const store of stores) await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('outlives its tokens, follows a restarted hub, and reports escalations made while it was away', {
    timeout: 180_000,
  }, async () => {
    tail = spawn(
      process.execPath,
      cliArgs([
        'hub',
        'tail',
        '--key',
        paths.deviceKey('CARICC/analyst-1'),
        '--hub',
        `http://127.0.0.1:${port}`,
        '--authority',
        paths.authorityPublic,
        '--token-lifetime',
        String(TOKEN_SECONDS),
      ]),
    );
    let exited = false;
    tail.once('exit', () => {
      exited = true;
    });
    tail.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const live = await flash('Heroin in a spare tyre');
    await printed('alert FLASH Heroin in a spare tyre');
    // Escalated after its deadline, itself longer than a token lives: the tail is still there.
    await printed(`ESCALATION FLASH alert ${live} from KZ-KORDAI`);
    expect(exited).toBe(false);

    // The replica it follows goes away; the other escalates the next alert meanwhile.
    const away = await flash('Second courier');
    await printed('alert FLASH Second courier');
    const before = out.length;
    await followed?.close();
    followed = undefined;
    await printed('connection to the hub lost', before);
    for (let i = 0; i < 600; i++) {
      if ((await stores[1]?.alerts.alert(away))?.escalatedAt !== undefined) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await stores[1]?.alerts.alert(away))?.escalatedAt).toBeDefined();
    followed = await hub('followed', port);
    await printed(`reconnected to the hub`, before);
    await printed(`ESCALATION FLASH alert ${away} from KZ-KORDAI`, before);
    expect(out.split(`ESCALATION FLASH alert ${live}`)).toHaveLength(2);
    expect(exited).toBe(false);
  });
});
