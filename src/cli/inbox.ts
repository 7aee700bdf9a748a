import { parseArgs } from 'node:util';
import type { Message } from '../client/client.js';
import { CLIENT_OPTIONS, clientFrom } from './client-options.js';
import { type Print, UsageError } from './usage.js';

/**
 * `liaison inbox [--ack ALERT_ID]... [--done]`: lists what waits for this device without taking it
 * off the server; acknowledges alerts; `--done` marks everything listed as processed.
 */
export async function inboxCommand(argv: string[], print: Print): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...CLIENT_OPTIONS,
      ack: { type: 'string', multiple: true },
      done: { type: 'boolean' },
    },
  });
  const client = await clientFrom(values, false);
  const messages: Message[] = [];
  client.on('message', (m) => messages.push(m));
  await client.start();
  try {
    for (const m of messages) {
      if (values.json) print(JSON.stringify({ id: m.id, from: m.sender, body: m.body }));
      else if (m.body.type === 'alert')
        print(`${m.id}  ALERT ${m.body.precedence} from ${m.sender}: ${m.body.title}`);
      else if (m.body.type === 'chat') print(`${m.id}  ${m.sender}: ${m.body.text}`);
      else if (m.body.type === 'alert-ack') {
        print(
          `${m.id}  ${m.sender} acknowledged alert ${m.body.alertId}${m.body.note ? `: ${m.body.note}` : ''}`,
        );
      }
    }
    if (!values.json && messages.length === 0) print('nothing waiting');
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
