import type { RecordEntry } from '../../protocol/v1/analyst.js';
import type { AttachmentRef } from '../../protocol/v1/blob.js';
import type { CaseRef, Evaluation, Handling } from '../../protocol/v1/payload.js';
import type { Message } from '../client/client.js';
import { byteSize } from './attachments.js';

/** A time as the operator reads it: local, with the zone (`14:05 GMT+5`). */
export const localTime = (ms: number): string =>
  new Date(ms).toLocaleTimeString(undefined, {
    hour: '2-digit',
    minute: '2-digit',
    hour12: false,
    timeZoneName: 'short',
  });

/**
 * A message as the operator reads it; empty for receipts (shown as delivery states instead).
 * A FLASH alert stands out and says how to acknowledge it.
 */
export function describeMessage(m: Message): string {
  const at = localTime(m.header.createdAt);
  // What another desk of this office sent reads as sent: who, to whom.
  const who = m.copy ? `${m.sender} → ${m.header.to.join(',')}` : m.sender;
  switch (m.body.type) {
    case 'chat':
      return `[${at}] ${who}: ${marks(m.body)}${m.body.text}${attachmentLines(m.body)}`;
    case 'alert': {
      const line = `ALERT ${m.body.precedence} ${m.body.category}: ${marks(m.body)}${m.body.title} (id ${m.id})`;
      const files = attachmentLines(m.body);
      if (m.body.precedence !== 'FLASH' || m.copy) return `[${at}] ${who}: ${line}${files}`;
      return [
        `!!! [${at}] FLASH from ${m.sender} !!! ${line}${files}`,
        `!!! acknowledge it: liaison inbox --ack ${m.id} --key YOUR.key`,
      ].join('\n');
    }
    case 'alert-ack':
      return `[${at}] ${who}: acknowledged alert ${m.body.alertId}${m.body.note ? `: ${m.body.note}` : ''}`;
    case 'receipt':
      return '';
  }
}

/**
 * The handling code (the item's conditions of use), evaluation and case, in front of an item so
 * the operator sees them first: `[H3: not to customs] [B3] [case Kordai route, open] `.
 */
export function marks(body: {
  handling?: Handling | undefined;
  evaluation?: Evaluation | undefined;
  case?: CaseRef | undefined;
}): string {
  const parts: string[] = [];
  if (body.handling)
    parts.push(
      body.handling.restriction
        ? `${body.handling.code}: ${body.handling.restriction}`
        : body.handling.code,
    );
  if (body.evaluation)
    parts.push(`${body.evaluation.sourceReliability}${body.evaluation.informationAccuracy}`);
  if (body.case) parts.push(`case ${body.case.title}, ${body.case.status}`);
  return parts.map((p) => `[${p}] `).join('');
}

/**
 * One line per attachment: name, size and the sender's declared type, marked as such (the type
 * that counts is sniffed when it is saved).
 */
function attachmentLines(body: { attachments?: AttachmentRef[] | undefined }): string {
  return (body.attachments ?? [])
    .map((a) => {
      const declared = a.declaredType ? `, declared ${a.declaredType}` : '';
      const thumb = a.thumbnail ? ', thumbnail' : '';
      return `\n    attachment: ${a.name} (${byteSize(a.size)}${declared}${thumb})`;
    })
    .join('');
}

/** An envelope the client refused, as a line: it is never shown as a message. */
export const describeRefusal = (p: { code: string; message: string; id?: string }): string =>
  p.id ? `REFUSED envelope ${p.id}: ${p.message} (${p.code})` : `problem: ${p.message} (${p.code})`;

/** What an entry says, in a few words. */
function summary({ body, status, code, archived }: RecordEntry): string {
  if (status !== 'compliant') return `NON-COMPLIANT ${code}`;
  if (!body && archived) return '(archived: opens with the archive key, hub search --archive-key)';
  if (body?.type === 'alert-ack') return `acknowledges ${body.alertId}`;
  if (body?.type === 'receipt') return `read ${body.envelopeIds.length} message(s)`;
  if (body?.type === 'chat') return `${marks(body)}${body.text}${fileCount(body)}`;
  if (body?.type === 'alert') return `${marks(body)}${body.title}${fileCount(body)}`;
  return '';
}

const fileCount = (body: { attachments?: AttachmentRef[] | undefined }) =>
  body.attachments ? ` [${body.attachments.length} attachment(s)]` : '';

const route = (e: RecordEntry) =>
  `#${e.seq} ${e.from} → ${e.to.join(',')} ${e.kind}${e.precedence ? ` ${e.precedence}` : ''}`;

/** A record entry as an analyst reads it: position, route, kind, what it says. */
export const describeEntry = (e: RecordEntry): string => `${route(e)} ${summary(e)}`;
