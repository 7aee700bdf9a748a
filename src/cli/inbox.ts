import { parseArgs } from 'node:util';
import type { Message } from '../client/client.js';
import { attachmentsOf, byteSize, saveAttachment } from './attachments.js';
import { CLIENT_OPTIONS, clientFrom } from './client-options.js';
import { describeMessage, describeRefusal } from './show.js';
import { type Print, UsageError } from './usage.js';

/**
 * `liaison inbox [--ack ALERT_ID]... [--done] [--case ID]`: lists what waits for this device
 * without taking it off the server (only one case's items with `--case`); acknowledges alerts;
 * `--done` marks everything listed as processed.
 */
export async function inboxCommand(argv: string[], print: Print): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...CLIENT_OPTIONS,
      ack: { type: 'string', multiple: true },
      done: { type: 'boolean' },
      case: { type: 'string' },
      'save-attachments': { type: 'string' },
    },
  });
  // --done marks everything processed: with a filter, that would include what was not shown.
  if (values.case !== undefined && values.done)
    throw new UsageError('--case lists one case only; run --done without --case');
  const client = await clientFrom(values, false);
  const messages: Message[] = [];
  let refused = 0;
  client.on('message', (m) => messages.push(m));
  // A refused envelope is never listed as a message, but always reported, with its code.
  client.on('problem', (p) => {
    if (p.id) refused++;
    print(values.json ? JSON.stringify({ event: 'problem', ...p }) : describeRefusal(p));
  });
  await client.start();
  try {
    const listed =
      values.case === undefined ? messages : messages.filter((m) => caseOf(m) === values.case);
    for (const m of listed) {
      const line = describeMessage(m);
      if (values.json)
        print(
          JSON.stringify({
            id: m.id,
            office: m.from,
            from: m.sender,
            at: m.header.createdAt,
            body: m.body,
            ...(m.copy ? { copy: true, to: m.header.to } : {}),
          }),
        );
      else if (line) print(`${m.id}  ${line}`);
      const dir = values['save-attachments'];
      for (const [index, ref] of attachmentsOf(m).entries()) {
        if (dir === undefined) continue;
        try {
          const saved = await saveAttachment(client, m.id, index, ref, dir);
          print(
            values.json
              ? JSON.stringify({ saved: saved.path, id: m.id, index, type: saved.type })
              : `  saved ${saved.path} (${saved.type}, ${byteSize(ref.size)}, hash checked)`,
          );
        } catch (error) {
          const code = (error as { code?: string }).code ?? 'INTERNAL';
          const p = {
            code,
            message: `attachment ${ref.name}: ${(error as Error).message}`,
            id: m.id,
          };
          print(values.json ? JSON.stringify({ event: 'problem', ...p }) : describeRefusal(p));
        }
      }
    }
    if (!values.json && listed.length === 0 && refused === 0)
      print(
        values.case === undefined ? 'nothing waiting' : `nothing waiting in case ${values.case}`,
      );
    for (const alertId of values.ack ?? []) {
      const alert = messages.find((m) => m.id === alertId);
      const office = alert?.from ?? client.directory.linkedOffices(client.officeId)[0];
      if (!office) throw new UsageError('no linked office to acknowledge to');
      await client.acknowledgeAlert(office, alertId);
      print(values.json ? JSON.stringify({ acknowledged: alertId }) : `acknowledged ${alertId}`);
    }
    if (values.done) {
      await client.acknowledgeUpTo(client.offset);
      const done = `marked ${messages.length} as processed`;
      print(values.json ? JSON.stringify({ processedUpTo: client.offset }) : done);
    }
  } finally {
    client.stop();
  }
}

/** The case an item belongs to, if its body names one (inside the ciphertext, §8.1). */
const caseOf = (m: Message): string | undefined => ('case' in m.body ? m.body.case?.id : undefined);
