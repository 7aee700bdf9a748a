import { useState } from 'preact/hooks';
import { t } from '../i18n.js';
import type { Office, RecordEntry, RecordFilter } from '../sdk.js';
import { formatShort, formatTime, fromLocalInput } from '../time.js';
import { PRECEDENCES } from './alert-form.js';
import { Marks } from './marks.js';

/** The record as analysts read it: the filter form, the table of entries, one entry opened. */

const KINDS = ['chat', 'alert', 'receipt', 'alert-ack'];

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

export function Filters(props: { offices: Office[]; onApply: (filter: RecordFilter) => void }) {
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

export function Entries(props: { entries: RecordEntry[]; onOpen: (entry: RecordEntry) => void }) {
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
            <td>
              {(e.body?.type === 'chat' || e.body?.type === 'alert') && <Marks body={e.body} />}
              <button type="button" class="link user-text" onClick={() => props.onOpen(e)}>
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

export function Detail(props: { entry: RecordEntry; onClose: () => void }) {
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
