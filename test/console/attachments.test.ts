import { readFile } from 'node:fs/promises';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LiaisonClient } from '../../src/client/client.js';
import { device } from '../fixtures/world.js';
import { AUDIENCE, newContext, type Stack, shot, signIn, startStack } from './stack.js';

const WAIT = { timeout: 30_000 };

describe('the Console: attachments (issue 17)', () => {
  let stack: Stack;
  const contexts: BrowserContext[] = [];
  let sender: LiaisonClient | undefined;

  beforeAll(async () => {
    stack = await startStack(['KG-AKZHOL/desk-1']);
  }, 120_000);
  afterAll(async () => {
    sender?.stop();
    for (const c of contexts) await c.close();
    await stack?.close();
  });

  it('a received file is listed with its name and size and saved verified, its type sniffed, not declared', async () => {
    const context = await newContext(stack);
    contexts.push(context);
    const akzhol = await signIn(stack, context, 'KG-AKZHOL/desk-1');
    await akzhol.getByTestId('connection').getByText('Online').waitFor(WAIT);

    // Kordai's duty desk sends, from the SDK, a "photo" that is a PDF inside.
    sender = new LiaisonClient({
      url: stack.gateway.url,
      audience: AUDIENCE,
      keys: device(stack.world, 'KZ-KORDAI/duty-1'),
      authority: stack.world.directory.authority,
    });
    await sender.start();
    const scan = new Uint8Array(400_000).fill(9);
    scan.set([...'%PDF-1.7'].map((c) => c.charCodeAt(0)));
    const ref = await sender.attach(scan, {
      name: 'passport-scan.jpg',
      declaredType: 'image/jpeg',
    });
    await sender.send('KG-AKZHOL', {
      type: 'chat',
      text: 'Scan of the passport',
      attachments: [ref],
    });

    const item = akzhol.getByTestId('message').filter({ hasText: 'Scan of the passport' });
    await item.waitFor(WAIT);
    const attachment = item.getByTestId('attachment');
    expect(await attachment.innerText()).toContain('passport-scan.jpg (391 KiB)');
    const download = akzhol.waitForEvent('download', WAIT);
    await attachment.getByRole('button', { name: 'Save' }).click();
    const saved = await download;
    expect(saved.suggestedFilename()).toBe('passport-scan.jpg');
    expect(Buffer.from(await readFile(await saved.path())).equals(Buffer.from(scan))).toBe(true);
    await attachment.getByTestId('attachment-note').waitFor(WAIT);
    expect(await attachment.getAttribute('data-status')).toBe('saved');
    expect(await attachment.getByTestId('attachment-note').innerText()).toContain(
      'The sender called it image/jpeg; it is application/pdf',
    );
    await shot(akzhol, 'operator-attachment');
  }, 180_000);
});
