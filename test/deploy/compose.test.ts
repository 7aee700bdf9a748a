import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgs } from '../fixtures/cli.js';
import { freePort } from '../fixtures/ports.js';
import { type ServerProcess, startServerProcess, stopProcess } from '../fixtures/processes.js';
import { startTestRedis, type TestRedis } from '../fixtures/redis-server.js';

// js-yaml has no types of its own; its `load` is all this file needs (merge keys included).
const { load } = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

interface Service {
  image?: string;
  build?: unknown;
  restart?: string;
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  healthcheck?: { test: string[] };
}

const root = join(import.meta.dirname, '..', '..');
const read = (file: string) => readFile(join(root, file), 'utf8');
/** The compiled CLI, as the image runs it. */
const IMAGE_CLI = 'node dist/src/cli/main.js';
const LIAISON_IMAGE = 'liaison:local';

/**
 * docker-compose.yml read as Docker reads it (anchors and merge keys resolved), checked against
 * what the deployment needs, and its Liaison services started without Docker: the same commands
 * and environment, with each volume a directory, the `redis` host our own redis-server, and only
 * the listening address and ports changed (the machine is shared).
 */
describe('the compose stack', () => {
  let services: Record<string, Service>;
  const liaisonServices = () =>
    Object.entries(services).filter(([, s]) => s.image === LIAISON_IMAGE);

  beforeAll(async () => {
    services = (load(await read('docker-compose.yml')) as { services: Record<string, Service> })
      .services;
  });

  it('builds one image, once, that every Liaison service runs', () => {
    const built = Object.entries(services).filter(([, s]) => s.build !== undefined);
    expect(built.map(([name]) => name)).toEqual(['keys']);
    expect(built[0]?.[1].image).toBe(LIAISON_IMAGE);
    expect(liaisonServices().map(([name]) => name)).toEqual(
      expect.arrayContaining(['keys', 'gateway-1', 'gateway-2', 'hub']),
    );
  });

  it('every service but the one-shot key job restarts unless stopped; the gateways and the hub have health checks on /readyz', () => {
    for (const [name, service] of Object.entries(services)) {
      if (name === 'keys') expect(service.restart ?? 'no').toBe('no');
      else expect(service.restart, name).toBe('unless-stopped');
    }
    for (const name of ['gateway-1', 'gateway-2', 'hub'])
      expect(services[name]?.healthcheck?.test.join(' '), name).toContain('/readyz');
  });

  it('publishes plain HTTP on this host only, and the README says how TLS and the host CLI’s keys work', async () => {
    const published = Object.values(services).flatMap((s) => s.ports ?? []);
    expect(published.length).toBeGreaterThan(0);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:/);
    // As words, whatever the line breaks.
    const readme = (await read('README.md')).replace(/\s+/g, ' ');
    expect(readme).toContain(
      'The hub speaks plain HTTP: in production put it behind a TLS-terminating balancer',
    );
    expect(readme).toContain('docker compose cp keys:/keys ./keys/compose');
  });

  it('keeps private keys and key state out of the image at any depth', async () => {
    const ignored = (await read('.dockerignore')).split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/*.key', '**/*.prekeys', '**/*.pem']));
  });

  it('every file a service writes is on a volume it mounts writable', () => {
    const hub = services.hub as Service;
    const env = hub.environment ?? {};
    const state = env.HUB_PREKEY_STATE_FILE ?? `${env.HUB_KEY_FILE}.prekeys`;
    const writable = (hub.volumes ?? [])
      .filter((v) => !v.endsWith(':ro'))
      .map((v) => (v.split(':')[1] as string).replace(/\/?$/, '/'));
    expect(
      writable.some((dir) => state.startsWith(dir)),
      state,
    ).toBe(true);
  });

  describe('started without Docker', () => {
    let redis: TestRedis;
    let dir: string;
    const servers: ServerProcess[] = [];

    beforeAll(async () => {
      const command = services.redis?.command ?? [];
      expect(command[0]).toBe('redis-server');
      redis = await startTestRedis(command.slice(1));
      dir = await mkdtemp(join(tmpdir(), 'liaison-compose-'));
    });
    afterAll(async () => {
      for (const server of servers) await stopProcess(server.process, 'SIGKILL');
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    });

    /** A service's text with its volumes as directories here and the `redis` host as ours. */
    const here = async (service: Service, text: string) => {
      let out = text.replaceAll('redis://redis:6379', redis.url);
      for (const volume of service.volumes ?? []) {
        const [name, path] = volume.split(':') as [string, string];
        const local = join(dir, name);
        await mkdir(local, { recursive: true });
        out = out.replaceAll(path, local);
      }
      return out;
    };
    const environment = async (service: Service) =>
      Object.fromEntries(
        await Promise.all(
          Object.entries(service.environment ?? {}).map(async ([k, v]) => [
            k,
            await here(service, v),
          ]),
        ),
      ) as Record<string, string>;

    it('the key job, two gateways and the hub start with compose’s commands and environment, and pass their health checks', {
      timeout: 300_000,
    }, async () => {
      const keys = services.keys as Service;
      const [shell, flag, script] = keys.command as [string, string, string];
      expect([shell, flag]).toEqual(['sh', '-c']);
      const job = spawn(
        shell,
        [
          flag,
          (await here(keys, script)).replaceAll(
            IMAGE_CLI,
            [process.execPath, ...cliArgs([])].join(' '),
          ),
        ],
        { stdio: ['ignore', 'ignore', 'inherit'] },
      );
      expect(await new Promise((done) => job.once('exit', done))).toBe(0);

      for (const name of ['gateway-1', 'gateway-2', 'hub']) {
        const service = services[name] as Service;
        const command = (service.command ?? []).join(' ');
        expect(command.startsWith(IMAGE_CLI), name).toBe(true);
        const port = await freePort();
        const portVariable = name === 'hub' ? 'HUB_PORT' : 'PORT';
        const hostVariable = name === 'hub' ? 'HUB_HOST' : 'HOST';
        const env = await environment(service);
        const inContainer = env[portVariable] as string;
        const server = await startServerProcess(
          command.slice(IMAGE_CLI.length).trim().split(' '),
          `http://127.0.0.1:${port}`,
          { ...env, [portVariable]: String(port), [hostVariable]: '127.0.0.1', LOG_LEVEL: 'warn' },
        );
        servers.push(server);
        // Compose's own health check, pointed at this port.
        const [kind, ...check] = service.healthcheck?.test ?? [];
        expect(kind).toBe('CMD');
        const args = check.slice(1).map((a) => a.replaceAll(`:${inContainer}/`, `:${port}/`));
        const code = await new Promise((done) =>
          execFile(process.execPath, args, (error) => done(error ? error.code : 0)),
        );
        expect(code, `${name}'s health check`).toBe(0);
      }
      // The hub keeps its prekey chain where compose gives it a writable volume.
      const hubEnv = await environment(services.hub as Service);
      expect((await stat(hubEnv.HUB_PREKEY_STATE_FILE as string)).size).toBeGreaterThan(0);
      for (const server of servers.splice(0)) await stopProcess(server.process, 'SIGTERM');
    });
  });
});
