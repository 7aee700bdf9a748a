import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { publishAuthority } from '../../src/crypto/certificate.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { CHROMIUM } from '../console/stack.js';
import { testClients, waitFor } from '../fixtures/client.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { AUDIENCE, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

// The compact encoding in a real browser: there binary attachments arrive as ArrayBuffers and
// there is no Buffer, so the SDK's portable base64url runs. A browser desk on compact and a Node
// desk on JSON chat through a real gateway.

const SDK = join(import.meta.dirname, '..', '..', 'src', 'index.ts');
const PAGE_SCRIPT = `
import { LiaisonClient, pinAuthority } from ${JSON.stringify(SDK)};
const texts = [];
window.liaison = {
  async start({ url, audience, keys, authority }) {
    const bytes = (a) => new Uint8Array(a);
    const client = new LiaisonClient({
      url, audience, encoding: 'compact', authority: await pinAuthority(authority),
      keys: { ...keys, signingPublicKey: bytes(keys.signingPublicKey), signingSecretKey: bytes(keys.signingSecretKey),
        encryptionPublicKey: bytes(keys.encryptionPublicKey), encryptionSecretKey: bytes(keys.encryptionSecretKey) },
    });
    client.on('message', (m) => texts.push(m.body.text));
    await client.start();
    window.client = client;
    return { encoding: client.encoding, buffer: typeof Buffer };
  },
  send: (office, text) => window.client.sendChat(office, text),
  texts: () => texts,
  stop: () => window.client.stop(),
};
`;

describe('the SDK in a browser on the compact encoding', () => {
  let world: World;
  let engine: RedisEngine;
  let gateway: Gateway;
  let dir: string;
  let browser: Browser;
  const clients = testClients(
    () => gateway,
    () => world,
  );

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = new RedisEngine({
      url: REDIS_URL,
      prefix: `liaison-test:${randomUUID()}:`,
      retentionMs: 60_000,
    });
    const bundle = await build({
      stdin: { contents: PAGE_SCRIPT, resolveDir: import.meta.dirname, loader: 'js' },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
    });
    // Served by the gateway as its Console: the same origin as its API and Socket.IO.
    dir = await mkdtemp(join(tmpdir(), 'liaison-browser-compact-'));
    await writeFile(join(dir, 'sdk.js'), bundle.outputFiles[0]?.text ?? '');
    await writeFile(
      join(dir, 'index.html'),
      '<!doctype html><script type="module" src="/sdk.js"></script>',
    );
    gateway = await startTestGateway(engine, world, { console: { root: dir } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  });
  afterEach(() => clients.stopAll());
  afterAll(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
    await gateway.close();
    await engine.destroy();
    await engine.close();
  });

  it('a browser desk on compact and a Node desk on JSON read each other', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${gateway.url}/`);
      await page.waitForFunction(() => 'liaison' in globalThis);
      const keys = device(world, 'KZ-KORDAI/desk-1');
      const started = await page.evaluate(
        (args) =>
          (
            globalThis as unknown as { liaison: { start(a: unknown): Promise<unknown> } }
          ).liaison.start(args),
        {
          url: gateway.url,
          audience: AUDIENCE,
          authority: publishAuthority(world.authority, 'test authority'),
          keys: {
            deviceId: keys.deviceId,
            keyId: keys.keyId,
            signingPublicKey: [...keys.signingPublicKey],
            signingSecretKey: [...keys.signingSecretKey],
            encryptionPublicKey: [...keys.encryptionPublicKey],
            encryptionSecretKey: [...keys.encryptionSecretKey],
          },
        },
      );
      expect(started).toEqual({ encoding: 'compact', buffer: 'undefined' });

      const akzhol = clients.client('KG-AKZHOL/desk-1');
      await akzhol.start();
      const arrived = waitFor(akzhol, 'message');
      await page.evaluate(() =>
        (
          globalThis as unknown as { liaison: { send(o: string, t: string): Promise<string> } }
        ).liaison.send('KG-AKZHOL', 'Из браузера: two vans at the gate'),
      );
      expect((await arrived).body).toMatchObject({ text: 'Из браузера: two vans at the gate' });

      await akzhol.sendChat('KZ-KORDAI', 'Seen from Ak-Zhol');
      await page.waitForFunction(() =>
        (globalThis as unknown as { liaison: { texts(): string[] } }).liaison
          .texts()
          .includes('Seen from Ak-Zhol'),
      );
      await page.evaluate(() =>
        (globalThis as unknown as { liaison: { stop(): void } }).liaison.stop(),
      );
    } finally {
      await page.close();
    }
  });
});
