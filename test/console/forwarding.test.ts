// Forwarding and files from the chat in the Console (issue 17): real Chromium, real gateway on
// Redis, real crypto; a third office (Oybek) on the SDK.
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiaisonClient, Message } from '../../src/client/client.js';
import { testClients, waitFor } from '../fixtures/client.js';
import { nextStatement } from '../fixtures/directory-changes.js';
import { signedHead } from '../fixtures/gateway.js';
import { newContext, type Stack, shot, signIn, startStack } from './stack.js';

const WAIT = { timeout: 30_000 };

const message = (page: Page, text: string) => page.getByTestId('message').filter({ hasText: text });

describe('the Console: forwarding, and files and previews from the chat (issue 17)', () => {
  let stack: Stack;
  const contexts: BrowserContext[] = [];
  let kordai: Page;
  let akzhol: Page;
  const { client, stopAll } = testClients(
    () => stack.gateway,
    () => stack.world,
  );

  beforeAll(async () => {
    stack = await startStack(['KZ-KORDAI/desk-1', 'KG-AKZHOL/desk-1']);
    // Ak-Zhol works with Oybek too: the third office an item could be passed on to.
    await stack.gateway.sync.submit([
      await nextStatement(stack.world, 'link.created', { offices: ['KG-AKZHOL', 'UZ-OYBEK'] }),
    ]);
    await stack.gateway.sync.submitHead(await signedHead(stack.world));
    const open = async (deviceId: string) => {
      const context = await newContext(stack);
      contexts.push(context);
      const page = await signIn(stack, context, deviceId);
      await page.getByTestId('connection').getByText('Online').waitFor(WAIT);
      return page;
    };
    kordai = await open('KZ-KORDAI/desk-1');
    akzhol = await open('KG-AKZHOL/desk-1');
  }, 180_000);
  afterAll(async () => {
    await stopAll();
    for (const c of contexts) await c.close();
    await stack?.close();
  });

  it('an H2 item is refused for forwarding, with the reason shown, until its provider permits it', async () => {
    const oybek: LiaisonClient = client('UZ-OYBEK/desk-1');
    await oybek.start();

    // Kordai's office sends with H2 by default.
    const settings = kordai.getByTestId('office-settings');
    await settings.locator('select[name=default-handling]').selectOption('H2');
    await settings.getByRole('button', { name: 'Save the default' }).click();
    await settings.getByText('Saved.').waitFor(WAIT);
    await kordai
      .locator('textarea[name=message]')
      .fill('Informant: the white Lexus crosses tonight');
    await kordai.getByRole('button', { name: 'Send', exact: true }).click();

    const received = message(akzhol, 'white Lexus crosses tonight');
    await received.waitFor(WAIT);
    const action = received.getByTestId('forward-action');
    const forwardTo = async () => {
      // The form stays open after a refusal, to try again.
      if ((await action.locator('form').count()) === 0)
        await received.getByRole('button', { name: 'Forward…' }).click();
      expect(await action.locator('select[name=forward-to]').inputValue()).toBe('UZ-OYBEK');
      await action.getByRole('button', { name: 'Forward', exact: true }).click();
      const note = action.getByTestId('forward-note');
      await note.waitFor(WAIT);
      return note;
    };
    const refused = await forwardTo();
    expect(await refused.innerText()).toContain(
      'Not forwarded: KZ-KORDAI marked it H2 and has not permitted it to go to UZ-OYBEK.',
    );
    expect(await refused.getAttribute('class')).toContain('warn');
    await shot(akzhol, 'operator-forward-refused');

    // Kordai permits Ak-Zhol to pass it on to Oybek, from its own item.
    const sent = message(kordai, 'white Lexus crosses tonight');
    // The button is there once the gateway accepted the item (it has its envelope id).
    await sent.getByRole('button', { name: 'Permit forwarding…' }).click();
    const permit = sent.getByTestId('permit-action');
    await permit.locator('select[name=permit-to]').selectOption('UZ-OYBEK');
    await permit.getByRole('button', { name: 'Permit', exact: true }).click();
    expect(await permit.getByTestId('permit-note').innerText()).toContain(
      'Permission sent: KG-AKZHOL may forward it to UZ-OYBEK',
    );
    await message(akzhol, 'You may forward this item to UZ-OYBEK').waitFor(WAIT);

    const arrived = waitFor(oybek, 'message', (m) => m.from === 'KG-AKZHOL');
    const done = await forwardTo();
    await done.getByText('Forwarded to UZ-OYBEK.').waitFor(WAIT);
    const forwarded: Message = await arrived;
    expect(forwarded.body).toMatchObject({
      type: 'chat',
      text: 'Informant: the white Lexus crosses tonight',
      handling: { code: 'H2' },
      forwardedFrom: { office: 'KZ-KORDAI', handling: { code: 'H2' } },
    });
  }, 240_000);

  it('a photo attached in the chat goes with a preview made in the browser, shown decrypted to the other office', async () => {
    const duty = client('KG-AKZHOL/duty-1');
    await duty.start();
    // A real 1200×900 JPEG, made by Chromium itself (a script run in the page).
    const jpeg = Buffer.from(
      await kordai.evaluate<number[]>(`(async () => {
        const canvas = new OffscreenCanvas(1200, 900);
        const g = canvas.getContext('2d');
        const gradient = g.createLinearGradient(0, 0, 1200, 900);
        gradient.addColorStop(0, '#1b5e20');
        gradient.addColorStop(1, '#e65100');
        g.fillStyle = gradient;
        g.fillRect(0, 0, 1200, 900);
        g.fillStyle = '#fff';
        g.fillRect(300, 300, 600, 250);
        const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.92 });
        return [...new Uint8Array(await blob.arrayBuffer())];
      })()`),
    );

    const arrived = waitFor(
      duty,
      'message',
      (m) => m.body.type === 'chat' && m.body.text === 'Truck at the gate',
    );
    await kordai
      .locator('input[name=chat-attachments]')
      .setInputFiles({ name: 'truck.jpg', mimeType: 'image/jpeg', buffer: jpeg });
    await kordai.locator('textarea[name=message]').fill('Truck at the gate');
    await kordai.getByRole('button', { name: 'Send', exact: true }).click();

    // What travelled: the photo, and a small preview encrypted under a key of its own.
    const m = await arrived;
    const ref = m.body.type === 'chat' ? m.body.attachments?.[0] : undefined;
    expect(ref).toMatchObject({ name: 'truck.jpg', size: jpeg.byteLength });
    expect(ref?.thumbnail?.size).toBeGreaterThan(0);
    expect(ref?.thumbnail?.size).toBeLessThanOrEqual(16 * 1024);
    expect(ref?.thumbnail?.key).not.toBe(ref?.key);
    const preview = ref ? await duty.openThumbnail(ref) : undefined;
    expect(preview?.type).toBe('image/jpeg');

    const item = message(akzhol, 'Truck at the gate');
    await item.waitFor(WAIT);
    const thumbnail = item.getByTestId('thumbnail');
    await thumbnail.waitFor(WAIT);
    const size = await thumbnail.evaluate(async (element) => {
      const img = element as unknown as {
        decode(): Promise<void>;
        naturalWidth: number;
        naturalHeight: number;
      };
      await img.decode();
      return { width: img.naturalWidth, height: img.naturalHeight };
    });
    expect(size).toEqual({ width: 160, height: 120 });
    expect(await item.getByTestId('attachment').innerText()).toContain('truck.jpg');
    await item.getByTestId('attachment').scrollIntoViewIfNeeded();
    await shot(akzhol, 'operator-chat-thumbnail');
  }, 240_000);
});
