import i18next from 'i18next';
import { en } from './locales/en.js';

/** The languages offered, each named in itself. Dari and Pashto (right to left) come later. */
export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'ru', name: 'Русский' },
  { code: 'kk', name: 'Қазақша' },
] as const;

const STORAGE_KEY = 'liaison.language';

/** Keys asked for but missing in the current language (the browser test reads this). */
export const missingKeys: string[] = [];

function initialLanguage(): string {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored && LANGUAGES.some((l) => l.code === stored)) return stored;
  const preferred = navigator.language.slice(0, 2);
  return LANGUAGES.some((l) => l.code === preferred) ? preferred : 'en';
}

export const i18n = i18next.createInstance();

/**
 * English is in the bundle; another language is its own file (`locale-<code>.json`, written by
 * the build and cached by the service worker with the shell), fetched when it is chosen, so a
 * first visit downloads one language.
 */
async function loadLanguage(code: string): Promise<void> {
  if (code === 'en' || i18n.hasResourceBundle(code, 'translation')) return;
  const response = await fetch(`/locale-${code}.json`);
  if (!response.ok) throw new Error(`language ${code} could not be loaded`);
  i18n.addResourceBundle(code, 'translation', await response.json());
}

/** Sets up the one i18n layer: every string of the Console goes through `t`. */
export async function initI18n(): Promise<void> {
  const language = initialLanguage();
  await i18n.init({
    resources: { en: { translation: en } },
    lng: 'en',
    fallbackLng: false,
    // Content users type is interpolated as is: Preact escapes it when it renders.
    interpolation: { escapeValue: false },
    saveMissing: true,
    missingKeyHandler: (_lngs, _ns, key) => {
      missingKeys.push(key);
    },
    returnNull: false,
  });
  // A language that cannot be fetched (offline before the worker cached it) leaves English.
  await setLanguage(language).catch(() => applyLanguage(i18n.language));
  (globalThis as { liaisonMissingKeys?: string[] }).liaisonMissingKeys = missingKeys;
}

function applyLanguage(code: string) {
  document.documentElement.lang = code;
  document.documentElement.dir = i18n.dir(code);
}

/** Switches language and remembers the choice (not a secret: localStorage is fine for it). */
export async function setLanguage(code: string): Promise<void> {
  await loadLanguage(code);
  localStorage.setItem(STORAGE_KEY, code);
  await i18n.changeLanguage(code);
  applyLanguage(code);
}

export const t = (key: string, options?: Record<string, unknown>): string =>
  i18n.t(key, options ?? {}) as string;
