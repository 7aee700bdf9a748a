import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import type { Message } from '../client/client.js';
import { announceDeviceChanges, CLIENT_OPTIONS, clientFrom } from './client-options.js';
import { type Print, UsageError } from './usage.js';

const time = (ms: number) => new Date(ms).toISOString().slice(11, 16);

/** A message as the operator reads it. */
function describe(m: Message): string {
  const at = time(m.header.createdAt);
  switch (m.body.type) {
    case 'chat':
      return `[${at}] ${m.sender}: ${m.body.text}`;
    case 'alert':
      return `[${at}] ${m.sender}: ALERT ${m.body.precedence} ${m.body.category}: ${m.body.title} (id ${m.id})`;
    case 'alert-ack':
      return `[${at}] ${m.sender}: acknowledged alert ${m.body.alertId}${m.body.note ? `: ${m.body.note}` : ''}`;
    case 'receipt':
      return '';
  }
}

/**
 * `liaison chat <office>`: an interactive chat with a linked office. Lines typed are sent; messages,
 * delivery states and the other side's presence are printed as they come. `--json` prints one
 * JSON object per line for scripts.
 */
export async function chatCommand(argv: string[], print: Print): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: CLIENT_OPTIONS,
    allowPositionals: true,
  });
  const office = positionals[0];
  if (!office) throw new UsageError('liaison chat <office> --key DEVICE.key [--gateway URL]');
  const client = await clientFrom(values);
  const out = (human: string, json: object) => print(values.json ? JSON.stringify(json) : human);
  const mine = new Map<string, string>();

  client.on('message', (m) => {
    if (m.from !== office) return;
    const line = describe(m);
    if (line)
      out(line, {
        event: 'message',
        id: m.id,
        from: m.sender,
        body: m.body,
        at: m.header.createdAt,
      });
    if (m.body.type === 'chat' || m.body.type === 'alert')
      void client.markRead(office, [m.id]).catch(() => undefined);
  });
  client.on('status', (s) => {
    const text = mine.get(s.id);
    if (text === undefined) return;
    out(
      `  ${s.status === 'accepted' ? '✓' : s.status === 'delivered' ? '✓✓' : '👁'} ${s.status}: ${text.slice(0, 40)}`,
      { event: 'status', ...s },
    );
  });
  client.on('presence', (p) => {
    if (p.officeId === office)
      out(`${office} is ${p.online ? 'online' : 'offline'}`, { event: 'presence', ...p });
  });
  announceDeviceChanges(client, out);
  client.on('problem', (p) => out(`problem: ${p.message} (${p.code})`, { event: 'problem', ...p }));
  client.on('escalated', (e) =>
    out(`CARICC escalated your ${e.precedence} alert ${e.alertId}: not acknowledged in time`, {
      event: 'escalated',
      ...e,
    }),
  );

  await client.start();
  if (!client.directory.isLinked(client.officeId, office)) {
    client.stop();
    throw new UsageError(`${client.officeId} is not linked to ${office} (NOT_LINKED)`);
  }
  out(
    `chatting with ${office} as ${client.officeId}; type a line and press Enter (Ctrl-D to leave)`,
    { event: 'ready', office },
  );

  const input = createInterface({ input: process.stdin });
  let sending = Promise.resolve();
  for await (const line of input) {
    const text = line.trim();
    if (!text) continue;
    sending = sending.then(async () => {
      try {
        const id = await client.sendChat(office, text);
        mine.set(id, text);
        out(`  ✓ accepted: ${text.slice(0, 40)}`, { event: 'status', id, status: 'accepted' });
      } catch (error) {
        out(`could not send: ${(error as Error).message}`, {
          event: 'error',
          message: (error as Error).message,
        });
      }
    });
  }
  await sending;
  // Give the last delivery states a moment before leaving.
  await new Promise((done) => setTimeout(done, 300));
  client.stop();
}
