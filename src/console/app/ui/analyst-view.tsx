import { useEffect, useState } from 'preact/hooks';
import type { ChainReport, FeedEscalationEvent, HubFeed, Statistics } from '../feed.js';
import { t } from '../i18n.js';
import type { Office, RecordEntry, RecordFilter } from '../sdk.js';
import { formatShort, formatTime, fromLocalInput } from '../time.js';
import { PRECEDENCES } from './alert-form.js';
import { BarChart } from './charts.js';

const KINDS = ['chat', 'alert', 'receipt', 'alert-ack'];
const PAGE = 25;

interface FilterForm {
  office: string;
  border: string;
  kind: string;
  precedence: string;
  since: string;
  until: string;
}
const EMPTY: FilterForm = {
  office: '',
  border: '',
  kind: '',
  precedence: '',
  since: '',
  until: '',
};

function toFilter(form: FilterForm): RecordFilter {
  const filter: Record<string, unknown> = {};
  if (form.office) filter.office = form.office;
  if (form.border) filter.border = form.border;
  if (form.kind) filter.kind = form.kind;
  if (form.precedence) filter.precedence = form.precedence;
  if (form.since) filter.since = fromLocalInput(form.since);
  if (form.until) filter.until = fromLocalInput(form.until);
  return filter as RecordFilter;
}

/** The borders the offices' links cross, as `KZ-KG`, both orders offered by the hub's filter. */
function bordersOf(offices: Office[]): string[] {
  const countries = [...new Set(offices.map((o) => o.country))].sort();
  const borders: string[] = [];
  for (const a of countries) for (const b of countries) if (a < b) borders.push(`${a}-${b}`);
  return borders;
}

function Filters(props: { offices: Office[]; onApply: (filter: RecordFilter) => void }) {
  const [form, setForm] = useState(EMPTY);
  const set = (key: keyof FilterForm) => (e: Event) =>
    setForm({ ...form, [key]: (e.target as HTMLInputElement).value });
  const choose = (key: keyof FilterForm, options: { value: string; label: string }[]) => (
    <label class="field">
      <span>{t(`analyst.${key}`)}</span>
      <select name={key} value={form[key]} onChange={set(key)}>
        <option value="">{t('analyst.any')}</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
  return (
    <form
      class="filters row"
      aria-label={t('analyst.filters')}
      onSubmit={(e) => {
        e.preventDefault();
        props.onApply(toFilter(form));
      }}
    >
      {choose(
        'office',
        props.offices.map((o) => ({ value: o.officeId, label: `${o.officeId} · ${o.name}` })),
      )}
      {choose(
        'border',
        bordersOf(props.offices).map((b) => ({ value: b, label: b })),
      )}
      {choose(
        'kind',
        KINDS.map((k) => ({ value: k, label: t(`kind.${k}`) })),
      )}
      {choose(
        'precedence',
        PRECEDENCES.map((p) => ({ value: p, label: t(`precedence.${p}`) })),
      )}
      <label class="field">
        <span>{t('analyst.since')}</span>
        <input type="datetime-local" name="since" value={form.since} onInput={set('since')} />
      </label>
      <label class="field">
        <span>{t('analyst.until')}</span>
        <input type="datetime-local" name="until" value={form.until} onInput={set('until')} />
      </label>
      <button type="submit" class="primary">
        {t('analyst.apply')}
      </button>
    </form>
  );
}

function summary(entry: RecordEntry): string {
  const body = entry.body;
  if (!body) return t('analyst.notOpened');
  if (body.type === 'chat') return body.text;
  if (body.type === 'alert') return `${t(`category.${body.category}`)}: ${body.title}`;
  if (body.type === 'alert-ack') return `${t('kind.alert-ack')} ${body.alertId.slice(0, 8)}`;
  return `${t('kind.receipt')} (${body.envelopeIds.length})`;
}

function Entries(props: { entries: RecordEntry[]; onOpen: (entry: RecordEntry) => void }) {
  if (props.entries.length === 0) return <p class="empty">{t('analyst.empty')}</p>;
  return (
    <table class="entries" data-testid="entries">
      <thead>
        <tr>
          <th>{t('analyst.seq')}</th>
          <th>{t('analyst.time')}</th>
          <th>{t('analyst.route')}</th>
          <th>{t('analyst.kind')}</th>
          <th>{t('analyst.content')}</th>
          <th>{t('analyst.status')}</th>
        </tr>
      </thead>
      <tbody>
        {props.entries.map((e) => (
          <tr
            key={e.seq}
            class={e.status === 'non-compliant' ? 'flagged' : ''}
            data-testid="entry"
            onClick={() => props.onOpen(e)}
          >
            <td>{e.seq}</td>
            <td>{formatShort(e.acceptedAt)}</td>
            <td>
              {e.from} → {e.to.join(', ')}
            </td>
            <td>
              {e.kind === 'unknown' ? t('analyst.unknown') : t(`kind.${e.kind}`)}
              {e.precedence && (
                <>
                  {' '}
                  <span class={`badge prec-${e.precedence}`}>
                    {t(`precedence.${e.precedence}`)}
                  </span>
                </>
              )}
            </td>
            <td class="user-text">
              <button type="button" class="link" onClick={() => props.onOpen(e)}>
                {summary(e)}
              </button>
            </td>
            <td>
              {e.status === 'compliant'
                ? t('analyst.compliant')
                : t('analyst.nonCompliant', {
                    code: e.code ?? '?',
                    office: e.offendingOffice ?? t('analyst.unknown'),
                  })}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Detail(props: { entry: RecordEntry; onClose: () => void }) {
  const e = props.entry;
  return (
    <div class="card detail" role="dialog" aria-label={t('analyst.detail', { seq: e.seq })}>
      <h3>{t('analyst.detail', { seq: e.seq })}</h3>
      <dl>
        <dt>{t('analyst.route')}</dt>
        <dd>
          {e.from} → {e.to.join(', ')}
        </dd>
        <dt>{t('analyst.sender')}</dt>
        <dd>{e.sender}</dd>
        <dt>{t('analyst.created')}</dt>
        <dd>{formatTime(e.createdAt)}</dd>
        <dt>{t('analyst.time')}</dt>
        <dd>{formatTime(e.acceptedAt)}</dd>
        <dt>{t('analyst.recorded')}</dt>
        <dd>{formatTime(e.recordedAt)}</dd>
        <dt>{t('analyst.hash')}</dt>
        <dd>
          <code>{e.hash}</code>
        </dd>
        <dt>{t('analyst.content')}</dt>
        <dd>{e.body ? t('analyst.opened') : t('analyst.notOpened')}</dd>
      </dl>
      {e.body && <pre class="user-text">{JSON.stringify(e.body, null, 2)}</pre>}
      <button type="button" class="secondary" onClick={props.onClose}>
        {t('analyst.close')}
      </button>
    </div>
  );
}

function LiveFeed(props: { feed: HubFeed; offices: Office[] }) {
  const { feed } = props;
  const [entries, setEntries] = useState<RecordEntry[]>([]);
  const [escalations, setEscalations] = useState<FeedEscalationEvent[]>([]);
  const [open, setOpen] = useState<RecordEntry | undefined>();
  const [filter, setFilter] = useState<RecordFilter>({});
  useEffect(() => {
    let live = true;
    const load = () =>
      feed.subscribe(filter).then(
        (list) => live && setEntries(list.reverse()),
        () => undefined,
      );
    void load();
    const offConnect = feed.on('connection', (up) => up && void load());
    const offRecord = feed.on('record', (entry) =>
      setEntries((list) => [entry, ...list].slice(0, 200)),
    );
    const offEscalation = feed.on('escalation', (e) => setEscalations((list) => [e, ...list]));
    return () => {
      live = false;
      offConnect();
      offRecord();
      offEscalation();
    };
  }, [feed, filter]);
  return (
    <section>
      <Filters offices={props.offices} onApply={setFilter} />
      <div class="escalations" data-testid="escalations">
        <h3>{t('analyst.escalations')}</h3>
        {escalations.length === 0 ? (
          <p class="muted">{t('analyst.noEscalations')}</p>
        ) : (
          <ul>
            {escalations.map((e) => (
              <li key={`${e.alertId}-${e.escalatedAt}`} class="warn">
                {formatShort(e.escalatedAt)}:{' '}
                {t('analyst.escalation', {
                  precedence: t(`precedence.${e.precedence}`),
                  from: e.from,
                  to: e.to.join(', '),
                })}
              </li>
            ))}
          </ul>
        )}
      </div>
      <Entries entries={entries} onOpen={setOpen} />
      {open && <Detail entry={open} onClose={() => setOpen(undefined)} />}
    </section>
  );
}

function Search(props: { feed: HubFeed; offices: Office[] }) {
  const [filter, setFilter] = useState<RecordFilter>({});
  const [pages, setPages] = useState<number[]>([0]);
  const [page, setPage] = useState<{ entries: RecordEntry[]; next: number; more: boolean }>();
  const [open, setOpen] = useState<RecordEntry | undefined>();
  const after = pages[pages.length - 1] ?? 0;
  useEffect(() => {
    props.feed.search(filter, after, PAGE).then(setPage, () => undefined);
  }, [filter, after]);
  return (
    <section>
      <Filters
        offices={props.offices}
        onApply={(f) => {
          setFilter(f);
          setPages([0]);
        }}
      />
      {page && <Entries entries={page.entries} onOpen={setOpen} />}
      <div class="row">
        <button
          type="button"
          class="secondary"
          disabled={pages.length <= 1}
          onClick={() => setPages([0])}
        >
          {t('analyst.first')}
        </button>
        <button
          type="button"
          class="secondary"
          disabled={!page?.more}
          onClick={() => page && setPages([...pages, page.next])}
        >
          {t('analyst.older')}
        </button>
      </div>
      {open && <Detail entry={open} onClose={() => setOpen(undefined)} />}
    </section>
  );
}

function Stats(props: { feed: HubFeed }) {
  const [stats, setStats] = useState<Statistics | undefined>();
  const silentHours = 24;
  const load = () => props.feed.stats(silentHours).then(setStats, () => undefined);
  useEffect(() => void load(), []);
  if (!stats) return <p class="muted">…</p>;
  const perLink = stats.perLinkPerDay
    .sort((a, b) => a.day.localeCompare(b.day) || a.link.localeCompare(b.link))
    .map((r) => ({
      label: `${r.link.replace(',', ' ↔ ')} · ${r.day}`,
      values: [r.messages, r.alerts],
    }));
  const categories = Object.entries(stats.alertsByCategory).map(([c, n]) => ({
    label: t(`category.${c}`),
    values: [n],
  }));
  const acks = Object.entries(stats.medianAckMsByOffice).map(([o, ms]) => ({
    label: o,
    values: [Math.round(ms / 600) / 100],
  }));
  return (
    <section class="stats" data-testid="stats">
      <button type="button" class="secondary" onClick={() => void load()}>
        {t('stats.refresh')}
      </button>
      {perLink.length === 0 ? (
        <p class="muted">{t('stats.noData')}</p>
      ) : (
        <BarChart
          title={t('stats.perLink')}
          rows={perLink}
          series={[
            { name: t('stats.envelopes'), className: 'series-a' },
            { name: t('stats.alerts'), className: 'series-b' },
          ]}
        />
      )}
      {categories.length > 0 && (
        <BarChart
          title={t('stats.byCategory')}
          rows={categories}
          series={[{ name: t('stats.alerts'), className: 'series-b' }]}
        />
      )}
      {acks.length > 0 && (
        <BarChart
          title={t('stats.ackTime')}
          rows={acks}
          series={[{ name: t('stats.ackTime'), className: 'series-c' }]}
          format={(v) => t('stats.minutes', { value: v })}
        />
      )}
      <h3>{t('stats.silent', { hours: silentHours })}</h3>
      <ul class="silent">
        {stats.silentOffices.map((o) => (
          <li key={o.officeId}>
            <strong>{o.officeId}</strong>:{' '}
            {o.lastSentAt === null
              ? t('stats.never')
              : t('stats.lastSent', { time: formatTime(o.lastSentAt) })}
          </li>
        ))}
      </ul>
    </section>
  );
}

function ChainStatus(props: { feed: HubFeed }) {
  const [report, setReport] = useState<ChainReport | 'checking' | 'offline'>('checking');
  const check = () => {
    setReport('checking');
    props.feed.verify().then(setReport, () => setReport('offline'));
  };
  useEffect(check, []);
  return (
    <div class="chain" data-testid="chain">
      {report === 'checking' && <span class="muted">{t('analyst.chainChecking')}</span>}
      {report === 'offline' && <span class="warn">{t('analyst.hubOffline')}</span>}
      {typeof report === 'object' &&
        (report.ok ? (
          <span class="ok">✔ {t('analyst.chainIntact', { n: report.entries })}</span>
        ) : (
          <span class="error">
            ✖{' '}
            {t('analyst.chainBroken', {
              position: report.broken?.position,
              reason: report.broken?.reason,
            })}
          </span>
        ))}{' '}
      <button type="button" class="link" onClick={check}>
        {t('analyst.verifyAgain')}
      </button>
    </div>
  );
}

/** The analyst's screen: the live feed, the record search and the statistics. */
export function AnalystView(props: { feed: HubFeed; offices: Office[] }) {
  const [tab, setTab] = useState<'feed' | 'search' | 'stats'>('feed');
  return (
    <main class="analyst" id="main">
      <div class="tabs-row">
        <div class="tabs" role="tablist">
          {(['feed', 'search', 'stats'] as const).map((name) => (
            <button
              key={name}
              type="button"
              role="tab"
              aria-selected={tab === name}
              class={tab === name ? 'tab active' : 'tab'}
              onClick={() => setTab(name)}
            >
              {t(`analyst.${name}`)}
            </button>
          ))}
        </div>
        <ChainStatus feed={props.feed} />
      </div>
      {tab === 'feed' && <LiveFeed feed={props.feed} offices={props.offices} />}
      {tab === 'search' && <Search feed={props.feed} offices={props.offices} />}
      {tab === 'stats' && <Stats feed={props.feed} />}
    </main>
  );
}
