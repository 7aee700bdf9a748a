import type { BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newContext, type Stack, shot, signIn, startStack } from './stack.js';

const WAIT = { timeout: 30_000 };

const message = (page: Page, text: string) => page.getByTestId('message').filter({ hasText: text });

async function say(page: Page, text: string) {
  await page.locator('textarea[name=message]').fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
}

async function online(page: Page) {
  await page.getByTestId('connection').getByText('Online').waitFor(WAIT);
}

/** The handling code an item shows, and the restriction it spells out (if any). */
async function handlingOf(item: Locator) {
  const mark = item.getByTestId('marks').getByTestId('handling');
  const restriction = mark.getByTestId('restriction');
  return {
    code: await mark.getAttribute('data-code'),
    restriction: (await restriction.count()) > 0 ? await restriction.innerText() : undefined,
  };
}

describe('the Console: handling codes, evaluation and cases (issue 17), the office’s own desks (issue 13)', () => {
  let stack: Stack;
  const contexts: BrowserContext[] = [];
  let kordai: Page;
  let akzhol: Page;

  beforeAll(async () => {
    stack = await startStack([
      'KZ-KORDAI/desk-1',
      'KZ-KORDAI/duty-1',
      'KG-AKZHOL/desk-1',
      'CARICC/analyst-1',
    ]);
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  const open = async (deviceId: string) => {
    const context = await newContext(stack);
    contexts.push(context);
    const page = await signIn(stack, context, deviceId);
    await online(page);
    return page;
  };

  it('chat goes out with the office’s default handling code; H2 is shown with its restriction on both sides', async () => {
    kordai = await open('KZ-KORDAI/desk-1');
    akzhol = await open('KG-AKZHOL/desk-1');

    // Nothing set: the office's default is H0, and the composer says so.
    const composer = kordai.getByTestId('composer-marks');
    expect(await composer.getByTestId('handling').getAttribute('data-code')).toBe('H0');
    await say(kordai, 'Morning check: all quiet at Kordai');
    await message(akzhol, 'Morning check').waitFor(WAIT);
    expect(await handlingOf(message(akzhol, 'Morning check'))).toEqual({
      code: 'H0',
      restriction: undefined,
    });

    // The office sets H2 as its default: chat that follows carries it.
    const settings = kordai.getByTestId('office-settings');
    await settings.locator('select[name=default-handling]').selectOption('H2');
    await settings.getByRole('button', { name: 'Save the default' }).click();
    await settings.getByText('Saved.').waitFor(WAIT);
    await composer.locator('[data-code=H2]').waitFor(WAIT);
    await say(kordai, 'Informant says the convoy leaves at night');
    const sent = message(kordai, 'convoy leaves at night');
    const received = message(akzhol, 'convoy leaves at night');
    await received.waitFor(WAIT);
    const h2 = {
      code: 'H2',
      restriction: 'Not to be disseminated without the provider’s permission',
    };
    expect(await handlingOf(sent)).toEqual(h2);
    expect(await handlingOf(received)).toEqual(h2);

    // The default is kept (sealed in the vault) across a reload.
    await kordai.reload();
    await kordai.locator('input[name=passphrase]').fill('correct horse battery staple');
    await kordai.getByRole('button', { name: 'Unlock' }).click();
    await online(kordai);
    await kordai.getByTestId('composer-marks').locator('[data-code=H2]').waitFor(WAIT);
  }, 180_000);

  it('an alert carries the handling, evaluation and a new case chosen in the form; the recipient and the analyst see them', async () => {
    await kordai.getByRole('button', { name: 'New alert' }).click();
    const form = kordai.getByTestId('alert-form');
    // The form starts from the office's default handling.
    expect(await form.locator('select[name=handling]').inputValue()).toBe('H2');
    await form.locator('select[name=category]').selectOption('drug-seizure');
    await form.locator('input[name=title]').fill('Heroin route through Kordai: second courier');
    await form.locator('select[name=handling]').selectOption('H3');
    await form.locator('input[name=handling-restriction]').fill('not to customs');
    await form.locator('select[name=reliability]').selectOption('B');
    await form.locator('select[name=accuracy]').selectOption('3');
    await form.locator('select[name=case]').selectOption('new');
    await form.locator('input[name=caseTitle]').fill('Kordai heroin route');
    await shot(kordai, 'operator-alert-form-marks');
    await form.getByRole('button', { name: 'Send alert' }).click();

    const card = akzhol.getByTestId('message').filter({ hasText: 'second courier' });
    await card.waitFor(WAIT);
    expect(await handlingOf(card)).toEqual({
      code: 'H3',
      restriction: 'Other restrictions: not to customs',
    });
    const marks = card.getByTestId('marks');
    expect(await marks.getByTestId('evaluation').getAttribute('data-code')).toBe('B3');
    expect(await marks.getByTestId('evaluation').innerText()).toBe(
      'B3 source: mostly reliable; information: not known personally to the source but corroborated',
    );
    expect(await marks.getByTestId('case').innerText()).toBe('Case: Kordai heroin route · open');
    // The sender's own copy shows the same.
    const mine = kordai.getByTestId('message').filter({ hasText: 'second courier' });
    expect(await mine.getByTestId('case').innerText()).toBe('Case: Kordai heroin route · open');
    await shot(akzhol, 'operator-marks-received');

    const analyst = await open('CARICC/analyst-1');
    const entry = analyst.getByTestId('entry').filter({ hasText: 'second courier' });
    await entry.waitFor(WAIT);
    expect(await entry.getByTestId('handling').getAttribute('data-code')).toBe('H3');
    expect(await entry.getByTestId('evaluation').getAttribute('data-code')).toBe('B3');
    expect(await entry.getByTestId('case').innerText()).toBe('Case: Kordai heroin route · open');
    await shot(analyst, 'analyst-feed-marks');
  }, 120_000);

  it('the conversation filters by case; a reply and an alert written in the case stay in it', async () => {
    await say(akzhol, 'Unrelated: our scanner is back');
    await message(kordai, 'our scanner is back').waitFor(WAIT);

    // Ak-Zhol opens the case and answers inside it.
    await akzhol
      .locator('select[name=case-filter]')
      .selectOption({ label: 'Kordai heroin route · open' });
    await message(akzhol, 'our scanner is back').waitFor({ state: 'detached', ...WAIT });
    await akzhol.getByTestId('composer-marks').getByText('Kordai heroin route').waitFor(WAIT);
    await say(akzhol, 'We stopped the second courier at the gate');
    // An alert from the filtered view starts in that case; Ak-Zhol closes it.
    await akzhol.getByRole('button', { name: 'New alert' }).click();
    const form = akzhol.getByTestId('alert-form');
    expect(await form.locator('select[name=case]').inputValue()).not.toBe('');
    await form.locator('select[name=precedence]').selectOption('ROUTINE');
    await form.locator('input[name=title]').fill('Courier handed to the prosecutor');
    await form.locator('select[name=caseStatus]').selectOption('closed');
    await form.getByRole('button', { name: 'Send alert' }).click();

    const reply = message(kordai, 'second courier at the gate');
    await reply.waitFor(WAIT);
    expect(await reply.getByTestId('case').innerText()).toBe('Case: Kordai heroin route · open');
    const closing = message(kordai, 'handed to the prosecutor');
    await closing.waitFor(WAIT);
    expect(await closing.getByTestId('case').innerText()).toBe(
      'Case: Kordai heroin route · closed',
    );

    // At Kordai: the case holds the alert, the reply and the closing alert, nothing else.
    await kordai
      .locator('select[name=case-filter]')
      .selectOption({ label: 'Kordai heroin route · closed' });
    await message(kordai, 'our scanner is back').waitFor({ state: 'detached', ...WAIT });
    const texts = await kordai.getByTestId('message').allInnerTexts();
    expect(texts).toHaveLength(3);
    expect(texts.map((t) => t.includes('Kordai heroin route'))).toEqual([true, true, true]);
    await shot(kordai, 'operator-case-filter');
    await kordai.locator('select[name=case-filter]').selectOption({ label: 'All items' });
    await message(kordai, 'our scanner is back').waitFor(WAIT);
  }, 120_000);

  it('what another desk of the office sent shows at this desk as sent by the office, not unread, never an alarm', async () => {
    const duty = await open('KZ-KORDAI/duty-1');
    // Everything from before this desk signed in is there: desk-1's lines as sent, Ak-Zhol's as received.
    const earlier = message(duty, 'convoy leaves at night');
    await earlier.waitFor(WAIT);
    expect(await earlier.getAttribute('data-dir')).toBe('out');
    expect(await handlingOf(earlier)).toEqual({
      code: 'H2',
      restriction: 'Not to be disseminated without the provider’s permission',
    });
    await message(duty, 'handed to the prosecutor').waitFor(WAIT);
    expect(await message(duty, 'our scanner is back').getAttribute('data-dir')).toBe('in');
    // Shown on screen, so read.
    await expect.poll(() => duty.getByTestId('unread').count(), WAIT).toBe(0);
    await akzhol.locator('select[name=case-filter]').selectOption({ label: 'All items' });

    // This desk's tab goes to the background: what arrives now stays unread until it is looked at.
    await duty.evaluate(() => {
      const doc = (globalThis as unknown as { document: object }).document;
      Object.defineProperty(doc, 'visibilityState', {
        configurable: true,
        get: () => 'hidden',
      });
    });
    await say(kordai, 'Desk-1: shift handover at 20:00');
    await kordai.getByRole('button', { name: 'New alert' }).click();
    const form = kordai.getByTestId('alert-form');
    await form.locator('select[name=precedence]').selectOption('FLASH');
    await form.locator('input[name=title]').fill('Armed group sighted at post 9');
    await form.getByRole('button', { name: 'Send alert' }).click();
    await say(akzhol, 'Ak-Zhol: understood');

    const copy = message(duty, 'shift handover at 20:00');
    await copy.waitFor(WAIT);
    expect(await copy.getAttribute('data-dir')).toBe('out');
    expect(await copy.locator('.meta').innerText()).toMatch(/^You · /);
    const flash = message(duty, 'Armed group sighted');
    await flash.waitFor(WAIT);
    expect(await flash.getAttribute('data-dir')).toBe('out');
    await message(duty, 'Ak-Zhol: understood').waitFor(WAIT);
    // Only Ak-Zhol's line is unread; desk-1's FLASH raises no banner here and awaits nothing here.
    await duty.getByTestId('unread').getByText('Unread: 1').waitFor(WAIT);
    expect(await duty.getByTestId('urgent-banner').count()).toBe(0);
    expect(await duty.getByTestId('awaiting').getByText('Armed group').count()).toBe(0);

    // Ak-Zhol acknowledges: both Kordai desks see it.
    const banner = akzhol.getByTestId('urgent-banner').filter({ hasText: 'Flash alert' });
    await banner.waitFor(WAIT);
    await banner.getByRole('button', { name: 'Acknowledge' }).click();
    await flash.getByTestId('acknowledged').getByText('Acknowledged by KG-AKZHOL').waitFor(WAIT);
    await message(kordai, 'Armed group sighted')
      .getByTestId('acknowledged')
      .getByText('Acknowledged by KG-AKZHOL')
      .waitFor(WAIT);
    await shot(duty, 'operator-other-desk');
    for (const context of contexts) await context.close();
  }, 120_000);
});
