import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newContext, type Stack, shot, signIn, startStack } from './stack.js';

const WAIT = { timeout: 30_000 };

describe('the Console: two offices chat in their browsers', () => {
  let stack: Stack;
  let kordaiContext: BrowserContext;
  let akzholContext: BrowserContext;
  let kordai: Page;
  let akzhol: Page;

  beforeAll(async () => {
    stack = await startStack();
    kordaiContext = await newContext(stack);
    akzholContext = await newContext(stack);
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('KZ-KORDAI and KG-AKZHOL chat both ways and see delivered, then read', async () => {
    const errors: string[] = [];
    kordai = await signIn(stack, kordaiContext, 'KZ-KORDAI/desk-1');
    kordai.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    kordai.on('pageerror', (e) => errors.push(e.message));
    await kordai.getByTestId('connection').getByText('Online').waitFor(WAIT);
    await kordai.getByTestId('office-KG-AKZHOL').waitFor(WAIT);
    await shot(kordai, 'x-kordai-empty');

    kordai.locator('textarea[name=message]').fill('Convoy of three trucks at 10:40');
    await kordai.getByRole('button', { name: 'Send', exact: true }).click();
    const mine = kordai.getByTestId('message').filter({ hasText: 'Convoy of three trucks' });
    await mine.waitFor(WAIT);
    await expect.poll(() => mine.getAttribute('data-status'), WAIT).toBe('accepted');

    akzhol = await signIn(stack, akzholContext, 'KG-AKZHOL/desk-1');
    await akzhol.getByTestId('connection').getByText('Online').waitFor(WAIT);
    await akzhol.getByTestId('message').filter({ hasText: 'Convoy of three trucks' }).waitFor(WAIT);
    await expect.poll(() => mine.getAttribute('data-status'), WAIT).toBe('read');
    await kordai
      .getByTestId('office-KG-AKZHOL')
      .getByTestId('presence')
      .getByText('online')
      .waitFor(WAIT);

    await akzhol.locator('textarea[name=message]').fill('Received. We will hold them at the gate.');
    await akzhol.getByRole('button', { name: 'Send', exact: true }).click();
    await kordai.getByTestId('message').filter({ hasText: 'We will hold them' }).waitFor(WAIT);
    const reply = akzhol.getByTestId('message').filter({ hasText: 'We will hold them' });
    await expect.poll(() => reply.getAttribute('data-status'), WAIT).toBe('read');
    await shot(kordai, 'x-kordai-chat');
    await shot(akzhol, 'x-akzhol-chat');
    expect(errors).toEqual([]);
  }, 120_000);
});
