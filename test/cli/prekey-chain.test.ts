// A key's first commands started at once (two chats of one desk, say) must share one prekey
// chain: each starting its own, the last to save would lose the other's private prekeys, and
// what was sealed to them could never be opened (OWN_KEY_MISSING). concurrent-receives.test.ts
// failed that way about one run in several before the chain was started under the state lock.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadClientStateWithPrekeys } from '../../src/cli/client-state.js';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { PrekeyStore } from '../../src/crypto/prekey-store.js';

describe('the prekey chain of a key used by several commands', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-prekey-chain-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('commands starting at once all get the one chain, and later ones keep it', async () => {
    const keys = await generateDeviceKeys('KG-AKZHOL/desk-1');
    const keyFile = join(dir, 'desk-1.key');
    const states = await Promise.all(
      Array.from({ length: 8 }, () => loadClientStateWithPrekeys(keyFile, keys)),
    );
    const sealed = new Set(states.map((s) => s.prekeyState));
    expect(sealed.size).toBe(1);
    const [state] = sealed;
    expect(state).toBeDefined();
    // Each command derives the same prekeys, so any of them opens what was sealed to another's.
    const now = Date.now();
    const published = states.map((s) =>
      JSON.stringify(PrekeyStore.open(keys, s.prekeyState).published(now)),
    );
    expect(new Set(published).size).toBe(1);
    expect((await loadClientStateWithPrekeys(keyFile, keys)).prekeyState).toBe(state);
  });

  it('keeps what the file already holds', async () => {
    const keys = await generateDeviceKeys('KG-AKZHOL/duty-1');
    const keyFile = join(dir, 'duty-1.key');
    await writeFile(`${keyFile}.state.json`, JSON.stringify({ heldOffset: 7 }));
    const state = await loadClientStateWithPrekeys(keyFile, keys);
    expect(state).toMatchObject({ heldOffset: 7 });
    expect(JSON.parse(await readFile(`${keyFile}.state.json`, 'utf8'))).toMatchObject({
      heldOffset: 7,
      prekeyState: state.prekeyState,
    });
  });
});
