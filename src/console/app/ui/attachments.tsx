import { useEffect, useState } from 'preact/hooks';
import { t } from '../i18n.js';
import type { Item, OperatorSession } from '../operator.js';
import type { AttachmentRef } from '../sdk.js';

const size = (n: number) =>
  n >= 1024 * 1024 ? `${(n / (1024 * 1024)).toFixed(1)} MiB` : `${Math.ceil(n / 1024)} KiB`;

/** The sender's preview, decrypted here, shown only as the image its content says it is. */
function Preview(props: { session: OperatorSession; attachment: AttachmentRef }) {
  const [url, setUrl] = useState<string | undefined>();
  useEffect(() => {
    let live = true;
    void props.session.preview(props.attachment).then((u) => live && setUrl(u));
    return () => {
      live = false;
    };
  }, [props.session, props.attachment]);
  if (!url) return null;
  return (
    <img
      class="thumbnail"
      src={url}
      alt={t('attachments.preview', { name: props.attachment.name })}
      data-testid="thumbnail"
    />
  );
}

/**
 * One attachment: the sender's preview if it made one, its name and size, and a button that
 * fetches, checks and saves it.
 */
function Attachment(props: { session: OperatorSession; attachment: AttachmentRef }) {
  const { session, attachment } = props;
  const [state, setState] = useState<{ status: string; note?: string }>({ status: 'idle' });
  const save = async () => {
    setState({ status: 'saving' });
    try {
      const { file, type, declared } = await session.openAttachment(attachment);
      const url = URL.createObjectURL(file);
      const link = document.createElement('a');
      link.href = url;
      link.download = attachment.name;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 60_000);
      setState({
        status: 'saved',
        note: declared
          ? t('attachments.mismatch', { declared, type })
          : t('attachments.saved', { type }),
      });
    } catch (error) {
      const reason = (error as { code?: string }).code ?? (error as Error).message;
      setState({ status: 'refused', note: t('attachments.refused', { reason }) });
    }
  };
  return (
    <li data-testid="attachment" data-status={state.status}>
      {attachment.thumbnail && <Preview session={session} attachment={attachment} />}
      <span class="data">{attachment.name}</span>{' '}
      <span class="muted">({size(attachment.size)})</span>{' '}
      <button type="button" onClick={save} disabled={state.status === 'saving'}>
        {state.status === 'saving' ? t('attachments.saving') : t('attachments.save')}
      </button>
      {state.note && (
        <span class={state.status === 'refused' ? 'warn' : 'ok'} data-testid="attachment-note">
          {' '}
          {state.note}
        </span>
      )}
    </li>
  );
}

/** The files a chat line or alert carries. */
export function Attachments(props: { session: OperatorSession; item: Item }) {
  const body = props.item.body;
  const list = body.type === 'chat' || body.type === 'alert' ? (body.attachments ?? []) : [];
  if (list.length === 0) return null;
  return (
    <ul class="attachments" aria-label={t('attachments.label')}>
      {list.map((a) => (
        <Attachment key={a.blobId} session={props.session} attachment={a} />
      ))}
    </ul>
  );
}

/**
 * Files to send with a chat line or an alert (encrypted in this browser when sent, a photo with
 * a preview made here).
 */
export function FilesField(props: {
  name: string;
  onChange: (files: File[]) => void;
  class?: string;
}) {
  return (
    <label class={`field files ${props.class ?? ''}`}>
      <span>{t('attachments.label')}</span>
      <input
        type="file"
        name={props.name}
        multiple
        onChange={(e) => props.onChange([...((e.target as HTMLInputElement).files ?? [])])}
      />
    </label>
  );
}
