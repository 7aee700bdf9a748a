import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import type { Item, OperatorSession } from '../operator.js';
import { isLiaisonError } from '../sdk.js';

/**
 * What can be done with an item besides reading it (PROTOCOL.md §8.1): pass a received one on to
 * another linked office (an H2 item only with its provider's permission: refused here, saying
 * so), or permit the office that holds this office's H2 item to pass it on.
 */
export function ItemActions(props: { session: OperatorSession; office: string; item: Item }) {
  const { session, office, item } = props;
  const [open, setOpen] = useState(false);
  const [choice, setChoice] = useState('');
  const [note, setNote] = useState<{ ok: boolean; text: string } | undefined>();
  const sent = item.id !== item.localId && !item.failed;
  // Forward: to this office's other links. Permit: the holder's other links (this office's own
  // H2 item, not one it forwarded: that permission is its provider's to give).
  // A permission line is about an item, not news to pass on.
  const permission = item.body.type === 'chat' && item.body.permitsForward !== undefined;
  const mode = permission
    ? undefined
    : item.dir === 'in'
      ? 'forward'
      : item.body.handling?.code === 'H2' && !item.body.forwardedFrom
        ? 'permit'
        : undefined;
  const targets =
    mode === 'forward'
      ? session.offices.map((o) => o.officeId).filter((o) => o !== office)
      : session.linksOf(office);
  if (!mode || !sent || targets.length === 0) return null;
  const to = choice || (targets[0] as string);

  const submit = (event: Event) => {
    event.preventDefault();
    if (mode === 'permit') {
      session.permitForward(office, item.id, [to], t('forward.permitText', { offices: to }));
      setNote({ ok: true, text: t('forward.permitted', { holder: office, office: to }) });
      setOpen(false);
      return;
    }
    try {
      session.forward(office, item, to);
      setNote({ ok: true, text: t('forward.done', { office: to }) });
      setOpen(false);
    } catch (error) {
      const provider = isLiaisonError(error, 'FORWARD_NOT_PERMITTED')
        ? String(error.details?.provider)
        : undefined;
      const reason = (error as { code?: string }).code ?? (error as Error).message;
      setNote({
        ok: false,
        text: provider
          ? t('forward.refused', { provider, office: to })
          : t('forward.failed', { reason }),
      });
    }
  };

  return (
    <div class="item-actions" data-testid={`${mode}-action`}>
      {open ? (
        <form class="row" onSubmit={submit}>
          <label class="field">
            <span>{mode === 'forward' ? t('forward.to') : t('forward.permitTo', { office })}</span>
            <select
              name={`${mode}-to`}
              value={to}
              onChange={(e) => setChoice((e.target as HTMLSelectElement).value)}
            >
              {targets.map((o) => (
                <option key={o} value={o}>
                  {o}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="secondary">
            {mode === 'forward' ? t('forward.send') : t('forward.permitSend')}
          </button>
          <button type="button" class="link" onClick={() => setOpen(false)}>
            {t('alert.cancel')}
          </button>
        </form>
      ) : (
        <button
          type="button"
          class="link"
          onClick={() => {
            setOpen(true);
            setNote(undefined);
          }}
        >
          {mode === 'forward' ? t('forward.action') : t('forward.permit')}
        </button>
      )}
      {note && (
        <p
          class={note.ok ? 'ok' : 'warn'}
          role={note.ok ? 'status' : 'alert'}
          data-testid={`${mode}-note`}
        >
          {note.text}
        </p>
      )}
    </div>
  );
}
