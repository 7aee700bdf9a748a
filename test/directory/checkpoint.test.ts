import { describe, expect, it } from 'vitest';
import { furtherCheckpoint, signCheckpoint } from '../../src/directory/checkpoint.js';
import { buildWorld, device, NOW } from '../fixtures/world.js';

// Two processes of one device (the CLI's commands) each kept a checkpoint of CARICC's record:
// the state file keeps the one further along, so neither holds the record to less than was seen.

describe('the checkpoint kept of two', () => {
  it('is the higher position, or at one position the later; an unreadable one never wins', async () => {
    const world = await buildWorld();
    const hub = device(world, 'CARICC/hub');
    const two = await signCheckpoint(hub, { seq: 2, hash: 'a'.repeat(64) }, NOW + 1_000);
    const three = await signCheckpoint(hub, { seq: 3, hash: 'b'.repeat(64) }, NOW + 900);
    const threeLater = await signCheckpoint(hub, { seq: 3, hash: 'b'.repeat(64) }, NOW + 2_000);
    expect(furtherCheckpoint(two, three)).toBe(three);
    expect(furtherCheckpoint(three, two)).toBe(three);
    expect(furtherCheckpoint(three, threeLater)).toBe(threeLater);
    expect(furtherCheckpoint(threeLater, three)).toBe(threeLater);
    expect(furtherCheckpoint(undefined, two)).toBe(two);
    expect(furtherCheckpoint(two, undefined)).toBe(two);
    const garbled = { ...three, payload: 'not-a-checkpoint' };
    expect(furtherCheckpoint(two, garbled)).toBe(two);
  });
});
