import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDeviceKeys } from '../../src/crypto/keys.js';
import { rotationStatement } from '../fixtures/directory-changes.js';
import { device } from '../fixtures/world.js';
import { newContext, PASSPHRASE, type Stack, shot, signIn, startStack } from './stack.js';

const WAIT = { timeout: 30_000 };
/** A reconnect after the gateway comes back waits for Socket.IO's backoff: give it a minute. */
const RECONNECT = { timeout: 60_000 };

/** The texts of a conversation's chat messages, top to bottom. */
const chatTexts = (page: Page) => page.getByTestId('message').locator('.user-text').allInnerTexts();

/** Types a chat message and sends it. */
async function say(page: Page, text: string) {
  await page.locator('textarea[name=message]').fill(text);
  await page.getByRole('button', { name: 'Send', exact: true }).click();
}

/** A reopened Console asks only for the passphrase: the key file is kept (sealed) in IndexedDB. */
async function unlock(page: Page) {
  await page.locator('input[name=passphrase]').fill(PASSPHRASE);
  await page.getByRole('button', { name: 'Unlock' }).click();
}

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

    await kordai.locator('textarea[name=message]').fill('Convoy of three trucks at 10:40');
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
    // Delivered (the recipient device's inbox ack) and read (its receipt envelope) travel
    // separately, so read can be shown first: wait until delivered is reported too.
    for (const item of [mine, reply]) {
      await expect
        .poll(() => item.getByTestId('delivery').getAttribute('data-delivered'), WAIT)
        .toBe('true');
    }
    await shot(kordai, 'operator-chat-kordai');
    await shot(akzhol, 'operator-chat-akzhol');
    expect(errors).toEqual([]);
  }, 120_000);

  it('a FLASH alert stands out until acknowledged; the sender and the analyst see both', async () => {
    await kordai.getByRole('button', { name: 'New alert' }).click();
    const form = kordai.getByTestId('alert-form');
    await form.locator('select[name=category]').selectOption('drug-seizure');
    await form.locator('select[name=precedence]').selectOption('FLASH');
    await form.locator('input[name=title]').fill('Heroin in a false floor, truck heading your way');
    await form
      .locator('textarea[name=description]')
      .fill('Grey Kamaz, 40 kg found on our side; a second truck crossed at 10:20.');
    await form.getByRole('button', { name: 'Add a vehicle' }).click();
    await form.getByLabel('Plate number').fill('01 KG 777 ABC');
    await form.getByLabel('Country').selectOption('KG');
    await shot(kordai, 'operator-alert-form');
    await form.getByRole('button', { name: 'Send alert' }).click();

    const banner = akzhol.getByTestId('urgent-banner');
    await banner.waitFor(WAIT);
    expect(await banner.innerText()).toContain('Flash alert from KZ-KORDAI');
    // It stands out: the banner is red, and it stays.
    const colour = await banner.evaluate(
      (el) => el.ownerDocument.defaultView?.getComputedStyle(el).backgroundColor,
    );
    expect(colour).toBe('rgb(179, 0, 27)');
    await akzhol.getByTestId('awaiting').getByText('Heroin in a false floor').waitFor(WAIT);
    await shot(akzhol, 'operator-flash-banner');

    await banner.getByRole('button', { name: 'Acknowledge' }).click();
    await banner.waitFor({ state: 'detached', ...WAIT });
    const sent = kordai.getByTestId('alert-card').filter({ hasText: 'Heroin in a false floor' });
    await sent.getByTestId('acknowledged').getByText('Acknowledged by KG-AKZHOL').waitFor(WAIT);
    await shot(kordai, 'operator-alert-acknowledged');

    const analystContext = await newContext(stack);
    const analyst = await signIn(stack, analystContext, 'CARICC/analyst-1');
    const entries = analyst.getByTestId('entry');
    await entries.filter({ hasText: 'Heroin in a false floor' }).waitFor(WAIT);
    await entries.filter({ hasText: 'Acknowledgement' }).first().waitFor(WAIT);
    await analyst.getByTestId('chain').getByText('Record intact').waitFor(WAIT);
    await shot(analyst, 'analyst-feed');

    // The live feed filtered to alerts: a new alert arrives without a reload, chats stay out.
    await analyst.locator('select[name=kind]').selectOption('alert');
    await analyst.getByRole('button', { name: 'Apply' }).click();
    await entries
      .filter({ hasText: 'Convoy of three trucks' })
      .waitFor({ state: 'detached', ...WAIT });
    await kordai.getByRole('button', { name: 'New alert' }).click();
    await form.locator('select[name=precedence]').selectOption('ROUTINE');
    await form.locator('input[name=title]').fill('Routine: scanner down until noon');
    await form.getByRole('button', { name: 'Send alert' }).click();
    await entries.filter({ hasText: 'scanner down until noon' }).waitFor(WAIT);
    expect(await entries.filter({ hasText: 'Convoy of three trucks' }).count()).toBe(0);

    await analyst.getByRole('tab', { name: 'Statistics' }).click();
    await analyst.getByTestId('stats').getByText('Alerts by category').waitFor(WAIT);
    await shot(analyst, 'analyst-statistics');
    await analyst.getByRole('tab', { name: 'Search the record' }).click();
    await entries.first().waitFor(WAIT);
    await entries.filter({ hasText: 'Heroin in a false floor' }).getByRole('button').click();
    await analyst.getByRole('dialog').getByText('Opened by the hub').waitFor(WAIT);
    await shot(analyst, 'analyst-entry');
    await analystContext.close();
  }, 120_000);

  it('an IMMEDIATE alert left unacknowledged is escalated to CARICC, and its sender is told', async () => {
    await kordai.getByRole('button', { name: 'New alert' }).click();
    const form = kordai.getByTestId('alert-form');
    await form.locator('select[name=category]').selectOption('illegal-crossing');
    await form.locator('select[name=precedence]').selectOption('IMMEDIATE');
    await form.locator('input[name=title]').fill('Group of six crossing near post 14');
    await form.getByRole('button', { name: 'Send alert' }).click();
    const banner = akzhol.getByTestId('urgent-banner').filter({ hasText: 'post 14' });
    await banner.waitFor(WAIT);
    expect(await banner.innerText()).toContain('Immediate alert from KZ-KORDAI');
    const sent = kordai.getByTestId('alert-card').filter({ hasText: 'post 14' });
    await sent.getByText('Escalated to CARICC').waitFor(WAIT);
    await shot(kordai, 'operator-escalated');
    await banner.getByRole('button', { name: 'Acknowledge' }).click();
    await sent.getByTestId('acknowledged').waitFor(WAIT);
  }, 120_000);

  it('an office that was offline receives everything on reconnect, in order, once', async () => {
    await akzhol.close();
    await kordai
      .getByTestId('office-KG-AKZHOL')
      .getByTestId('presence')
      .getByText('offline')
      .waitFor(WAIT);
    const missed = ['Missed 1: patrol left', 'Missed 2: gate closed', 'Missed 3: gate open'];
    for (const text of missed) await say(kordai, text);
    const last = kordai.getByTestId('message').filter({ hasText: missed[2] });
    await expect.poll(() => last.getAttribute('data-status'), WAIT).toBe('accepted');

    akzhol = await akzholContext.newPage();
    await akzhol.goto(stack.gateway.url);
    await shot(akzhol, 'signin-unlock');
    await unlock(akzhol);
    await akzhol.getByTestId('message').filter({ hasText: missed[2] }).waitFor(WAIT);
    const texts = await chatTexts(akzhol);
    expect(texts.filter((t) => t.startsWith('Missed'))).toEqual(missed);
    // Everything from before the reload is there too, and once.
    expect(texts.filter((t) => t.startsWith('Convoy of three trucks'))).toHaveLength(1);
    expect(new Set(texts).size).toBe(texts.length);
    await expect.poll(() => last.getAttribute('data-status'), WAIT).toBe('read');
  }, 120_000);

  it('messages typed while the gateway is unreachable are kept, survive a reload, and go out in order once', async () => {
    await stack.stopGateway();
    await kordai.getByTestId('connection').getByText('Offline').waitFor(WAIT);
    await say(kordai, 'Offline 1: radio down');
    await kordai.getByTestId('connection').getByText('Waiting to send: 1').waitFor(WAIT);
    await kordai.locator('[data-testid=connection][data-saved=true]').waitFor(WAIT);
    // A reload on a dead link: the service worker serves the Console, IndexedDB the history.
    await kordai.reload();
    await unlock(kordai);
    const first = kordai.getByTestId('message').filter({ hasText: 'Offline 1' });
    await first.waitFor(WAIT);
    expect(await first.getAttribute('data-status')).toBe('queued');
    await say(kordai, 'Offline 2: using the satellite phone');
    await kordai.getByTestId('connection').getByText('Waiting to send: 2').waitFor(WAIT);
    await shot(kordai, 'operator-offline-queue');

    await stack.startGatewayAgain();
    await kordai.getByTestId('connection').getByText('Online').waitFor(RECONNECT);
    await akzhol.getByTestId('message').filter({ hasText: 'Offline 2' }).waitFor(RECONNECT);
    const texts = (await chatTexts(akzhol)).filter((t) => t.startsWith('Offline'));
    expect(texts).toEqual(['Offline 1: radio down', 'Offline 2: using the satellite phone']);
    await expect
      .poll(
        () =>
          kordai
            .getByTestId('message')
            .filter({ hasText: 'Offline 2' })
            .getAttribute('data-status'),
        WAIT,
      )
      .toBe('read');
    expect(await kordai.getByText('Waiting to send').count()).toBe(0);
  }, 180_000);

  it('warns when a linked office’s device key changes or a new device joins it', async () => {
    const { world } = stack;
    const rotated = await generateDeviceKeys('KG-AKZHOL/duty-1');
    const added = await generateDeviceKeys('KG-AKZHOL/duty-2');
    // The authority writes both into its log, one after the other, and publishes them.
    const rotation = await rotationStatement(
      world,
      rotated,
      device(world, 'KG-AKZHOL/duty-1').keyId,
      Date.now(),
    );
    world.directory.apply(rotation);
    const enrolment = await world.certify(added, 'device');
    world.directory.apply(enrolment);
    await stack.gateway.sync.submit([rotation, enrolment]);
    // The next send finds the directory moved on, refreshes it, verifies it, and warns.
    await say(kordai, 'After the rotation');
    const warnings = kordai.getByTestId('key-warning');
    await warnings.filter({ hasText: 'The key of KG-AKZHOL/duty-1 has changed' }).waitFor(WAIT);
    await warnings.filter({ hasText: 'A new device, KG-AKZHOL/duty-2' }).waitFor(WAIT);
    expect(await warnings.first().locator('.fingerprint').innerText()).toMatch(
      /^(\d{5} ){7}\d{5}$/,
    );
    await akzhol.getByTestId('message').filter({ hasText: 'After the rotation' }).waitFor(WAIT);
    await shot(kordai, 'operator-key-warning');
    await warnings.first().getByRole('button', { name: 'I have checked it' }).click();
    await expect.poll(() => warnings.count(), WAIT).toBe(1);
  }, 120_000);
});
