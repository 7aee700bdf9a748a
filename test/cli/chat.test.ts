import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryEngine } from '../../src/engine/memory.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { generateDevKeySet, keySetPaths } from '../../src/keystore/devset.js';
import { startDevSetGateway } from '../fixtures/dev-gateway.js';

const root = join(import.meta.dirname, '..', '..');
const LOADER = join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');

/** A `liaison chat --json` process, with its output parsed line by line. */
function chat(args: string[]) {
  const child = spawn(process.execPath, [
    '--import',
    LOADER,
    join(root, 'src', 'cli', 'main.ts'),
    'chat',
    ...args,
    '--json',
  ]);
  const events: Record<string, unknown>[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString();
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) events.push(JSON.parse(line));
  });
  const until = async (matches: (e: Record<string, unknown>) => boolean) => {
    // Up to a minute: a CLI process starts in seconds on a busy machine.
    for (let i = 0; i < 1200; i++) {
      const found = events.find(matches);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no such event; got ${JSON.stringify(events)}`);
  };
  return { child: child as ChildProcessWithoutNullStreams, events, until };
}

describe('liaison chat', () => {
  let dir: string;
  let gateway: Gateway;

  // A development key set (three Console files at 600,000 PBKDF2 rounds): seconds when busy.
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-chat-'));
    await generateDevKeySet(dir);
    gateway = await startDevSetGateway(dir, new MemoryEngine({ retentionMs: 60_000 }));
  }, 120_000);
  afterAll(async () => {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('two operators exchange lines across the border, with delivery states and presence', {
    timeout: 240_000,
  }, async () => {
    const paths = keySetPaths(dir);
    const common = ['--gateway', gateway.url, '--authority', paths.authorityPublic];
    const kordai = chat(['KG-AKZHOL', '--key', paths.deviceKey('KZ-KORDAI/desk-1'), ...common]);
    await kordai.until((e) => e.event === 'ready');
    const akzhol = chat(['KZ-KORDAI', '--key', paths.deviceKey('KG-AKZHOL/desk-1'), ...common]);
    await akzhol.until((e) => e.event === 'ready');
    await kordai.until((e) => e.event === 'presence' && e.online === true);

    kordai.child.stdin.write('Convoy of three trucks at 10:40\n');
    const received = await akzhol.until((e) => e.event === 'message');
    expect(received).toMatchObject({
      from: 'KZ-KORDAI/desk-1',
      body: { type: 'chat', text: 'Convoy of three trucks at 10:40' },
    });
    await kordai.until((e) => e.event === 'status' && e.status === 'delivered');
    await kordai.until((e) => e.event === 'status' && e.status === 'read');

    akzhol.child.stdin.write('Received, we will stop them\n');
    expect(await kordai.until((e) => e.event === 'message')).toMatchObject({
      body: { text: 'Received, we will stop them' },
    });

    for (const side of [kordai, akzhol]) side.child.stdin.end();
    const codes = await Promise.all(
      [kordai, akzhol].map((s) => new Promise((r) => s.child.once('exit', r))),
    );
    expect(codes).toEqual([0, 0]);
  });

  it('refuses an office that is not linked, with a clear error', async () => {
    const paths = keySetPaths(dir);
    // A chat that must not start: its exit code and what it said.
    const refused = async (office: string) => {
      const started = chat([
        office,
        '--key',
        paths.deviceKey('KZ-KORDAI/desk-1'),
        '--gateway',
        gateway.url,
        '--authority',
        paths.authorityPublic,
      ]);
      let stderr = '';
      started.child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise((r) => started.child.once('exit', r));
      return { code, stderr };
    };
    const stranger = await refused('UZ-OYBEK');
    expect(stranger.code).toBe(2);
    expect(stranger.stderr).toContain('NOT_LINKED');

    // A typo is not an unlinked office: it is named as unknown, with the offices one can write to.
    const typo = await refused('KG-AKZHL');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown office KG-AKZHL: not in the directory');
    expect(typo.stderr).toContain('KG-AKZHOL');
    expect(typo.stderr).not.toContain('NOT_LINKED');
  });
});
