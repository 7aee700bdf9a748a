import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { type BuildReport, buildConsole } from '../../src/console/build.js';
import { publishAuthority } from '../../src/crypto/certificate.js';
import { RedisEngine } from '../../src/engine/redis.js';
import { type Gateway, startGateway } from '../../src/gateway/gateway.js';
import { type Hub, startHub } from '../../src/hub/service.js';
import { HubStore } from '../../src/hub/store.js';
import { sealConsoleKey } from '../../src/keystore/console-key.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { signedHead } from '../fixtures/gateway.js';
import { buildWorld, device, type World } from '../fixtures/world.js';

export const AUDIENCE = 'liaison-test-gateway';
export const HUB_AUDIENCE = 'liaison-test-hub';
export const PASSPHRASE = 'correct horse battery staple';
export const CHROMIUM = '/usr/bin/chromium';
/** Screenshots of a test run (git-ignored); the best copies are committed under docs/console/. */
export const SHOTS = join(import.meta.dirname, '..', '..', 'test-results', 'console');

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

/**
 * Everything a Console test needs, real: the Console built, a gateway serving it on Redis, the
 * CARICC hub, Console key files for two linked offices and an analyst, and Chromium.
 */
export interface Stack {
  world: World;
  build: BuildReport;
  gateway: Gateway;
  hub: Hub;
  browser: Browser;
  keyFiles: Record<string, string>;
  /** Stops the gateway and starts a new one on the same port (same Redis: nothing is lost). */
  restartGateway(): Promise<void>;
  stopGateway(): Promise<void>;
  startGatewayAgain(): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(
  devices = ['KZ-KORDAI/desk-1', 'KG-AKZHOL/desk-1', 'CARICC/analyst-1'],
): Promise<Stack> {
  const dir = await mkdtemp(join(tmpdir(), 'liaison-console-'));
  const build = await buildConsole(join(dir, 'console'));
  const world = await buildWorld(Date.now());
  const prefix = `liaison-test:${randomUUID()}:`;
  const gatewayEngine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 600_000 });
  const hubEngine = new RedisEngine({ url: REDIS_URL, prefix, retentionMs: 600_000 });
  const store = new HubStore(REDIS_URL, prefix);
  const gatewayPort = await freePort();
  const logger = pino({ level: 'silent' });
  const hub = await startHub(
    {
      host: '127.0.0.1',
      port: 0,
      audience: HUB_AUDIENCE,
      consumer: 'console-test-hub',
      // IMMEDIATE escalates within seconds, so a test can watch it; FLASH alerts get acknowledged.
      deadlines: { FLASH: 60_000, IMMEDIATE: 3_000 },
      retentionMs: 3_600_000,
      consoleOrigins: [`http://127.0.0.1:${gatewayPort}`],
    },
    {
      engine: hubEngine,
      store,
      hubKeys: device(world, 'CARICC/hub'),
      authority: world.directory.authority,
      logger,
    },
  );
  const launchGateway = async () => {
    const gateway = await startGateway(
      {
        host: '127.0.0.1',
        port: gatewayPort,
        audience: AUDIENCE,
        rateLimitPerMinute: 10_000,
        shutdownGraceMs: 1_000,
        console: { root: build.outdir, hubUrl: hub.url },
      },
      { engine: gatewayEngine, authority: world.directory.authority, logger },
    );
    if (gateway.sync.directory.version === 0) {
      await gateway.sync.submit(world.directory.statements());
      await gateway.sync.submitHead(await signedHead(world));
    }
    return gateway;
  };
  let gateway: Gateway | undefined = await launchGateway();

  const authority = publishAuthority(world.authority, 'test authority');
  const keyFiles: Record<string, string> = {};
  for (const deviceId of devices) {
    const analyst = deviceId.startsWith('CARICC/');
    const file = await sealConsoleKey(device(world, deviceId), PASSPHRASE, {
      deviceId,
      role: analyst ? 'analyst' : 'device',
      authority,
      gateway: { audience: AUDIENCE },
      ...(analyst ? { hub: { url: hub.url, audience: HUB_AUDIENCE } } : {}),
    });
    const path = join(dir, `${deviceId.replace('/', '.')}.key`);
    await writeFile(path, JSON.stringify(file));
    keyFiles[deviceId] = path;
  }

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives every launch a fresh, temporary profile (its own --user-data-dir).
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

  const stack: Stack = {
    world,
    build,
    get gateway() {
      if (!gateway) throw new Error('the gateway is stopped');
      return gateway;
    },
    hub,
    browser,
    keyFiles,
    async stopGateway() {
      await gateway?.close();
      gateway = undefined;
    },
    async startGatewayAgain() {
      gateway = await launchGateway();
    },
    async restartGateway() {
      await stack.stopGateway();
      await stack.startGatewayAgain();
    },
    async close() {
      await browser.close();
      await gateway?.close();
      await hub.close();
      await store.close();
      await gatewayEngine.destroy();
      await gatewayEngine.close();
      await hubEngine.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** A fresh browser profile (its own IndexedDB) in the officers' zone and language. */
export function newContext(stack: Stack, locale = 'en-GB'): Promise<BrowserContext> {
  return stack.browser.newContext({
    locale,
    timezoneId: 'Asia/Almaty',
    viewport: { width: 1280, height: 860 },
  });
}

/** Opens the Console and signs in with a key file and its passphrase. */
export async function signIn(
  stack: Stack,
  context: BrowserContext,
  deviceId: string,
  passphrase = PASSPHRASE,
): Promise<Page> {
  const page = await context.newPage();
  await page.goto(stack.gateway.url);
  await page.locator('input[type=file]').setInputFiles(stack.keyFiles[deviceId] as string);
  await page.locator('input[name=passphrase]').fill(passphrase);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return page;
}

export const shot = (page: Page, name: string) =>
  page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: false });
