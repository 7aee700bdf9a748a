import { beforeAll, describe, expect, it } from 'vitest';
import type { AlertBody } from '../../protocol/v1/payload.js';
import { openEnvelope } from '../../src/envelope/open.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { buildWorld, device, NOW, type World } from '../fixtures/world.js';

let world: World;
beforeAll(async () => {
  world = await buildWorld();
});

const toAkzhol = (w: World) => w.directory.recipientKeys(['KG-AKZHOL'], NOW);

describe('envelope round trip', () => {
  it('a chat from Kordai opens on both Ak-Zhol devices and at the hub, with the sender proven', async () => {
    const sender = device(world, 'KZ-KORDAI/desk-1');
    const envelope = await sealEnvelope({
      sender,
      to: ['KG-AKZHOL'],
      body: { type: 'chat', text: 'Truck KG 123 ABC turned back at the gate, heading your way' },
      recipients: toAkzhol(world),
      counter: 1,
      directory: world.directory.head,
      createdAt: NOW,
    });
    expect(envelope.recipients.map((r) => r.deviceId)).toEqual([
      'CARICC/hub',
      'KG-AKZHOL/desk-1',
      'KG-AKZHOL/duty-1',
    ]);
    for (const id of ['KG-AKZHOL/desk-1', 'KG-AKZHOL/duty-1', 'CARICC/hub']) {
      const opened = await openEnvelope(envelope, device(world, id), world.directory, NOW);
      expect(opened.sender.deviceId).toBe('KZ-KORDAI/desk-1');
      expect(opened.body).toEqual({
        type: 'chat',
        text: 'Truck KG 123 ABC turned back at the gate, heading your way',
      });
    }
  });

  it('an alert carries its precedence in the visible header and its details only inside', async () => {
    const alert: AlertBody = {
      type: 'alert',
      category: 'suspicious-vehicle',
      precedence: 'FLASH',
      title: 'Grey Kamaz with false floor',
      description: 'Driver refused inspection and turned back towards Ak-Zhol.',
      location: { bcp: 'Kordai', coordinates: { lat: 43.0441, lon: 74.7092 } },
      subjects: [
        { kind: 'vehicle', plate: '01 KG 777 ABC', country: 'KG' },
        { kind: 'person', name: 'Driver, name unknown', nationality: 'KG' },
      ],
      validFrom: NOW,
      validUntil: NOW + 6 * 3600_000,
    };
    const envelope = await sealEnvelope({
      sender: device(world, 'KZ-KORDAI/duty-1'),
      to: ['KG-AKZHOL'],
      body: alert,
      recipients: toAkzhol(world),
      counter: 1,
      directory: world.directory.head,
      createdAt: NOW,
    });
    expect(envelope.header.kind).toBe('alert');
    expect(envelope.header.precedence).toBe('FLASH');
    expect(JSON.stringify(envelope)).not.toContain('Kamaz');
    const opened = await openEnvelope(
      envelope,
      device(world, 'KG-AKZHOL/desk-1'),
      world.directory,
      NOW,
    );
    expect(opened.body).toEqual(alert);
  });
});
