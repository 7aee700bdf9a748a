import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { en } from '../../src/console/app/locales/en.js';
import { kk } from '../../src/console/app/locales/kk.js';
import { ru } from '../../src/console/app/locales/ru.js';
import { newContext, PASSPHRASE, type Stack, shot, startStack } from './stack.js';

const WAIT = { timeout: 30_000 };

type Tree = { [key: string]: string | Tree };
const leaves = (tree: Tree, prefix = ''): [string, string][] =>
  Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'string' ? [[`${prefix}${key}`, value]] : leaves(value, `${prefix}${key}.`),
  );

/**
 * The English phrases a page must not show in another language: every English string cut at its
 * placeholders, less a name that its translation keeps (CARICC, Liaison) — unless the
 * translation is the English string itself.
 */
function englishPhrases(other: Tree): string[] {
  const theirs = new Map(leaves(other));
  const pieces = leaves(en as unknown as Tree).flatMap(([key, value]) => {
    const translated = theirs.get(key) ?? '';
    return value
      .split(/\{\{\w+\}\}/)
      .map((p) => p.trim().replace(/^[\s:·–,.()?]+|[\s:·–,.()?]+$/g, ''))
      .filter((p) => /[A-Za-z]{3}/.test(p))
      .filter((p) => translated === value || !translated.includes(p));
  });
  return [...new Set(pieces)];
}

/** Latin-script words a translated page may show: names, and the zone's abbreviation. */
const NAMES = new Set(['Liaison', 'CARICC', 'GMT', 'UTC']);
const latinWords = (text: string) =>
  [...text.matchAll(/[A-Za-z]{3,}/g)].map((m) => m[0]).filter((w) => !NAMES.has(w));

/** What the page shows, less what users typed and what is data (office names, ids, codes). */
const shownText = (page: Page) =>
  page.evaluate(() => {
    const doc = (
      globalThis as unknown as { document: { body: { cloneNode(deep: boolean): unknown } } }
    ).document;
    const body = doc.body.cloneNode(true) as {
      querySelectorAll(s: string): { remove(): void }[];
      innerText: string;
      textContent: string;
    };
    for (const el of body.querySelectorAll(
      '.user-text, .data, .alert-title, .office-name, .office-id, code, option[lang], .bar-device',
    ))
      el.remove();
    return body.textContent;
  });

describe('the Console in the officers’ languages', () => {
  let stack: Stack;
  let context: BrowserContext;
  let kordai: Page;

  beforeAll(async () => {
    stack = await startStack();
    context = await newContext(stack, 'ru-RU');
  }, 120_000);
  afterAll(async () => {
    await stack?.close();
  });

  it('every language has every key, and no value left in English', () => {
    const english = new Map(leaves(en as unknown as Tree));
    for (const language of [ru, kk] as unknown as Tree[]) {
      expect(leaves(language).map(([k]) => k)).toEqual([...english.keys()]);
      expect(leaves(language).filter(([k, v]) => v === english.get(k))).toEqual([]);
    }
  });

  it('a wrong passphrase gives a clear error; the right one signs in', async () => {
    kordai = await context.newPage();
    await kordai.goto(stack.gateway.url);
    // The browser's language (ru-RU) is the default; switch to English for this step.
    await kordai.getByTestId('language').selectOption('en');
    await kordai
      .locator('input[type=file]')
      .setInputFiles(stack.keyFiles['KZ-KORDAI/desk-1'] as string);
    await kordai.locator('input[name=passphrase]').fill('not the passphrase');
    await kordai.getByRole('button', { name: 'Sign in' }).click();
    const error = kordai.getByTestId('signin-error');
    await error.getByText('Wrong passphrase. Check it and try again.').waitFor(WAIT);
    await shot(kordai, 'signin-wrong-passphrase');
    // Nothing was kept: a wrong passphrase stores no key.
    await kordai.reload();
    await kordai.locator('input[type=file]').waitFor(WAIT);

    await kordai
      .locator('input[type=file]')
      .setInputFiles(stack.keyFiles['KZ-KORDAI/desk-1'] as string);
    await kordai.locator('input[name=passphrase]').fill(PASSPHRASE);
    await kordai.getByRole('button', { name: 'Sign in' }).click();
    await kordai.getByTestId('connection').getByText('Online').waitFor(WAIT);
    // Nothing secret outside IndexedDB's sealed vault: localStorage holds the language only.
    const stored = await kordai.evaluate(() => {
      const ls = (
        globalThis as unknown as { localStorage: { length: number; key(i: number): string | null } }
      ).localStorage;
      return Array.from({ length: ls.length }, (_, i) => ls.key(i));
    });
    expect(stored).toEqual(['liaison.language']);
    expect(await context.cookies()).toEqual([]);
  }, 120_000);

  it('switching to Russian changes every visible string, and the choice is remembered', async () => {
    await kordai.locator('textarea[name=message]').fill('Proverka svyazi: the text stays as typed');
    await kordai.getByRole('button', { name: 'Send', exact: true }).click();
    await kordai.getByRole('button', { name: 'New alert' }).click();
    await kordai.getByTestId('language').selectOption('ru');
    const form = kordai.getByTestId('alert-form');
    await form.getByText('Категория').waitFor(WAIT);
    await form.getByRole('button', { name: 'Добавить транспорт' }).click();
    await form.getByRole('button', { name: 'Добавить лицо' }).click();
    await form.getByRole('button', { name: 'Добавить документ' }).click();
    // The handling, evaluation and case fields, every one shown (H3 asks for its restriction).
    await form.locator('select[name=handling]').selectOption('H3');
    await form.locator('select[name=case]').selectOption('new');
    const ruPhrases = englishPhrases(ru as unknown as Tree);
    const leftovers = (text: string) => ruPhrases.filter((p) => text.includes(p));
    expect(leftovers(await shownText(kordai))).toEqual([]);
    await shot(kordai, 'operator-alert-form-ru');
    await form.locator('input[name=title]').fill('Подозрительный груз');
    await form.locator('select[name=precedence]').selectOption('IMMEDIATE');
    await form.locator('input[name=handling-restriction]').fill('не передавать таможне');
    await form.locator('input[name=caseTitle]').fill('Маршрут через Кордай');
    await form.getByRole('button', { name: 'Убрать' }).first().click();
    await form.getByRole('button', { name: 'Убрать' }).first().click();
    await form.getByRole('button', { name: 'Убрать' }).first().click();
    await form.getByRole('button', { name: 'Отправить оповещение' }).click();
    await kordai.getByTestId('alert-card').getByText('Срочно').waitFor(WAIT);
    // Its marks in Russian: the handling code's meaning, the evaluation, the case's status.
    const marks = kordai.getByTestId('message').filter({ hasText: 'Подозрительный груз' });
    await marks.getByText('Иные ограничения: не передавать таможне').waitFor(WAIT);
    await marks.getByText('Дело: Маршрут через Кордай · открыто').waitFor(WAIT);

    const text = await shownText(kordai);
    expect(leftovers(text)).toEqual([]);
    // Nor a string that bypassed the i18n layer: no English word is left at all.
    expect(latinWords(text)).toEqual([]);
    expect(
      await kordai.evaluate(
        () => (globalThis as unknown as { liaisonMissingKeys: string[] }).liaisonMissingKeys,
      ),
    ).toEqual([]);
    // What the user typed is shown exactly as typed.
    await kordai
      .getByText('Proverka svyazi: the text stays as typed', { exact: true })
      .waitFor(WAIT);
    expect(await kordai.getAttribute('html', 'lang')).toBe('ru');
    await shot(kordai, 'operator-chat-ru');

    await kordai.reload();
    await kordai.getByRole('button', { name: 'Разблокировать' }).waitFor(WAIT);
    expect(leftovers(await shownText(kordai))).toEqual([]);
    await kordai.getByTestId('language').selectOption('kk');
    await kordai.getByRole('button', { name: 'Құлпын ашу' }).waitFor(WAIT);
    await shot(kordai, 'signin-unlock-kk');
    // Unlocked in Kazakh: the items' marks and the office settings too, no English left.
    await kordai.locator('input[name=passphrase]').fill(PASSPHRASE);
    await kordai.getByRole('button', { name: 'Құлпын ашу' }).click();
    const alert = kordai.getByTestId('message').filter({ hasText: 'Подозрительный груз' });
    await alert.getByText('Басқа шектеулер: не передавать таможне').waitFor(WAIT);
    await alert.getByText('Іс: Маршрут через Кордай · ашық').waitFor(WAIT);
    await kordai.getByTestId('office-settings').getByText('Бөлімше баптаулары').waitFor(WAIT);
    const kkPhrases = englishPhrases(kk as unknown as Tree);
    const kkText = await shownText(kordai);
    expect(kkPhrases.filter((p) => kkText.includes(p))).toEqual([]);
    expect(latinWords(kkText)).toEqual([]);
    await shot(kordai, 'operator-marks-kk');
  }, 120_000);
});
