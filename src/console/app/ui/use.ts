import { useEffect, useState } from 'preact/hooks';
import { i18n } from '../i18n.js';

/** Re-renders when an emitter says something changed. */
export function useChanges(source: { on(event: 'change', fn: () => void): () => void }): number {
  const [version, setVersion] = useState(0);
  useEffect(() => source.on('change', () => setVersion((v) => v + 1)), [source]);
  return version;
}

/** Re-renders on a language switch. */
export function useLanguage(): string {
  const [language, setLanguage] = useState(i18n.language);
  useEffect(() => {
    const onChange = (lng: string) => setLanguage(lng);
    i18n.on('languageChanged', onChange);
    return () => i18n.off('languageChanged', onChange);
  }, []);
  return language;
}
