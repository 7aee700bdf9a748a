import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { MAX_SESSIONS_PER_DEVICE } from '../../protocol/v1/events.js';
import type { LiaisonClient, Message } from '../client/client.js';
import { isLiaisonError } from '../errors.js';
import { type Out, runChatCommand, SeenItems } from './chat-commands.js';
import { announceDeviceChanges, CLIENT_OPTIONS, clientFrom } from './client-options.js';
import { HANDLING_OPTIONS, handlingFrom, handlingText } from './handling.js';
import { Outbox, type Queued } from './outbox.js';
import { describeMessage, describeRefusal } from './show.js';
import { type Print, UsageError } from './usage.js';

// Refusals that sending again cannot mend: the line is reported and dropped from the queue.
const worthRetrying = (error: unknown) =>
  !isLiaisonError(error) ||
  ['UNAVAILABLE', 'INTERNAL', 'RATE_LIMITED', 'SERVER_SHUTDOWN'].includes(error.code);

/**
 * Sends queued lines in order, one at a time, while connected; stops at the first that cannot go
 * now (it stays queued, first in line) and starts again on the next `flush()`.
 */
function sender(client: LiaisonClient, outbox: Outbox, mine: Map<string, string>, out: Out) {
  let retry: ReturnType<typeof setTimeout> | undefined;
  const sendOne = async (item: Queued): Promise<boolean> => {
    try {
      await (item.attachments
        ? client.send(
            item.office,
            { type: 'chat', text: item.text, attachments: item.attachments },
            item.id,
          )
        : client.sendChat(item.office, item.text, undefined, item.id));
    } catch (error) {
      const message = (error as Error).message;
      const code = isLiaisonError(error) ? error.code : 'UNAVAILABLE';
      if (worthRetrying(error)) {
        if (client.isConnected) {
          clearTimeout(retry);
          retry = setTimeout(() => void flush(), 5_000);
        }
        out(`  … queued: ${item.text.slice(0, 40)} (${message}; sent when possible)`, {
          event: 'queued',
          id: item.id,
          code,
          message,
        });
        return false;
      }
      await outbox.remove(item.id);
      out(`could not send: ${message} (${code}): ${item.text.slice(0, 40)}`, {
        event: 'error',
        id: item.id,
        code,
        message,
      });
      return true;
    }
    mine.set(item.id, item.text);
    await outbox.remove(item.id);
    out(`  ✓ accepted: ${item.text.slice(0, 40)}`, {
      event: 'status',
      id: item.id,
      status: 'accepted',
    });
    return true;
  };
  let busy = false;
  let current = Promise.resolve();
  const flush = (): Promise<void> => {
    if (busy) return current;
    busy = true;
    current = (async () => {
      try {
        while (outbox.items.length > 0 && client.isConnected) {
          if (!(await sendOne(outbox.items[0] as Queued))) break;
        }
      } finally {
        busy = false;
      }
    })();
    return current;
  };
  return { flush, stop: () => clearTimeout(retry) };
}

/** A received chat line says its id, to /forward it (alerts say theirs already). */
function withId(line: string, m: Message): string {
  if (m.copy || m.body.type !== 'chat' || !line) return line;
  const [first, ...rest] = line.split('\n');
  return [`${first} (id ${m.id})`, ...rest].join('\n');
}

/** Why the gateway closes this session, as the operator reads it (PROTOCOL.md §9.1, §9.3). */
function closingReason(code: string): string {
  if (code === 'SESSION_REPLACED')
    return `the gateway replaced this session with a newer one of the same key (SESSION_REPLACED: at most ${MAX_SESSIONS_PER_DEVICE} at once; close the chats, Consoles or scripts using this key that you do not need)`;
  return `the gateway is closing this session (${code})`;
}

/** Socket.IO's reason for a lost connection in the operator's words (`--json` keeps it as is). */
const lostBecause = (reason: string): string =>
  ({
    'io server disconnect': 'closed by the gateway',
    'transport close': 'the gateway or the network went away',
    'transport error': 'the gateway or the network went away',
    'ping timeout': 'no answer from the gateway',
  })[reason] ?? reason;

/** What the operator sees of the connection: lost, closing and why, back. */
function showConnection(client: LiaisonClient, out: Out, end: (code: string) => void) {
  let up = false;
  /** The gateway said why it closes this session: its disconnect that follows is that close. */
  let closingSaid = false;
  client.on('connected', () => {
    closingSaid = false;
    if (up) return;
    up = true;
    out('connected to the gateway', { event: 'connection', state: 'connected' });
  });
  client.on('disconnected', ({ reason }) => {
    if (!up || reason === 'io client disconnect') return;
    up = false;
    if (closingSaid && reason === 'io server disconnect') return;
    out(
      `connection to the gateway lost (${lostBecause(reason)}); reconnecting — lines you type are queued`,
      {
        event: 'connection',
        state: 'disconnected',
        reason,
      },
    );
  });
  client.on('closing', ({ code, reconnectInMs }) => {
    closingSaid = true;
    out(
      `${closingReason(code)}${reconnectInMs === undefined ? '' : `; reconnecting in about ${Math.ceil(reconnectInMs / 1000)} s`}`,
      { event: 'closing', code, ...(reconnectInMs === undefined ? {} : { reconnectInMs }) },
    );
  });
  client.on('ended', ({ code }) => {
    out(`the gateway ended this session for good (${code}): this device may no longer connect`, {
      event: 'ended',
      code,
    });
    end(code);
  });
}

/**
 * `liaison chat <office>`: an interactive chat with a linked office. Lines typed are queued on
 * disk and sent in order (at once when connected, after a reconnect or the next run otherwise);
 * messages from every linked office, delivery states, presence, refusals and the connection's
 * state are printed as they come. `--json` prints one JSON object per line for scripts.
 */
export async function chatCommand(argv: string[], print: Print): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...CLIENT_OPTIONS, ...HANDLING_OPTIONS },
    allowPositionals: true,
  });
  const office = positionals[0];
  if (!office) throw new UsageError('liaison chat <office> --key DEVICE.key [--gateway URL]');
  const handling = handlingFrom(values);
  const client = await clientFrom({ ...values, defaultHandling: handling });
  const outbox = await Outbox.open(values.key as string);
  const out: Out = (human, json) => print(values.json ? JSON.stringify(json) : human);
  const mine = new Map<string, string>();
  const seen = new SeenItems();

  // Every message the client passes on is shown (it acknowledges only after this returns),
  // whichever linked office it comes from.
  client.on('message', (m) => {
    seen.add(m);
    const line = withId(describeMessage(m), m);
    const elsewhere = m.from !== office && !m.copy ? `(from ${m.from}) ` : '';
    if (line)
      out(`${elsewhere}${line}`, {
        event: 'message',
        id: m.id,
        office: m.from,
        from: m.sender,
        body: m.body,
        at: m.header.createdAt,
        ...(m.copy ? { copy: true, to: m.header.to } : {}),
      });
    // A copy of what another desk sent is not read by the addressed office: no receipt.
    if (!m.copy && (m.body.type === 'chat' || m.body.type === 'alert'))
      void client.markRead(m.from, [m.id]).catch(() => undefined);
  });
  client.on('status', (s) => {
    const text = mine.get(s.id);
    if (text === undefined || s.status === 'accepted') return;
    out(`  ${s.status === 'delivered' ? '✓✓' : '👁'} ${s.status}: ${text.slice(0, 40)}`, {
      event: 'status',
      ...s,
    });
  });
  client.on('presence', (p) =>
    out(`${p.officeId} is ${p.online ? 'online' : 'offline'}`, { event: 'presence', ...p }),
  );
  announceDeviceChanges(client, out);
  client.on('problem', (p) => out(describeRefusal(p), { event: 'problem', ...p }));
  client.on('escalated', (e) =>
    out(`CARICC escalated your ${e.precedence} alert ${e.alertId}: not acknowledged in time`, {
      event: 'escalated',
      ...e,
    }),
  );
  const input = createInterface({ input: process.stdin });
  // Iterated from now on: lines typed while the client starts would otherwise be dropped
  // (readline emits them before a later `for await` attaches).
  const lines = input[Symbol.asyncIterator]();
  showConnection(client, out, () => {
    process.exitCode = 1;
    input.close();
  });
  const queue = sender(client, outbox, mine, out);
  // Counted now: sending starts as soon as the client connects, before the greeting below.
  const waitingFromEarlier = outbox.items.length;
  client.on('connected', () => void queue.flush());

  await client.start();
  if (!client.directory.isLinked(client.officeId, office)) {
    client.stop();
    input.close();
    const known = client.directory.office(office) !== undefined;
    throw new UsageError(
      known
        ? `${client.officeId} is not linked to ${office} (NOT_LINKED)`
        : `unknown office ${office}: not in the directory (linked: ${client.directory.linkedOffices(client.officeId).join(', ') || 'none'})`,
    );
  }
  out(
    `chatting with ${office} as ${client.officeId}; your lines go out marked ${handlingText(handling)}; type a line and press Enter (/help for commands, Ctrl-D to leave)`,
    { event: 'ready', office, handling: handling ?? { code: 'H0' } },
  );
  if (waitingFromEarlier > 0)
    out(`${waitingFromEarlier} line(s) typed earlier are being sent`, {
      event: 'outbox',
      waiting: waitingFromEarlier,
    });
  void queue.flush();

  const commands = {
    client,
    office,
    outbox,
    seen,
    out,
    flush: () => void queue.flush(),
  };
  for await (const line of lines) {
    let text = line.trim();
    if (!text) continue;
    if (await runChatCommand(text, commands)) continue;
    if (text.startsWith('//')) text = text.slice(1);
    try {
      const item = await outbox.add(office, text);
      if (!client.isConnected)
        out(`  … queued: ${text.slice(0, 40)} (not connected; sent on reconnect)`, {
          event: 'queued',
          id: item.id,
        });
    } catch (error) {
      out(`could not queue: ${(error as Error).message}`, {
        event: 'error',
        message: (error as Error).message,
      });
    }
    void queue.flush();
  }
  await queue.flush();
  queue.stop();
  if (outbox.items.length > 0)
    out(
      `${outbox.items.length} line(s) not sent yet: kept in ${values.key}.outbox.json and sent by the next liaison chat`,
      { event: 'outbox', waiting: outbox.items.length },
    );
  // Give the last delivery states a moment before leaving.
  await new Promise((done) => setTimeout(done, 300));
  client.stop();
}
