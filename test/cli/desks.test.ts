import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryEngine } from '../../src/engine/memory.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { generateDevKeySet, keySetPaths } from '../../src/keystore/devset.js';
import { type JsonLines, jsonLines, liaison, type TextLines, textLines } from '../fixtures/cli.js';
import { startDevSetGateway } from '../fixtures/dev-gateway.js';

/**
 * Two desks of one office (KZ-KORDAI's desk-1 and duty-1) in one chat with the office across the
 * border: each desk sees what the other sent and acknowledged, so a shift change loses nothing.
 */
describe('two desks of one office', () => {
  let dir: string;
  let paths: ReturnType<typeof keySetPaths>;
  let gateway: Gateway;
  const running: (JsonLines | TextLines)[] = [];

  const common = () => ['--gateway', gateway.url, '--authority', paths.authorityPublic];
  const chatJson = (office: string, deviceId: string) => {
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
  const chatText = (office: string, deviceId: string) => {
    const c = textLines(['chat', office, '--key', paths.deviceKey(deviceId), ...common()]);
    running.push(c);
    return c;
  };
  const leave = async (...chats: (JsonLines | TextLines)[]) => {
    for (const c of chats) c.child.stdin.end();
    return Promise.all(chats.map((c) => c.exited));
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-desks-'));
    await generateDevKeySet(dir);
    paths = keySetPaths(dir);
    gateway = await startDevSetGateway(dir, new MemoryEngine({ retentionMs: 600_000 }));
  }, 120_000);
  afterAll(async () => {
    for (const c of running) if (c.child.exitCode === null) c.child.kill('SIGKILL');
    await Promise.all(running.map((c) => c.exited));
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('a line typed at one desk shows at the other as sent, reaches the other office once, and is delivered only by it', {
    timeout: 300_000,
  }, async () => {
    const desk1 = chatJson('KG-AKZHOL', 'KZ-KORDAI/desk-1');
    const desk2 = chatText('KG-AKZHOL', 'KZ-KORDAI/duty-1');
    await desk1.until((e) => e.event === 'ready');
    await desk2.until((l) => l.startsWith('chatting with KG-AKZHOL as KZ-KORDAI'));

    const text = 'Convoy of three trucks at 10:40';
    desk1.child.stdin.write(`${text}\n`);
    const { id } = await desk1.until((e) => e.event === 'status' && e.status === 'accepted');
    // Desk 2 reads it as sent by desk 1 to the other office.
    await desk2.until((l) => l.endsWith(`KZ-KORDAI/desk-1 → KG-AKZHOL: ${text}`));
    // Desk 2 took its copy off the server (it acknowledges right after showing; a one-shot
    // inbox started at that moment may still list it, so look again); that tells desk 1 nothing
    // about the other office.
    let desk2Inbox = '';
    for (let i = 0; i < 10 && !desk2Inbox.includes('nothing waiting'); i++)
      desk2Inbox = (
        await liaison(['inbox', '--key', paths.deviceKey('KZ-KORDAI/duty-1'), ...common()])
      ).stdout;
    expect(desk2Inbox).toContain('nothing waiting');
    const beforeAkzhol = desk1.events.length;
    expect(desk1.events.filter((e) => e.id === id).map((e) => e.status)).toEqual(['accepted']);

    // The other office comes online and reads it: desk 1 sees it delivered, by that office.
    const akzhol = chatJson('KZ-KORDAI', 'KG-AKZHOL/desk-1');
    const shown = await akzhol.until((e) => e.event === 'message' && e.id === id);
    expect(shown).toMatchObject({ office: 'KZ-KORDAI', from: 'KZ-KORDAI/desk-1', body: { text } });
    expect(shown.copy).toBeUndefined();
    const delivered = await desk1.until(
      (e) => e.event === 'status' && e.id === id && e.status === 'delivered',
      beforeAkzhol,
    );
    expect(delivered.by).toBe('KG-AKZHOL/desk-1');
    await desk1.until((e) => e.event === 'status' && e.id === id && e.status === 'read');

    expect(await leave(desk1, desk2, akzhol)).toEqual([0, 0, 0]);
    // Once at the other office, and never back at the desk that typed it.
    expect(akzhol.events.filter((e) => e.event === 'message' && e.id === id)).toHaveLength(1);
    expect(desk1.events.filter((e) => e.event === 'message' && e.id === id)).toHaveLength(0);
    const deliveredBy = desk1.events
      .filter((e) => e.event === 'status' && e.id === id && e.status === 'delivered')
      .map((e) => e.by);
    expect(deliveredBy.every((d) => String(d).startsWith('KG-AKZHOL/'))).toBe(true);
  });

  it('an alert acknowledged at one desk clears at the other', { timeout: 300_000 }, async () => {
    const desk1 = chatText('KG-AKZHOL', 'KZ-KORDAI/desk-1');
    const desk2 = chatJson('KG-AKZHOL', 'KZ-KORDAI/duty-1');
    const akzhol = chatJson('KZ-KORDAI', 'KG-AKZHOL/desk-1');
    await desk1.until((l) => l.startsWith('chatting with KG-AKZHOL as KZ-KORDAI'));
    await desk2.until((e) => e.event === 'ready');
    await akzhol.until((e) => e.event === 'ready');

    const sent = await liaison([
      'alert',
      'KZ-KORDAI',
      '--key',
      paths.deviceKey('KG-AKZHOL/duty-1'),
      ...common(),
      '--precedence',
      'FLASH',
      '--category',
      'drug-seizure',
      '--title',
      'Truck 01KG123ABC carries heroin',
      '--json',
    ]);
    expect(sent.code).toBe(0);
    const { id } = JSON.parse(sent.stdout.trim().split('\n').at(-1) as string);
    // Both desks are told to acknowledge it.
    await desk1.until((l) => l.includes(`acknowledge it: liaison inbox --ack ${id}`));
    await desk2.until((e) => e.event === 'message' && e.id === id);

    const acked = await liaison([
      'inbox',
      '--ack',
      id,
      '--key',
      paths.deviceKey('KZ-KORDAI/duty-1'),
      ...common(),
    ]);
    expect(acked.stdout).toContain(`acknowledged ${id}`);
    // The other office has the acknowledgement; desk 1 sees that desk 2 gave it.
    const ack = await akzhol.until(
      (e) => e.event === 'message' && (e.body as { alertId?: string }).alertId === id,
    );
    expect(ack).toMatchObject({ office: 'KZ-KORDAI', from: 'KZ-KORDAI/duty-1' });
    await desk1.until((l) => l.endsWith(`KZ-KORDAI/duty-1 → KG-AKZHOL: acknowledged alert ${id}`));

    expect(await leave(desk1, desk2, akzhol)).toEqual([0, 0, 0]);
    const acks = akzhol.events.filter(
      (e) => e.event === 'message' && (e.body as { alertId?: string }).alertId === id,
    );
    expect(acks).toHaveLength(1);
  });
});
