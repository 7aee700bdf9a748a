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
    stack = await startStack(['KZ-KORDAI/desk-1', 'KG-AKZHOL/desk-1']);
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

  it('an alert sent from the form carries a chosen photo, encrypted in the browser; the other office saves it', async () => {
    const context = await newContext(stack);
    contexts.push(context);
    const kordai = await signIn(stack, context, 'KZ-KORDAI/desk-1');
    await kordai.getByTestId('connection').getByText('Online').waitFor(WAIT);
    const akzhol = contexts[0]?.pages()[0];
    if (!akzhol) throw new Error('the first test signs Ak-Zhol in');

    const photo = Buffer.alloc(600_000, 3);
    photo.set([0xff, 0xd8, 0xff, 0xe0]);
    await kordai.getByRole('button', { name: 'New alert' }).click();
    const form = kordai.getByTestId('alert-form');
    await form.locator('input[name=title]').fill('White van, plate hidden');
    await form
      .locator('input[name=attachments]')
      .setInputFiles({ name: 'van.jpg', mimeType: 'image/jpeg', buffer: photo });
    await form.getByRole('button', { name: 'Send alert' }).click();

    const card = akzhol.getByTestId('message').filter({ hasText: 'White van, plate hidden' });
    await card.waitFor(WAIT);
    const attachment = card.getByTestId('attachment');
    expect(await attachment.innerText()).toContain('van.jpg (586 KiB)');
    const download = akzhol.waitForEvent('download', WAIT);
    await attachment.getByRole('button', { name: 'Save' }).click();
    const saved = await download;
    expect(Buffer.from(await readFile(await saved.path())).equals(photo)).toBe(true);
    await attachment.getByTestId('attachment-note').waitFor(WAIT);
    expect(await attachment.getByTestId('attachment-note').innerText()).toContain(
      'Saved: image/jpeg, integrity checked',
    );
  }, 180_000);
});
