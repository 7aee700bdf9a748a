import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LiaisonClient, type Message } from '../../src/client/client.js';
import { issueCertificate } from '../../src/crypto/certificate.js';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { waitFor } from '../fixtures/client.js';
import { nextStatement } from '../fixtures/directory-changes.js';
import { REDIS_URL } from '../fixtures/engines.js';
import { AUDIENCE, startTestGateway } from '../fixtures/gateway.js';
import { buildWorld, DAY, device, type World } from '../fixtures/world.js';

describe('the client SDK against a real gateway', () => {
  let world: World;
  let engine: RedisEngine;
  let gateway: Gateway;
  const clients: LiaisonClient[] = [];
  // What each device saved last time, as an app would: its prekeys open what was sealed to it.
  const prekeyStates = new Map<string, string>();
  const client = (deviceId: string, lastOffset = 0, copyToOwnOffice = false) => {
    const saved = prekeyStates.get(deviceId);
    const c = new LiaisonClient({
      url: gateway.url,
      audience: AUDIENCE,
      keys: device(world, deviceId),
      authority: world.directory.authority,
      lastOffset,
      copyToOwnOffice,
      ...(saved ? { prekeyState: saved } : {}),
    });
    prekeyStates.set(deviceId, c.prekeyState);
    c.on('stateChanged', () => prekeyStates.set(deviceId, c.prekeyState));
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    world = await buildWorld(Date.now());
    engine = new RedisEngine({
      url: REDIS_URL,
      prefix: `liaison-test:${randomUUID()}:`,
      retentionMs: 60_000,
    });
    gateway = await startTestGateway(engine, world);
  });
  // A device may hold several sessions (PROTOCOL.md §9.1): a client left running by one test
  // would see, and acknowledge, what the next test sends to the same device.
  afterEach(() => {
    for (const c of clients.splice(0)) c.stop();
  });
  afterAll(async () => {
    await gateway.close();
    await engine.destroy();
    await engine.close();
  });

  it('two offices chat; the sender sees accepted, delivered and read', async () => {
    const kordai = client('KZ-KORDAI/desk-1');
    const akzhol = client('KG-AKZHOL/desk-1');
    await kordai.start();
    await akzhol.start();
    const statuses: string[] = [];
    kordai.on('status', (s) => statuses.push(s.status));
    const arrived = waitFor(akzhol, 'message');
    const delivered = waitFor(kordai, 'status', (s) => s.status === 'delivered');
    const id = await kordai.sendChat('KG-AKZHOL', 'Convoy of three trucks at 10:40');
    const message = await arrived;
    expect(message).toMatchObject({
      id,
      from: 'KZ-KORDAI',
      body: { type: 'chat', text: 'Convoy of three trucks at 10:40' },
    });
    // Delivered (the recipient's ack) and read (its receipt envelope) travel separately, so
    // either may arrive first; the sender must see both.
    const read = waitFor(kordai, 'status', (s) => s.status === 'read' && s.id === id);
    await akzhol.markRead('KZ-KORDAI', [id]);
    await Promise.all([delivered, read]);
    expect(statuses).toEqual(expect.arrayContaining(['accepted', 'delivered', 'read']));
  });

  it('with copies on, the office’s other desk sees what was sent as a copy; only the addressed office makes it delivered', async () => {
    // Own prefix of devices in this test: nothing else here uses the spare desks.
    const desk = client('KZ-KORDAI/desk-1', 0, true);
    const duty = client('KZ-KORDAI/duty-1', 0, true);
    await Promise.all([desk.start(), duty.start()]);
    const statuses: { id: string; status: string; by?: string }[] = [];
    desk.on('status', (s) => statuses.push(s));
    const copied = waitFor(duty, 'message', (m) => m.body.type === 'chat');
    const id = await desk.sendChat('KG-AKZHOL', 'Copy for the duty desk');
    expect(await copied).toMatchObject({
      id,
      copy: true,
      from: 'KZ-KORDAI',
      sender: 'KZ-KORDAI/desk-1',
      header: { to: ['KG-AKZHOL'] },
      body: { text: 'Copy for the duty desk' },
    });
    // The duty desk acknowledged its copy: that is not a delivery to KG-AKZHOL.
    await expect
      .poll(() => engine.inboxes.pending('KZ-KORDAI/duty-1'), { timeout: 10_000 })
      .toBe(0);
    const akzhol = client('KG-AKZHOL/duty-1');
    const delivered = waitFor(desk, 'status', (s) => s.status === 'delivered' && s.id === id);
    const arrived = waitFor(akzhol, 'message', (m) => m.id === id);
    await akzhol.start();
    expect(await arrived).toMatchObject({ copy: false, from: 'KZ-KORDAI' });
    expect(await delivered).toMatchObject({ by: 'KG-AKZHOL/duty-1' });
    expect(statuses.filter((s) => s.status === 'delivered' && s.id === id)).toEqual([
      { id, status: 'delivered', by: 'KG-AKZHOL/duty-1' },
    ]);
    // Read receipts are not copied: the duty desk's inbox stays empty after a receipt, and the
    // counter the receipt took is no gap the duty desk reports when the next line comes.
    const gaps: unknown[] = [];
    duty.on('missing', (m) => gaps.push(m));
    await desk.markRead('KG-AKZHOL', [randomUUID()]);
    expect(await engine.inboxes.pending('KZ-KORDAI/duty-1')).toBe(0);
    const next = waitFor(duty, 'message', (m) => m.body.type === 'chat' && m.id !== id);
    await desk.sendChat('KG-AKZHOL', 'After the receipt');
    await next;
    expect(gaps).toEqual([]);
  });

  it('an alert arrives structured and is acknowledged by the receiving office', async () => {
    const kordai = client('KZ-KORDAI/duty-1');
    const akzhol = client('KG-AKZHOL/duty-1');
    await Promise.all([kordai.start(), akzhol.start()]);
    const arrived = waitFor(akzhol, 'message', (m) => m.body.type === 'alert');
    const alertId = await kordai.sendAlert('KG-AKZHOL', {
      category: 'drug-seizure',
      precedence: 'IMMEDIATE',
      title: '14 kg hashish in a spare tyre',
      description: 'Second car turned back towards Ak-Zhol.',
      location: { bcp: 'Kordai' },
      subjects: [{ kind: 'vehicle', plate: '01 KG 777 ABC' }],
      validFrom: Date.now(),
      validUntil: Date.now() + 3_600_000,
    });
    expect((await arrived).header.precedence).toBe('IMMEDIATE');
    const acked = waitFor(kordai, 'message', (m) => m.body.type === 'alert-ack');
    await akzhol.acknowledgeAlert('KZ-KORDAI', alertId, 'Units dispatched');
    expect((await acked).body).toEqual({ type: 'alert-ack', alertId, note: 'Units dispatched' });
  });

  it('a device that was offline catches up on reconnect, in order, exactly once', async () => {
    const first = client('KG-AKZHOL/desk-1');
    const got: Message[] = [];
    first.on('message', (m) => got.push(m));
    await first.start();
    await new Promise((r) => setTimeout(r, 200));
    const resumeAt = first.offset;
    first.stop();

    const kordai = client('KZ-KORDAI/desk-1');
    await kordai.start();
    const ids = [];
    for (const text of ['one', 'two', 'three']) ids.push(await kordai.sendChat('KG-AKZHOL', text));

    const again = client('KG-AKZHOL/desk-1', resumeAt);
    const later: Message[] = [];
    again.on('message', (m) => later.push(m));
    await again.start();
    expect(later.map((m) => m.id)).toEqual(ids);
  });

  it('warns when a linked office’s device key changes, with the new fingerprint', async () => {
    const akzhol = client('KG-AKZHOL/duty-1');
    await akzhol.start();
    const rotated = await generateDeviceKeys('KZ-KORDAI/duty-1');
    const certificate = await issueCertificate(world.authority, {
      role: 'device',
      deviceId: rotated.deviceId,
      country: 'KZ',
      signingPublicKey: rotated.signingPublicKey,
      encryptionPublicKey: rotated.encryptionPublicKey,
      notBefore: Date.now() - DAY,
      notAfter: Date.now() + DAY,
    });
    const statement = await nextStatement(world, 'device.key-rotated', {
      certificate,
      previousKeyId: device(world, 'KZ-KORDAI/duty-1').keyId,
    });
    await gateway.sync.submit([statement]);
    const warned = waitFor(akzhol, 'keyChanged');
    await akzhol.refreshDirectory();
    expect(await warned).toMatchObject({ deviceId: 'KZ-KORDAI/duty-1', keyId: rotated.keyId });
    expect((await warned).fingerprint).toMatch(/^(\d{5} ){7}\d{5}$/);
  });

  it('tells the user when a linked office gains or loses a device, before sealing for it, across restarts', async () => {
    const first = client('KZ-KORDAI/desk-1');
    await first.start();
    const roster = first.roster;
    first.stop();
    expect(Object.keys(roster)).toContain('KG-AKZHOL/desk-1');

    // While this device is off, a ghost device joins the linked office.
    const ghost = await generateDeviceKeys('KG-AKZHOL/desk-9');
    const enrolment = await world.certify(ghost, 'device');
    world.directory.apply(enrolment);
    await gateway.sync.submit([enrolment]);

    const again = new LiaisonClient({
      url: gateway.url,
      audience: AUDIENCE,
      keys: device(world, 'KZ-KORDAI/desk-1'),
      authority: world.directory.authority,
      knownDevices: roster,
    });
    clients.push(again);
    const events: string[] = [];
    again.on('deviceAdded', (d) => events.push(`added ${d.deviceId}`));
    again.on('status', (s) => events.push(`${s.status} ${s.id}`));
    await again.start();
    const id = await again.sendChat('KG-AKZHOL', 'who else reads this?');
    const added = events.indexOf('added KG-AKZHOL/desk-9');
    expect(added).toBeGreaterThanOrEqual(0);
    expect(added).toBeLessThan(events.indexOf(`accepted ${id}`));

    const removed = waitFor(again, 'deviceRemoved');
    await gateway.sync.submit([
      await nextStatement(world, 'device.revoked', { deviceId: ghost.deviceId, reason: 'lost' }),
    ]);
    await again.refreshDirectory();
    expect(await removed).toEqual({ officeId: 'KG-AKZHOL', deviceId: 'KG-AKZHOL/desk-9' });
  });

  it('refuses a gateway that serves another authority’s directory', async () => {
    const otherWorld = await buildWorld(Date.now());
    const stranger = new LiaisonClient({
      url: gateway.url,
      audience: AUDIENCE,
      keys: device(otherWorld, 'KZ-KORDAI/desk-1'),
      authority: otherWorld.directory.authority,
    });
    await expect(stranger.start()).rejects.toMatchObject({ code: 'CERT_UNTRUSTED' });
  });
});
