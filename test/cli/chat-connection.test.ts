import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_SESSIONS_PER_DEVICE } from '../../protocol/v1/events.js';
import { createClientToken } from '../../src/crypto/token.js';
import { RedisConnection } from '../../src/engine/redis/connection.js';
import { generateDevKeySet, keySetPaths } from '../../src/keystore/devset.js';
import { readDeviceKey } from '../../src/keystore/keyfile.js';
import { liaison, type TextLines, textLines } from '../fixtures/cli.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { freePort } from '../fixtures/ports.js';
import { type ServerProcess, startGatewayProcess, stopProcess } from '../fixtures/processes.js';
import { sendTamperedChat } from '../fixtures/tampered.js';

/**
 * `liaison chat` as an operator reads it (text, not --json) against a gateway running as its own
 * process on Redis: refusals, a session replaced by other sessions of the same key, and a gateway
 * killed outright are all shown, and the chat carries on.
 */
describe('what a running chat shows of its connection', () => {
  let dir: string;
  let paths: ReturnType<typeof keySetPaths>;
  let port: number;
  let gateway: ServerProcess | undefined;
  const prefix = `liaison-test:${randomUUID()}:`;
  const running: TextLines[] = [];
  const extraSessions: Socket[] = [];
  const env = () => ({
    REDIS_URL,
    REDIS_PREFIX: prefix,
    AUTHORITY_FILE: paths.authorityPublic,
    DIRECTORY_FILE: paths.directory,
    RATE_LIMIT_PER_MINUTE: '10000',
  });
  const url = () => `http://127.0.0.1:${port}`;
  const chat = (office: string, deviceId: string) => {
    const c = textLines([
      'chat',
      office,
      '--key',
      paths.deviceKey(deviceId),
      '--gateway',
      url(),
      '--authority',
      paths.authorityPublic,
    ]);
    running.push(c);
    return c;
  };
  const ready = (c: TextLines) => c.until((line) => line.startsWith('chatting with'));
  const leave = async (...chats: TextLines[]) => {
    for (const c of chats) c.child.stdin.end();
    expect(await Promise.all(chats.map((c) => c.exited))).toEqual(chats.map(() => 0));
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-chat-connection-'));
    await generateDevKeySet(dir);
    paths = keySetPaths(dir);
    port = await freePort();
    gateway = await startGatewayProcess(port, env());
  }, 180_000);
  afterAll(async () => {
    for (const socket of extraSessions) socket.close();
    for (const c of running) c.child.kill('SIGKILL');
    if (gateway) await stopProcess(gateway.process, 'SIGKILL');
    const connection = new RedisConnection({ url: REDIS_URL, prefix });
    await connection.destroy();
    await connection.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a refused envelope is printed with its id and code', { timeout: 180_000 }, async () => {
    const akzhol = chat('KZ-KORDAI', 'KG-AKZHOL/desk-1');
    await ready(akzhol);
    const id = await sendTamperedChat(url(), paths, 'KZ-KORDAI/duty-1', 'KG-AKZHOL');
    const refused = await akzhol.until((line) => line.includes(`REFUSED envelope ${id}`));
    expect(refused).toMatch(/\(SIGNATURE_INVALID\)$/);
    expect(akzhol.lines.join('\n')).not.toContain('tampered');
    await leave(akzhol);
  });

  it(`a chat replaced by ${MAX_SESSIONS_PER_DEVICE} more sessions of its key says so, comes back, and still receives`, {
    timeout: 180_000,
  }, async () => {
    const akzhol = chat('KZ-KORDAI', 'KG-AKZHOL/desk-1');
    await ready(akzhol);
    // The same key opens as many sessions again as the gateway keeps: the chat is the oldest.
    const { keys } = await readDeviceKey(paths.deviceKey('KG-AKZHOL/desk-1'));
    for (let i = 0; i < MAX_SESSIONS_PER_DEVICE; i++) {
      const token = await createClientToken(keys, { audience: 'liaison-gateway' });
      const socket = io(url(), { auth: { token }, transports: ['websocket'], reconnection: false });
      extraSessions.push(socket);
      await new Promise((done) => socket.once('connect', () => done(undefined)));
    }
    const replaced = akzhol.lines.length;
    expect(await akzhol.until((line) => line.includes('SESSION_REPLACED'), replaced - 1)).toContain(
      `at most ${MAX_SESSIONS_PER_DEVICE} at once; close the chats`,
    );
    await akzhol.until((line) => line === 'connected to the gateway', replaced);
    // The replacement is said once: no "connection lost" line for the close it announced.
    expect(
      akzhol.lines
        .slice(replaced - 1)
        .filter((line) => line.startsWith('connection to the gateway lost')),
    ).toEqual([]);

    const sent = await liaison([
      'alert',
      'KG-AKZHOL',
      '--key',
      paths.deviceKey('KZ-KORDAI/desk-1'),
      '--gateway',
      url(),
      '--authority',
      paths.authorityPublic,
      '--title',
      'Sent after the replacement',
      '--precedence',
      'ROUTINE',
    ]);
    expect(sent.code).toBe(0);
    await akzhol.until((line) => line.includes('Sent after the replacement'), replaced);
    for (const socket of extraSessions.splice(0)) socket.close();
    await leave(akzhol);
  });

  it('a gateway killed with SIGKILL is shown as lost, and once it is back the chats reconnect and lines arrive', {
    timeout: 300_000,
  }, async () => {
    const kordai = chat('KG-AKZHOL', 'KZ-KORDAI/desk-1');
    await ready(kordai);
    const akzhol = chat('KZ-KORDAI', 'KG-AKZHOL/desk-1');
    await ready(akzhol);

    const killed = [kordai.lines.length, akzhol.lines.length] as const;
    await stopProcess((gateway as ServerProcess).process, 'SIGKILL');
    gateway = undefined;
    for (const [i, c] of [kordai, akzhol].entries())
      expect(
        await c.until((line) => line.startsWith('connection to the gateway lost'), killed[i]),
      ).toContain('reconnecting — lines you type are queued');
    kordai.child.stdin.write('typed while the gateway was down\n');
    await kordai.until((line) => line.includes('… queued: typed while the gateway was down'));

    // The same port, the same Redis prefix: what a supervisor restarting it does.
    gateway = await startGatewayProcess(port, env());
    for (const [i, c] of [kordai, akzhol].entries())
      await c.until((line) => line === 'connected to the gateway', killed[i]);
    kordai.child.stdin.write('typed after the restart\n');
    await kordai.until((line) => line.includes('✓ accepted: typed after the restart'));
    const first = await akzhol.until((line) => line.includes('typed while the gateway was down'));
    const second = await akzhol.until((line) => line.includes('typed after the restart'));
    expect(akzhol.lines.indexOf(first)).toBeLessThan(akzhol.lines.indexOf(second));
    // Killed, not stopped: no notice came, and none was made up.
    expect(kordai.lines.some((line) => line.includes('closing this session'))).toBe(false);
    await leave(kordai, akzhol);
  });
});
