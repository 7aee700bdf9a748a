import { beforeAll, describe, expect, it } from 'vitest';
import { openEnvelope } from '../../src/envelope/open.js';
import { MIN_PADDED, paddedLength } from '../../src/envelope/padding.js';
import { sealEnvelope } from '../../src/envelope/seal.js';
import { buildWorld, device, NOW, type World } from '../fixtures/world.js';

// What the gateway (or anyone on the path) learns from an envelope's size: only its bucket.
describe('envelope padding', () => {
  let world: World;
  beforeAll(async () => {
    world = await buildWorld();
  });
  const sealAlert = (description: string) =>
    sealEnvelope({
      sender: device(world, 'KZ-KORDAI/desk-1'),
      to: ['KG-AKZHOL'],
      body: {
        type: 'alert',
        category: 'drug-seizure',
        precedence: 'FLASH',
        title: 'Seizure',
        description,
        location: { bcp: 'Kordai' },
        subjects: [],
        validFrom: NOW,
        validUntil: NOW + 1,
      },
      recipients: world.directory.recipientKeys(['KG-AKZHOL'], NOW),
      counter: 1,
      createdAt: NOW,
      directory: world.directory.head,
    });

  it('two alerts of very different lengths in one bucket have ciphertexts of one length', async () => {
    const short = await sealAlert('2 kg');
    const long = await sealAlert(
      '14 kg of hashish in the spare tyre of a white Lexus LX, plate 01 KG 777 ABC',
    );
    expect(short.ciphertext.length).toBe(long.ciphertext.length);
    const bigger = await sealAlert('x'.repeat(700));
    expect(bigger.ciphertext.length).toBeGreaterThan(short.ciphertext.length);
    // Still opens, to exactly what was sealed.
    const opened = await openEnvelope(
      long,
      device(world, 'KG-AKZHOL/desk-1'),
      world.directory,
      NOW,
    );
    expect(opened.body).toMatchObject({ description: expect.stringContaining('white Lexus') });
  });

  it('pads by Padmé: at least 512 bytes, at most 11 % more, only the top bits of a length say anything', () => {
    expect(paddedLength(1)).toBe(MIN_PADDED);
    expect(paddedLength(512)).toBe(512);
    expect(paddedLength(513)).toBe(544);
    expect(paddedLength(1100)).toBe(1152);
    expect(paddedLength(40_000)).toBe(40_960);
    for (let length = 1; length < 70_000; length += 97) {
      const padded = paddedLength(length);
      expect(padded).toBeGreaterThanOrEqual(length);
      expect(padded).toBeLessThanOrEqual(Math.max(MIN_PADDED, length * 1.12));
      // Padmé: of a padded length's E + 1 bits (E = floor(log2 L)), the low E − S are zero,
      // S = floor(log2 E) + 1: at most S + 1 bits say anything.
      const e = Math.floor(Math.log2(Math.max(length, MIN_PADDED)));
      const significant = padded.toString(2).replace(/0+$/, '').length;
      expect(significant).toBeLessThanOrEqual(Math.floor(Math.log2(e)) + 2);
    }
  });
});
