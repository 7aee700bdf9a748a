import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import type { OperatorSession } from '../operator.js';
import { draftOf, HandlingFields, HandlingMark, handlingOf } from './marks.js';

/** The office's settings on this desk: the handling code its chat and new alerts start with. */
export function OfficeSettings(props: { session: OperatorSession }) {
  const { session } = props;
  const [draft, setDraft] = useState(draftOf(session.defaultHandling));
  const [saved, setSaved] = useState(false);
  const save = (event: Event) => {
    event.preventDefault();
    if (draft.code === 'H3' && !draft.restriction.trim()) return;
    session.setDefaultHandling(handlingOf(draft));
    setSaved(true);
  };
  return (
    <form class="settings" onSubmit={save} data-testid="office-settings">
      <h2>{t('settings.title')}</h2>
      <p class="muted">
        {t('settings.current')} <HandlingMark handling={session.defaultHandling} />
      </p>
      <HandlingFields
        name="default-handling"
        draft={draft}
        onChange={(d) => {
          setDraft(d);
          setSaved(false);
        }}
      />
      <div class="row">
        <button type="submit" class="secondary">
          {t('settings.save')}
        </button>
        {saved && (
          <span class="ok" role="status">
            {t('settings.saved')}
          </span>
        )}
      </div>
    </form>
  );
}
