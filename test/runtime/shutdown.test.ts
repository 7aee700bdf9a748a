import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Deployment, makeDeployment } from '../fixtures/deployment.js';
import { freePort } from '../fixtures/ports.js';
import {
  exited,
  type ServerProcess,
  startGatewayProcess,
  startHubProcess,
} from '../fixtures/processes.js';
import { startTestRedis, type TestRedis } from '../fixtures/redis-server.js';

/** What a server wrote to its log (pino JSON on stdout) so far. */
function logOf(server: ServerProcess): () => string {
  let log = '';
  server.process.stdout?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  return () => log;
}

const messagesIn = (log: string) =>
  log
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { msg: string }).msg);

/** SIGTERM, then 'exited' or, after a generous 30 s, 'still running'. */
async function stopWithin30s(server: ServerProcess): Promise<string> {
  const stopped = exited(server.process);
  server.process.kill('SIGTERM');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    stopped.then(() => 'exited'),
    new Promise<string>((done) => {
      timer = setTimeout(() => done('still running after 30 s'), 30_000);
    }),
  ]);
  clearTimeout(timer);
  return outcome;
}

/**
 * A server stopped while its Redis is gone too (a host going down): it exits promptly, without
 * waiting out Redis reconnections, and its log says what it could not do.
 */
describe('servers told to stop while Redis is down', () => {
  let redis: TestRedis;
  let deployment: Deployment;
  let hub: ServerProcess | undefined;
  let gateway: ServerProcess | undefined;

  beforeAll(async () => {
    redis = await startTestRedis();
    deployment = await makeDeployment(redis.url);
  });
  afterAll(async () => {
    hub?.process.kill('SIGKILL');
    gateway?.process.kill('SIGKILL');
    await redis.stop();
  });

  it('a hub told to stop while Redis is down exits 0 promptly, and logs that it dropped its Redis connections', {
    timeout: 180_000,
  }, async () => {
    hub = await startHubProcess(
      await freePort(),
      { ...deployment.hubEnv, LOG_LEVEL: 'info' },
      { stdout: 'pipe' },
    );
    const log = logOf(hub);
    await redis.kill();
    // Generous for a busy machine: the hub itself drops its Redis connections within seconds.
    expect(await stopWithin30s(hub)).toBe('exited');
    expect(hub.process.exitCode).toBe(0);
    const messages = messagesIn(log());
    expect(messages).toContain('shutting down');
    expect(messages).toContain(
      'Redis did not answer at shutdown: its connections were dropped, not closed cleanly',
    );
    // ioredis may still report the dropped connection after 'stopped': the order that matters is
    // shutting down → connections dropped → stopped.
    const dropped = messages.indexOf(
      'Redis did not answer at shutdown: its connections were dropped, not closed cleanly',
    );
    expect(messages.indexOf('shutting down')).toBeLessThan(dropped);
    expect(messages.indexOf('stopped')).toBeGreaterThan(dropped);
  });

  it('a gateway told to stop while Redis is down exits 0 promptly, and logs what it could not do', {
    timeout: 180_000,
  }, async () => {
    await redis.restart();
    gateway = await startGatewayProcess(
      await freePort(),
      { ...deployment.gatewayEnv, LOG_LEVEL: 'info' },
      { stdout: 'pipe' },
    );
    const log = logOf(gateway);
    await redis.kill();
    expect(await stopWithin30s(gateway)).toBe('exited');
    expect(gateway.process.exitCode).toBe(0);
    expect(messagesIn(log())).toEqual(
      expect.arrayContaining(['shutting down', 'leaving the directory channel failed']),
    );
  });
});
