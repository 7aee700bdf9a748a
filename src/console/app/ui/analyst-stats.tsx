import { useEffect, useState } from 'preact/hooks';
import type { ChainReport, HubFeed, Statistics } from '../feed.js';
import { t } from '../i18n.js';
import { formatTime } from '../time.js';
import { BarChart } from './charts.js';

export function Stats(props: { feed: HubFeed }) {
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

export function ChainStatus(props: { feed: HubFeed }) {
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
