import { inCase } from '../cases.js';
import { t } from '../i18n.js';
import type { Item, OperatorSession } from '../operator.js';
import type { AlertBody } from '../sdk.js';
import { formatShort, formatTime } from '../time.js';
import { Attachments } from './attachments.js';
import { ItemActions } from './item-actions.js';
import { Marks } from './marks.js';

/** Where an outgoing item stands: queued, sent (accepted), delivered, read, or refused. */
export function deliveryOf(session: OperatorSession, item: Item): string {
  if (item.failed) return 'failed';
  if (item.localId && item.id === item.localId) return 'queued';
  return session.delivery(item.id);
}

function AlertCard(props: { session: OperatorSession; office: string; item: Item }) {
  const { session, item, office } = props;
  const alert = item.body as AlertBody;
  const ack = session.state.acks[item.id];
  const escalatedAt = session.state.escalations[item.id];
  return (
    <div class={`alert-card prec-${alert.precedence}`} data-testid="alert-card">
      <div class="alert-head">
        <span class={`badge prec-${alert.precedence}`}>{t(`precedence.${alert.precedence}`)}</span>
        <span class="alert-category">{t(`category.${alert.category}`)}</span>
      </div>
      <h4 class="alert-title">{alert.title}</h4>
      {alert.description && <p class="user-text">{alert.description}</p>}
      <p class="muted">
        {t('alert.bcp')}:{' '}
        <span class="data">
          {alert.location.bcp}
          {alert.location.coordinates &&
            ` (${alert.location.coordinates.lat}, ${alert.location.coordinates.lon})`}
        </span>
      </p>
      {alert.subjects.length > 0 && (
        <ul class="subjects-list">
          {alert.subjects.map((s, i) => (
            <li key={i}>
              <strong>{t(`alert.${s.kind}`)}:</strong>{' '}
              {s.kind === 'vehicle' &&
                [s.plate, s.country, s.description].filter(Boolean).join(', ')}
              {s.kind === 'person' &&
                [s.name, s.dateOfBirth, s.nationality, s.description].filter(Boolean).join(', ')}
              {s.kind === 'document' &&
                [t(`documentType.${s.documentType}`), s.number, s.issuingCountry]
                  .filter(Boolean)
                  .join(', ')}
            </li>
          ))}
        </ul>
      )}
      <p class="muted">
        {t('alert.validity', {
          from: formatTime(alert.validFrom),
          until: formatTime(alert.validUntil),
        })}
      </p>
      {item.dir === 'in' && !ack && (
        <button type="button" class="danger" onClick={() => session.acknowledge(office, item.id)}>
          {t('alert.acknowledge')}
        </button>
      )}
      {item.dir === 'in' && ack && (
        <p class="ok">{t('alert.youAcknowledged', { time: formatShort(ack.at) })}</p>
      )}
      {item.dir === 'out' && ack && (
        <p class="ok" data-testid="acknowledged">
          {t('alert.acknowledgedBy', { office: ack.by, time: formatShort(ack.at) })}
        </p>
      )}
      {item.dir === 'out' && !ack && <p class="muted">{t('alert.awaitingAck')}</p>}
      {item.dir === 'out' && escalatedAt !== undefined && (
        <p class="warn">{t('alert.escalated', { time: formatShort(escalatedAt) })}</p>
      )}
    </div>
  );
}

/**
 * One conversation's items (or one case's), oldest first, each with its marks first (handling,
 * evaluation, case), then its content, its time (local zone) and delivery state.
 */
export function Messages(props: { session: OperatorSession; office: string; caseId?: string }) {
  const { session, office } = props;
  const items = inCase(session.state.items[office] ?? [], props.caseId);
  if (items.length === 0)
    return <p class="empty">{props.caseId ? t('cases.empty') : t('chat.empty')}</p>;
  return (
    <ol class="messages" aria-label={t('chat.history', { office })}>
      {items.map((item) => {
        const delivery = item.dir === 'out' ? deliveryOf(session, item) : undefined;
        return (
          <li
            key={item.localId ?? item.id}
            class={`message ${item.dir}`}
            data-testid="message"
            data-dir={item.dir}
            data-status={delivery}
          >
            <Marks body={item.body} />
            {item.body.type === 'chat' ? (
              <p class="user-text">{item.body.text}</p>
            ) : (
              <AlertCard session={session} office={office} item={item} />
            )}
            <Attachments session={session} item={item} />
            <ItemActions session={session} office={office} item={item} />
            <p class="meta">
              <span>{item.dir === 'out' ? t('chat.you') : office}</span>
              {' · '}
              <time dateTime={new Date(item.at).toISOString()}>{formatShort(item.at)}</time>
              {delivery && (
                <span
                  class={`delivery delivery-${delivery}`}
                  data-testid="delivery"
                  data-delivered={session.state.statuses[item.id]?.delivered !== undefined}
                  title={(['accepted', 'delivered', 'read'] as const)
                    .filter((s) => session.state.statuses[item.id]?.[s] !== undefined)
                    .map(
                      (s) =>
                        `${t(`status.${s}`)} ${formatShort(session.state.statuses[item.id]?.[s] as number)}`,
                    )
                    .join(' · ')}
                >
                  {' · '}
                  {t(`status.${delivery}`, { reason: item.failed })}
                </span>
              )}
            </p>
          </li>
        );
      })}
    </ol>
  );
}
