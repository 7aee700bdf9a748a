import { LANGUAGES, setLanguage, t } from '../i18n.js';
import type { Connection } from '../operator.js';

/** The bar on every screen: who is signed in, the connection state, language, lock. */
export function Header(props: {
  device?: string;
  connection?: Connection;
  queued?: number;
  /** False while the local vault is being written. */
  saved?: boolean;
  language: string;
  onLock?: () => void;
}) {
  const { connection, queued = 0 } = props;
  return (
    <header class="bar">
      <h1 class="bar-title">{t('app.title')}</h1>
      {props.device && (
        <span class="bar-device">{t('header.signedInAs', { device: props.device })}</span>
      )}
      {connection && (
        <output
          class={`conn conn-${connection}`}
          data-testid="connection"
          data-saved={props.saved !== false}
          aria-live="polite"
        >
          <span class="dot" aria-hidden="true" />
          {t(`conn.${connection}`)}
          {queued > 0 && <span class="conn-queued"> · {t('conn.queued', { n: queued })}</span>}
        </output>
      )}
      <label class="bar-language">
        <span>{t('header.language')}</span>
        <select
          data-testid="language"
          value={props.language}
          onChange={(e) => void setLanguage((e.target as HTMLSelectElement).value)}
        >
          {LANGUAGES.map((l) => (
            <option key={l.code} value={l.code} lang={l.code}>
              {l.name}
            </option>
          ))}
        </select>
      </label>
      {props.onLock && (
        <button type="button" class="secondary" onClick={props.onLock}>
          {t('header.lock')}
        </button>
      )}
    </header>
  );
}
