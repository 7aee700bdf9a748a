import { useEffect, useState } from 'preact/hooks';
import type { FeedEscalationEvent, HubFeed } from '../feed.js';
import { t } from '../i18n.js';
import type { Office, RecordEntry, RecordFilter } from '../sdk.js';
import { formatShort } from '../time.js';
import { ChainStatus, Stats } from './analyst-stats.js';
import { Detail, Entries, Filters } from './record-table.js';

const PAGE = 25;

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
