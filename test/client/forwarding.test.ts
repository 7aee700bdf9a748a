// Forwarding (PROTOCOL.md §8.1): an item marked H2 goes to a third office only with its provider
// office's permission, recorded in the conversation; a forwarded item says where it came from.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Message } from '../../src/client/client.js';
import { mergePermissions } from '../../src/client/forwarding.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { testClients, waitFor } from '../fixtures/client.js';
import { nextStatement } from '../fixtures/directory-changes.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, type World } from '../fixtures/world.js';

describe('forwarding an item to a third office', () => {
  let world: World;
  let engine: RedisEngine;
  let gateway: Gateway;
  const { client, stopAll } = testClients(
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
    gateway = await startTestGateway(engine, world);
    // Kordai works with Oybek too: the third office an item could be passed on to.
    await gateway.sync.submit([
      await nextStatement(world, 'link.created', { offices: ['KZ-KORDAI', 'UZ-OYBEK'] }),
    ]);
  });
  afterEach(stopAll);
  afterAll(async () => {
    await gateway.close();
    await engine.destroy();
    await engine.close();
  });

  it('an H2 item is refused until its provider permits that office, then arrives marked with its origin', async () => {
    const akzhol = client('KG-AKZHOL/desk-1');
    const kordai = client('KZ-KORDAI/desk-1');
    const oybek = client('UZ-OYBEK/desk-1');
    await Promise.all([akzhol.start(), kordai.start(), oybek.start()]);

    const received = waitFor(kordai, 'message', (m) => m.body.type === 'chat');
    await akzhol.send('KZ-KORDAI', {
      type: 'chat',
      text: 'Informant says the white Lexus crosses tonight',
      handling: { code: 'H2' },
    });
    const item = await received;

    // Kordai cannot pass it on by itself, nor does Oybek's word count.
    await expect(kordai.forward(item, 'UZ-OYBEK')).rejects.toMatchObject({
      code: 'FORWARD_NOT_PERMITTED',
    });
    const fromOybek = waitFor(kordai, 'message', (m) => m.from === 'UZ-OYBEK');
    await oybek.permitForward('KZ-KORDAI', item.id, ['UZ-OYBEK']);
    await fromOybek;
    await expect(kordai.forward(item, 'UZ-OYBEK')).rejects.toMatchObject({
      code: 'FORWARD_NOT_PERMITTED',
    });

    // Ak-Zhol permits Oybek, in the conversation: then it goes, and only there.
    const permitted = waitFor(
      kordai,
      'message',
      (m) =>
        m.from === 'KG-AKZHOL' && m.body.type === 'chat' && m.body.permitsForward !== undefined,
    );
    await akzhol.permitForward('KZ-KORDAI', item.id, ['UZ-OYBEK']);
    await permitted;
    const forwarded = waitFor(oybek, 'message', (m) => m.from === 'KZ-KORDAI');
    await kordai.forward(item, 'UZ-OYBEK');
    const arrived: Message = await forwarded;
    expect(arrived.body).toMatchObject({
      type: 'chat',
      text: 'Informant says the white Lexus crosses tonight',
      handling: { code: 'H2' },
      forwardedFrom: { envelopeId: item.id, office: 'KG-AKZHOL', handling: { code: 'H2' } },
    });
    await expect(kordai.forward(item, 'KG-AKZHOL')).rejects.toMatchObject({
      code: 'FORWARD_NOT_PERMITTED',
    });
    // What was permitted is kept for a restart (the CLI saves it with its state).
    expect(kordai.forwardPermissions[`${item.id} KG-AKZHOL`]).toEqual({
      from: 'KG-AKZHOL',
      to: ['UZ-OYBEK'],
    });
  });

  it('a third office’s line about the same item neither wipes nor widens the provider’s permission', async () => {
    const akzhol = client('KG-AKZHOL/duty-1');
    const kordai = client('KZ-KORDAI/duty-1');
    const oybek = client('UZ-OYBEK/desk-1');
    await Promise.all([akzhol.start(), kordai.start(), oybek.start()]);
    const text = `Safe house near the bazaar ${randomUUID()}`;
    const received = waitFor(
      kordai,
      'message',
      (m) => m.body.type === 'chat' && m.body.text === text,
    );
    await akzhol.send('KZ-KORDAI', { type: 'chat', text, handling: { code: 'H2' } });
    const item = await received;
    const permitted = (from: string) =>
      waitFor(
        kordai,
        'message',
        (m) =>
          m.from === from &&
          m.body.type === 'chat' &&
          m.body.permitsForward?.envelopeId === item.id,
      );
    const fromProvider = permitted('KG-AKZHOL');
    await akzhol.permitForward('KZ-KORDAI', item.id, ['UZ-OYBEK']);
    await fromProvider;
    // Oybek, which knows the id (it is named in every forwarded copy), says something about it.
    const fromOybek = permitted('UZ-OYBEK');
    await oybek.permitForward('KZ-KORDAI', item.id, ['KG-AKZHOL']);
    await fromOybek;
    const forwarded = waitFor(oybek, 'message', (m) => m.from === 'KZ-KORDAI');
    await kordai.forward(item, 'UZ-OYBEK');
    expect((await forwarded).body).toMatchObject({ forwardedFrom: { envelopeId: item.id } });
  });

  it('permissions saved before they were kept per provider still count', async () => {
    const akzhol = client('KG-AKZHOL/duty-1');
    await akzhol.start();
    const received = waitFor(akzhol, 'message', (m) => m.from === 'KZ-KORDAI');
    const sender = client('KZ-KORDAI/duty-1');
    await sender.start();
    await sender.send('KG-AKZHOL', { type: 'chat', text: 'Old permit', handling: { code: 'H2' } });
    const item = await received;
    const restarted = client('KG-AKZHOL/duty-1', {
      forwardPermissions: { [item.id]: { from: 'KZ-KORDAI', to: ['UZ-OYBEK'] } },
    });
    expect(() => restarted.forwardedBody(item, 'UZ-OYBEK')).not.toThrow();
  });

  it('permissions two processes of one key saved are all kept, each to every office either saw', () => {
    const item = randomUUID();
    const other = randomUUID();
    const merged = mergePermissions(
      { [`${item} KZ-KORDAI`]: { from: 'KZ-KORDAI', to: ['UZ-OYBEK'] } },
      {
        [`${item} KZ-KORDAI`]: { from: 'KZ-KORDAI', to: ['TJ-PANJ'] },
        // Saved before permissions were kept per provider: keyed by the envelope id alone.
        [other]: { from: 'KZ-KORDAI', to: ['UZ-OYBEK'] },
      },
    );
    expect(merged).toEqual({
      [`${item} KZ-KORDAI`]: { from: 'KZ-KORDAI', to: ['UZ-OYBEK', 'TJ-PANJ'] },
      [`${other} KZ-KORDAI`]: { from: 'KZ-KORDAI', to: ['UZ-OYBEK'] },
    });
  });

  it('an office’s default handling code goes on what names none, never over what names one', async () => {
    const akzhol = client('KG-AKZHOL/desk-1', { defaultHandling: { code: 'H2' } });
    const kordai = client('KZ-KORDAI/desk-1');
    await Promise.all([akzhol.start(), kordai.start()]);
    const lines: Message[] = [];
    kordai.on('message', (m) => lines.push(m));
    const second = waitFor(
      kordai,
      'message',
      (m) => m.body.type === 'chat' && m.body.text === 'public',
    );
    await akzhol.sendChat('KZ-KORDAI', 'by default');
    await akzhol.send('KZ-KORDAI', { type: 'chat', text: 'public', handling: { code: 'H0' } });
    await second;
    const handling = (text: string) =>
      lines.map((m) => m.body).find((b) => b.type === 'chat' && b.text === text);
    expect(handling('by default')).toMatchObject({ handling: { code: 'H2' } });
    expect(handling('public')).toMatchObject({ handling: { code: 'H0' } });
  });

  it('an item without H2 is forwarded with its origin and its handling code', async () => {
    const akzhol = client('KG-AKZHOL/duty-1');
    const kordai = client('KZ-KORDAI/duty-1');
    const oybek = client('UZ-OYBEK/desk-1');
    await Promise.all([akzhol.start(), kordai.start(), oybek.start()]);
    const received = waitFor(kordai, 'message', (m) => m.body.type === 'chat');
    await akzhol.send('KZ-KORDAI', {
      type: 'chat',
      text: 'Road to Oybek closed',
      handling: { code: 'H1' },
    });
    const item = await received;
    const forwarded = waitFor(oybek, 'message', (m) => m.from === 'KZ-KORDAI');
    await kordai.forward(item, 'UZ-OYBEK');
    expect((await forwarded).body).toMatchObject({
      handling: { code: 'H1' },
      forwardedFrom: { envelopeId: item.id, office: 'KG-AKZHOL' },
    });
  });
});
