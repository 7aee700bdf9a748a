// The office's handling, forwarding and attachments from the command line (issue 17): each
// command runs as its own process against a gateway on loopback, as an operator runs it.
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCommand } from '../../src/cli/admin.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { generateDevKeySet, keySetPaths } from '../../src/keystore/devset.js';
import { type JsonLines, jsonLines, liaison } from '../fixtures/cli.js';
import { startDevSetGateway } from '../fixtures/dev-gateway.js';
import { REDIS_URL } from '../fixtures/engines.js';

describe('handling, forwarding and attachments from the command line', () => {
  let dir: string;
  let paths: ReturnType<typeof keySetPaths>;
  let engine: RedisEngine;
  let gateway: Gateway;
  const chats: JsonLines[] = [];
  const common = () => ['--gateway', gateway.url, '--authority', paths.authorityPublic, '--json'];
  const key = (deviceId: string) => ['--key', paths.deviceKey(deviceId)];
  const inbox = async (deviceId: string) => {
    const run = await liaison(['inbox', ...key(deviceId), ...common()]);
    expect(run.stderr).toBe('');
    return run.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { id: string; body: Record<string, unknown> });
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-forwarding-'));
    await generateDevKeySet(dir);
    paths = keySetPaths(dir);
    // Ak-Zhol works with Oybek too: the third office an item could be passed on to.
    await adminCommand(
      [
        'link',
        '--authority',
        paths.authorityKey,
        '--directory',
        paths.directory,
        'KG-AKZHOL',
        'UZ-OYBEK',
      ],
      () => undefined,
    );
    engine = new RedisEngine({
      url: REDIS_URL,
      prefix: `liaison-test:${randomUUID()}:`,
      retentionMs: 600_000,
    });
    gateway = await startDevSetGateway(dir, engine);
  }, 120_000);
  afterAll(async () => {
    for (const c of chats) {
      c.child.kill();
      await c.exited;
    }
    await gateway?.close();
    await engine?.destroy();
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("an alert without --handling goes out with the office's default; --handling overrides it", {
    timeout: 180_000,
  }, async () => {
    const env = { ...process.env, LIAISON_DEFAULT_HANDLING: 'H1' };
    const alert = (title: string, ...extra: string[]) =>
      liaison(
        ['alert', 'KG-AKZHOL', ...key('KZ-KORDAI/desk-1'), ...common(), '--title', title, ...extra],
        { env },
      );
    // One after the other: two sends with one key at once would take the same counter from its
    // state file, and the second would be refused as a replay (PROTOCOL.md §7.6).
    const byDefault = await alert('Blue Kamaz, plate 01 KZ 777');
    const chosen = await alert(
      'Courier on the night bus',
      '--handling',
      'H3',
      '--restriction',
      'not to customs',
    );
    const wrong = await liaison(
      ['alert', 'KG-AKZHOL', ...key('KZ-KORDAI/desk-1'), '--title', 'x'],
      {
        env: { ...process.env, LIAISON_DEFAULT_HANDLING: 'H9' },
      },
    );
    expect(byDefault.stderr).toBe('');
    expect(chosen.stderr).toBe('');
    // A default that is no code is said with the variable to fix.
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('LIAISON_DEFAULT_HANDLING: expected H0, H1, H2 or H3');

    const waiting = await inbox('KG-AKZHOL/desk-1');
    const titled = (title: string) => waiting.find((m) => m.body.title === title)?.body;
    expect(titled('Blue Kamaz, plate 01 KZ 777')?.handling).toEqual({ code: 'H1' });
    expect(titled('Courier on the night bus')?.handling).toEqual({
      code: 'H3',
      restriction: 'not to customs',
    });
    const human = await liaison([
      'inbox',
      ...key('KG-AKZHOL/desk-1'),
      '--gateway',
      gateway.url,
      '--authority',
      paths.authorityPublic,
    ]);
    expect(human.stdout).toContain('[H1] Blue Kamaz, plate 01 KZ 777');
  });

  it('an H2 item is refused for forwarding until its provider permits it, then arrives marked with its origin', {
    timeout: 240_000,
  }, async () => {
    const sent = await liaison([
      'alert',
      'KG-AKZHOL',
      ...key('KZ-KORDAI/desk-1'),
      ...common(),
      '--title',
      'White Lexus crosses tonight',
      '--handling',
      'H2',
    ]);
    const { id } = JSON.parse(sent.stdout) as { id: string };

    const forward = () =>
      liaison(['forward', id, '--to', 'UZ-OYBEK', ...key('KG-AKZHOL/desk-1'), ...common()]);
    const refused = await forward();
    expect(refused.code).toBe(1);
    const error = JSON.parse(refused.stderr) as { error: { code: string; message: string } };
    expect(error.error.code).toBe('FORWARD_NOT_PERMITTED');
    expect(error.error.message).toContain(`only with KZ-KORDAI's permission`);

    const permit = await liaison([
      'permit',
      id,
      '--holder',
      'KG-AKZHOL',
      '--to',
      'UZ-OYBEK',
      ...key('KZ-KORDAI/desk-1'),
      ...common(),
    ]);
    expect(permit.stderr).toBe('');
    expect(JSON.parse(permit.stdout)).toMatchObject({ permitted: id, to: ['UZ-OYBEK'] });

    const forwarded = await forward();
    expect(forwarded.stderr).toBe('');
    expect(JSON.parse(forwarded.stdout)).toMatchObject({ forwarded: id, to: 'UZ-OYBEK' });
    const arrived = (await inbox('UZ-OYBEK/desk-1')).find(
      (m) => (m.body.forwardedFrom as { envelopeId?: string } | undefined)?.envelopeId === id,
    );
    expect(arrived?.body).toMatchObject({
      type: 'alert',
      title: 'White Lexus crosses tonight',
      handling: { code: 'H2' },
      forwardedFrom: { envelopeId: id, office: 'KZ-KORDAI', handling: { code: 'H2' } },
    });
  });

  it('in a chat, /forward is refused for an H2 line until /permit, and /attach sends a file', {
    timeout: 300_000,
  }, async () => {
    const chat = (deviceId: string, office: string, ...extra: string[]) => {
      const c = jsonLines(['chat', office, ...key(deviceId), ...common(), ...extra]);
      chats.push(c);
      return c;
    };
    const kordai = chat('KZ-KORDAI/duty-1', 'KG-AKZHOL', '--handling', 'H2');
    expect(await kordai.until((e) => e.event === 'ready')).toMatchObject({
      handling: { code: 'H2' },
    });
    const akzhol = chat('KG-AKZHOL/duty-1', 'KZ-KORDAI');
    await akzhol.until((e) => e.event === 'ready');

    kordai.child.stdin.write('Informant: the courier changes buses in Bishkek\n');
    const line = await akzhol.until(
      (e) =>
        e.event === 'message' && (e.body as { text?: string }).text?.includes('courier') === true,
    );
    expect(line.body).toMatchObject({ handling: { code: 'H2' } });
    const id = line.id as string;

    let from = akzhol.events.length;
    akzhol.child.stdin.write(`/forward ${id} UZ-OYBEK\n`);
    expect(await akzhol.until((e) => e.event === 'error', from)).toMatchObject({
      command: 'forward',
      code: 'FORWARD_NOT_PERMITTED',
    });

    kordai.child.stdin.write(`/permit ${id} UZ-OYBEK\n`);
    await kordai.until((e) => e.event === 'permitted');
    await akzhol.until(
      (e) =>
        e.event === 'message' &&
        (e.body as { permitsForward?: { envelopeId: string } }).permitsForward?.envelopeId === id,
    );
    from = akzhol.events.length;
    akzhol.child.stdin.write(`/forward ${id} UZ-OYBEK\n`);
    expect(
      await akzhol.until((e) => e.event === 'forwarded' || e.event === 'error', from),
    ).toMatchObject({ event: 'forwarded', forwarded: id, to: 'UZ-OYBEK' });

    // A photo from the chat: encrypted, uploaded, then sent with its caption.
    const photo = join(dir, 'bus ticket.jpg');
    const bytes = Buffer.alloc(300_000, 5);
    bytes.set([0xff, 0xd8, 0xff, 0xe0]);
    await writeFile(photo, bytes);
    kordai.child.stdin.write(`/attach "${photo}" Ticket found on the courier\n`);
    await kordai.until((e) => e.event === 'attached');
    const withFile = await akzhol.until(
      (e) =>
        e.event === 'message' &&
        (e.body as { text?: string }).text === 'Ticket found on the courier',
    );
    expect(withFile.body).toMatchObject({
      handling: { code: 'H2' },
      attachments: [{ name: 'bus ticket.jpg', size: 300_000, chunks: 2 }],
    });

    // A file that is not there is said, and the chat goes on.
    from = kordai.events.length;
    kordai.child.stdin.write('/attach /nonexistent/file.jpg\n');
    expect(await kordai.until((e) => e.event === 'error', from)).toMatchObject({
      command: 'attach',
      message: '--attach /nonexistent/file.jpg: no such file',
    });
  });
});
