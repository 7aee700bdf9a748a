import { useEffect, useRef, useState } from 'preact/hooks';
import { casesSeen } from '../cases.js';
import { t } from '../i18n.js';
import type { OperatorSession } from '../operator.js';
import type { AlertBody } from '../sdk.js';
import { AlertForm } from './alert-form.js';
import { FilesField } from './attachments.js';
import { HandlingMark } from './marks.js';
import { Messages } from './messages.js';
import { OfficeSettings } from './settings.js';
import { useChanges } from './use.js';

/** A short, loud two-tone signal for FLASH and IMMEDIATE alerts (WebAudio: no file to fetch). */
function beep() {
  try {
    const audio = new AudioContext();
    for (const [i, frequency] of [880, 660, 880].entries()) {
      const osc = audio.createOscillator();
      osc.frequency.value = frequency;
      osc.connect(audio.destination);
      osc.start(audio.currentTime + i * 0.25);
      osc.stop(audio.currentTime + i * 0.25 + 0.2);
    }
  } catch {
    // No audio device: the banner still stands out.
  }
}

function Banners(props: { session: OperatorSession; onOpen: (office: string) => void }) {
  const { session } = props;
  const urgent = session.awaiting().filter(({ item }) => session.isUrgent(item));
  return (
    <div class="banners">
      {urgent.map(({ officeId, item }) => {
        const alert = item.body as AlertBody;
        return (
          <div
            key={item.id}
            class={`banner urgent prec-${alert.precedence}`}
            role="alert"
            data-testid="urgent-banner"
          >
            <div>
              {alert.handling && <HandlingMark handling={alert.handling} />}{' '}
              <strong>
                {t('alert.bannerTitle', {
                  precedence: t(`precedence.${alert.precedence}`),
                  office: officeId,
                })}
              </strong>
              <span class="banner-text">
                {' '}
                {t(`category.${alert.category}`)}: {alert.title}
              </span>
            </div>
            <button
              type="button"
              class="on-dark"
              onClick={() => session.acknowledge(officeId, item.id)}
            >
              {t('alert.acknowledge')}
            </button>
          </div>
        );
      })}
      {session.state.keyWarnings.map((w) => (
        <div key={w.deviceId} class="banner keywarn" role="alert" data-testid="key-warning">
          <div>
            <strong>
              {w.kind === 'changed'
                ? t('keys.changed', { device: w.deviceId })
                : t('keys.added', { device: w.deviceId, office: w.deviceId.split('/')[0] })}
            </strong>{' '}
            {t('keys.compare')} <code class="fingerprint">{w.fingerprint}</code>
          </div>
          <button
            type="button"
            class="secondary"
            onClick={() => session.dismissKeyWarning(w.deviceId)}
          >
            {t('keys.dismiss')}
          </button>
        </div>
      ))}
      {session.problems.length > 0 && (
        <div class="banner problem" role="status">
          <div>
            {session.problems.map((p, i) => (
              <p key={i}>
                {p.missing
                  ? t('problem.missing', {
                      sender: p.missing.sender,
                      from: p.missing.from,
                      to: p.missing.to,
                    })
                  : t('problem.title', { code: p.code })}
              </p>
            ))}
          </div>
          <button type="button" class="secondary" onClick={() => session.dismissProblems()}>
            {t('problem.dismiss')}
          </button>
        </div>
      )}
    </div>
  );
}

/** The operator's screen: linked offices on the side, one conversation at a time. */
export function OperatorView(props: { session: OperatorSession }) {
  const { session } = props;
  useChanges(session);
  const [active, setActive] = useState<string | undefined>();
  const [composing, setComposing] = useState(false);
  const [text, setText] = useState('');
  // Files for the next chat line; `picked` remounts the file input once they are sent.
  const [files, setFiles] = useState<File[]>([]);
  const [picked, setPicked] = useState(0);
  const [uploading, setUploading] = useState(false);
  const [failure, setFailure] = useState<string | undefined>();
  const [filter, setFilter] = useState<{ office: string; caseId: string } | undefined>();
  const list = useRef<HTMLDivElement>(null);
  const office = active ?? session.offices[0]?.officeId;
  const items = office ? (session.state.items[office]?.length ?? 0) : 0;
  // Cases seen in this conversation (to filter by) and anywhere (to file an alert under).
  const conversationCases = casesSeen(office ? (session.state.items[office] ?? []) : []);
  const allCases = casesSeen(Object.values(session.state.items).flat());
  const caseId = filter?.office === office ? filter?.caseId : undefined;
  const currentCase = conversationCases.find((c) => c.id === caseId);

  useEffect(() => session.on('alarm', () => beep()), [session]);
  // Shown on screen = read: the other office gets a read receipt.
  useEffect(() => {
    if (!office) return;
    const mark = () => {
      if (document.visibilityState === 'visible') session.shown(office);
    };
    mark();
    document.addEventListener('visibilitychange', mark);
    return () => document.removeEventListener('visibilitychange', mark);
  });
  useEffect(() => {
    list.current?.scrollTo({ top: list.current.scrollHeight });
  }, [office, items, caseId]);

  const send = (event: Event) => {
    event.preventDefault();
    if (!office || uploading || (!text.trim() && files.length === 0)) return;
    const done = () => {
      setText('');
      setFiles([]);
      setPicked(picked + 1);
    };
    if (files.length === 0) {
      void session.sendChat(office, text, currentCase);
      return done();
    }
    // Uploaded first (it needs the connection); the line is queued once the files are stored.
    setUploading(true);
    setFailure(undefined);
    session
      .sendChat(office, text.trim() || files.map((f) => f.name).join(', '), currentCase, files)
      .then(done, (e: unknown) => {
        const reason = (e as { code?: string }).code ?? (e as Error).message;
        setFailure(t('attachments.failed', { reason }));
      })
      .finally(() => setUploading(false));
  };
  const awaiting = session.awaiting();
  const current = session.offices.find((o) => o.officeId === office);

  return (
    <main class="operator" id="main">
      <Banners session={session} onOpen={setActive} />
      <div class="columns">
        <aside class="side">
          <h2>{t('offices.title')}</h2>
          {session.offices.length === 0 && <p class="muted">{t('offices.none')}</p>}
          <ul class="offices">
            {session.offices.map((o) => {
              const unread = session.state.unread[o.officeId]?.length ?? 0;
              const online = session.presence[o.officeId] ?? false;
              return (
                <li key={o.officeId}>
                  <button
                    type="button"
                    class={`office ${o.officeId === office ? 'active' : ''}`}
                    onClick={() => setActive(o.officeId)}
                    data-testid={`office-${o.officeId}`}
                  >
                    <span class="office-name">{o.name}</span>
                    <span class="office-id">{o.officeId}</span>
                    <span class={`presence ${online ? 'on' : 'off'}`} data-testid="presence">
                      <span class="dot" aria-hidden="true" />
                      {online ? t('offices.online') : t('offices.offline')}
                    </span>
                    {unread > 0 && (
                      <span class="unread" data-testid="unread">
                        {t('offices.unread', { n: unread })}
                      </span>
                    )}
                  </button>
                </li>
              );
            })}
          </ul>
          <h2>{t('awaiting.title')}</h2>
          {awaiting.length === 0 ? (
            <p class="muted">{t('awaiting.none')}</p>
          ) : (
            <ul class="awaiting" data-testid="awaiting">
              {awaiting.map(({ officeId, item }) => {
                const alert = item.body as AlertBody;
                return (
                  <li key={item.id}>
                    <button type="button" class="link" onClick={() => setActive(officeId)}>
                      {alert.handling && <HandlingMark handling={alert.handling} compact />}{' '}
                      <span class={`badge prec-${alert.precedence}`}>
                        {t(`precedence.${alert.precedence}`)}
                      </span>{' '}
                      {alert.title} · {officeId}
                    </button>
                  </li>
                );
              })}
            </ul>
          )}
          <OfficeSettings session={session} />
        </aside>
        {office && (
          <section class="conversation" aria-label={t('chat.history', { office })}>
            <header class="conversation-head">
              <h2>
                <span class="office-name">{current?.name ?? office}</span>{' '}
                <span class="office-id">{office}</span>
              </h2>
              <span class={`presence ${session.presence[office] ? 'on' : 'off'}`}>
                <span class="dot" aria-hidden="true" />
                {session.presence[office] ? t('offices.online') : t('offices.offline')}
              </span>
              {conversationCases.length > 0 && (
                <label class="field case-filter">
                  <span>{t('cases.filter')}</span>
                  <select
                    name="case-filter"
                    value={caseId ?? ''}
                    onChange={(e) => {
                      const chosen = (e.target as HTMLSelectElement).value;
                      setFilter(chosen ? { office, caseId: chosen } : undefined);
                    }}
                  >
                    <option value="">{t('cases.all')}</option>
                    {conversationCases.map((c) => (
                      <option key={c.id} value={c.id} class="user-text">
                        {c.title} · {t(`marks.caseStatus.${c.status}`)}
                      </option>
                    ))}
                  </select>
                </label>
              )}
            </header>
            <div class="scroll" ref={list}>
              <Messages session={session} office={office} {...(caseId ? { caseId } : {})} />
            </div>
            {composing ? (
              <AlertForm
                office={office}
                bcp={session.me?.bcp ?? ''}
                handling={session.defaultHandling}
                cases={allCases}
                inCase={currentCase}
                onCancel={() => setComposing(false)}
                onSend={async (alert, files) => {
                  await session.sendAlert(office, alert, files);
                  setComposing(false);
                }}
              />
            ) : (
              <form class="composer" onSubmit={send}>
                <p class="composer-marks" data-testid="composer-marks">
                  <HandlingMark handling={session.defaultHandling} />
                  {currentCase && (
                    <span class="case-mark">
                      {t('cases.sendingIn')} <span class="user-text">{currentCase.title}</span>
                    </span>
                  )}
                </p>
                <textarea
                  name="message"
                  rows={2}
                  value={text}
                  placeholder={t('chat.placeholder', { office })}
                  aria-label={t('chat.placeholder', { office })}
                  onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
                  onKeyDown={(e) => {
                    if (e.key === 'Enter' && !e.shiftKey) send(e);
                  }}
                />
                <FilesField
                  key={picked}
                  name="chat-attachments"
                  class="composer-files"
                  onChange={setFiles}
                />
                <button type="submit" class="primary" disabled={uploading}>
                  {uploading ? t('attachments.uploading') : t('chat.send')}
                </button>
                <button type="button" class="danger-outline" onClick={() => setComposing(true)}>
                  {t('chat.newAlert')}
                </button>
                {failure && (
                  <p class="error composer-error" role="alert">
                    {failure}
                  </p>
                )}
              </form>
            )}
          </section>
        )}
      </div>
    </main>
  );
}
