import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keysCommand } from '../../src/cli/keys.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { generateDevKeySet, keySetPaths } from '../../src/keystore/devset.js';
import { type JsonLines, jsonLines, liaison } from '../fixtures/cli.js';
import { startDevSetGateway } from '../fixtures/dev-gateway.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { sendTamperedChat } from '../fixtures/tampered.js';

/**
 * Everyday use of the office commands against a gateway on Redis that can be stopped and started
 * again on the same port: nothing is lost from the operator's view.
 */
describe('the office CLI under everyday use', () => {
  let dir: string;
  let paths: ReturnType<typeof keySetPaths>;
  const prefix = `liaison-test:${randomUUID()}:`;
  const engines: RedisEngine[] = [];
  let gateway: Gateway | undefined;
  let port = 0;
  const running: JsonLines[] = [];

  const startOnce = async () => {
    const engine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 600_000 });
    engines.push(engine);
    gateway = await startDevSetGateway(dir, engine, port);
    port = gateway.port;
  };
  const stopGateway = async () => {
    await gateway?.close();
    gateway = undefined;
  };
  const common = () => [
    '--gateway',
    `http://127.0.0.1:${port}`,
    '--authority',
    paths.authorityPublic,
  ];
  const chat = (office: string, deviceId: string) => {
    const c = jsonLines([
      'chat',
      office,
      '--key',
      paths.deviceKey(deviceId),
      ...common(),
      '--json',
    ]);
    running.push(c);
    return c;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-delivery-'));
    await generateDevKeySet(dir);
    paths = keySetPaths(dir);
    // Kordai gets a second linked office across another border.
    await keysCommand(
      [
        'link',
        '--authority',
        paths.authorityKey,
        '--directory',
        paths.directory,
        'KZ-KORDAI',
        'UZ-OYBEK',
      ],
      () => undefined,
    );
    await startOnce();
  });
  afterAll(async () => {
    for (const c of running) c.child.kill('SIGKILL');
    await stopGateway();
    await engines[0]?.destroy();
    for (const engine of engines) await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a chat shows what a second linked office sends, and the inbox then has nothing unshown', {
    timeout: 300_000,
  }, async () => {
    const kordai = chat('KG-AKZHOL', 'KZ-KORDAI/desk-1');
    await kordai.until((e) => e.event === 'ready');
    const sent = await liaison([
      'alert',
      'KZ-KORDAI',
      '--key',
      paths.deviceKey('UZ-OYBEK/desk-1'),
      ...common(),
      '--title',
      'Two vans heading north',
      '--json',
    ]);
    expect(sent.stderr).toBe('');
    const { id } = JSON.parse(sent.stdout.trim().split('\n').at(-1) as string);
    const shown = await kordai.until((e) => e.event === 'message' && e.id === id);
    expect(shown).toMatchObject({ office: 'UZ-OYBEK', body: { title: 'Two vans heading north' } });
    // The chat acknowledged it only after showing it: the inbox of that device is now empty.
    const inbox = await liaison([
      'inbox',
      '--key',
      paths.deviceKey('KZ-KORDAI/desk-1'),
      ...common(),
    ]);
    expect(inbox.stdout).toContain('nothing waiting');
    kordai.child.stdin.end();
    expect(await kordai.exited).toBe(0);
  });

  it('--compact sends and lists in the compact encoding; the reader sees the same alert', {
    timeout: 300_000,
  }, async () => {
    const sent = await liaison([
      'alert',
      'KZ-KORDAI',
      '--key',
      paths.deviceKey('UZ-OYBEK/duty-1'),
      ...common(),
      '--title',
      'Grey Kamaz, false floor suspected',
      '--compact',
      '--json',
    ]);
    expect(sent.stderr).toBe('');
    const { id } = JSON.parse(sent.stdout.trim().split('\n').at(-1) as string);
    for (const compact of [['--compact'], []]) {
      const listed = await liaison([
        'inbox',
        '--key',
        paths.deviceKey('KZ-KORDAI/duty-1'),
        ...common(),
        ...compact,
        '--json',
      ]);
      expect(listed.stderr).toBe('');
      expect(listed.stdout).toContain(id);
      expect(listed.stdout).toContain('Grey Kamaz, false floor suspected');
    }
  });

  it('inbox and alert beside a running chat leave the chat connected, and both report a refused envelope with its code', {
    timeout: 300_000,
  }, async () => {
    const akzhol = chat('KZ-KORDAI', 'KG-AKZHOL/desk-1');
    await akzhol.until((e) => e.event === 'ready');

    // Kordai's duty laptop sends something its signature does not cover (the gateway does not
    // check signatures; every recipient does).
    const id = await sendTamperedChat(
      `http://127.0.0.1:${port}`,
      paths,
      'KZ-KORDAI/duty-1',
      'KG-AKZHOL',
    );
    expect(await akzhol.until((e) => e.event === 'problem' && e.id === id)).toMatchObject({
      code: 'SIGNATURE_INVALID',
    });

    const listed = await liaison([
      'inbox',
      '--key',
      paths.deviceKey('KG-AKZHOL/duty-1'),
      ...common(),
    ]);
    expect(listed.stdout).toContain(`REFUSED envelope ${id}`);
    expect(listed.stdout).toContain('SIGNATURE_INVALID');
    const asJson = await liaison([
      'inbox',
      '--key',
      paths.deviceKey('KG-AKZHOL/duty-1'),
      ...common(),
      '--json',
      '--done',
    ]);
    expect(asJson.stdout).toContain('"code":"SIGNATURE_INVALID"');

    // The same device's one-shot command did not displace the chat: it still receives.
    const beside = await liaison([
      'inbox',
      '--key',
      paths.deviceKey('KG-AKZHOL/desk-1'),
      ...common(),
      '--done',
    ]);
    expect(beside.code).toBe(0);
    // Nor did an alert sent with the chat's own key.
    const alerted = await liaison([
      'alert',
      'KZ-KORDAI',
      '--key',
      paths.deviceKey('KG-AKZHOL/desk-1'),
      ...common(),
      '--title',
      'Sent beside the chat',
      '--precedence',
      'ROUTINE',
    ]);
    expect(alerted.code).toBe(0);
    const kordai = chat('KG-AKZHOL', 'KZ-KORDAI/desk-1');
    await kordai.until((e) => e.event === 'ready');
    kordai.child.stdin.write('still there?\n');
    await akzhol.until(
      (e) => e.event === 'message' && (e.body as { text?: string }).text === 'still there?',
    );
    expect(
      akzhol.events.some(
        (e) => e.event === 'closing' || (e.event === 'connection' && e.state === 'disconnected'),
      ),
    ).toBe(false);
    for (const c of [kordai, akzhol]) c.child.stdin.end();
    expect(await Promise.all([kordai.exited, akzhol.exited])).toEqual([0, 0]);
  });

  it('lines typed while the gateway is down are queued, kept across a CLI restart, and arrive in order, once', {
    timeout: 300_000,
  }, async () => {
    const akzhol = chat('KZ-KORDAI', 'KG-AKZHOL/desk-1');
    await akzhol.until((e) => e.event === 'ready');
    let kordai = chat('KG-AKZHOL', 'KZ-KORDAI/desk-1');
    await kordai.until((e) => e.event === 'ready');

    await stopGateway();
    await kordai.until((e) => e.event === 'connection' && e.state === 'disconnected');
    expect(kordai.events.find((e) => e.event === 'closing')).toMatchObject({
      code: 'SERVER_SHUTDOWN',
    });
    kordai.child.stdin.write('one\n');
    await kordai.until((e) => e.event === 'queued');
    const back = kordai.events.length;
    await startOnce();
    // The chat comes back by itself and sends what waited.
    await kordai.until((e) => e.event === 'connection' && e.state === 'connected', back);
    await kordai.until((e) => e.event === 'status' && e.status === 'accepted');

    await stopGateway();
    await kordai.until((e) => e.event === 'connection' && e.state === 'disconnected', back);
    const before = kordai.events.length;
    kordai.child.stdin.write('two\nthree\n');
    // Both lines shown as queued (saved) before the CLI dies: only what was shown is promised.
    // (A line can be reported queued twice: typed, then again when a send attempt fails.)
    const two = await kordai.until((e) => e.event === 'queued', before);
    await kordai.until((e) => e.event === 'queued' && e.id !== two.id, before);
    // The operator's CLI dies with two lines unsent; a new one sends them.
    kordai.child.kill('SIGKILL');
    await kordai.exited;
    await startOnce();
    kordai = chat('KG-AKZHOL', 'KZ-KORDAI/desk-1');
    await kordai.until((e) => e.event === 'outbox' && e.waiting === 2);
    for (const text of ['one', 'two', 'three'])
      await akzhol.until(
        (e) => e.event === 'message' && (e.body as { text?: string }).text === text,
      );
    const texts = akzhol.events
      .filter((e) => e.event === 'message')
      .map((e) => (e.body as { text: string }).text)
      .filter((t) => ['one', 'two', 'three'].includes(t));
    expect(texts).toEqual(['one', 'two', 'three']);
    for (const c of [kordai, akzhol]) c.child.stdin.end();
    expect(await Promise.all([kordai.exited, akzhol.exited])).toEqual([0, 0]);
  });
});
