import { parseArgs } from 'node:util';
import { OfficeId } from '../../protocol/v1/primitives.js';
import type { LiaisonClient, Message } from '../client/client.js';
import type { Forwardable } from '../client/forwarding.js';
import { isLiaisonError, LiaisonError } from '../errors.js';
import { CLIENT_OPTIONS, clientFrom } from './client-options.js';
import { describeRefusal } from './show.js';
import { type Print, UsageError } from './usage.js';

// Forwarding from the command line (PROTOCOL.md §8.1): `liaison forward` passes a received item on
// to another linked office, `liaison permit` lets the office holding one of this office's items
// pass it on; `liaison chat` offers the same as /forward and /permit (chat-commands.ts).

/** Office ids from `A,B` or repeated flags, each checked; a usage error names the bad one. */
export function officesFrom(values: readonly string[], flag: string): string[] {
  const offices = values.flatMap((v) => v.split(',')).map((o) => o.trim());
  const bad = offices.find((o) => !OfficeId.safeParse(o).success);
  if (offices.length === 0 || offices.length > 8 || bad !== undefined)
    throw new UsageError(
      `${flag}: expected 1 to 8 office ids like UZ-OYBEK${bad !== undefined ? ` (not ${JSON.stringify(bad)})` : ''}`,
    );
  return [...new Set(offices)];
}

/**
 * Forwards a received item to `to`; an H2 item its provider did not permit there is refused with
 * FORWARD_NOT_PERMITTED, saying whose permission it needs and how they give it.
 */
export async function forwardItem(
  client: LiaisonClient,
  item: Forwardable,
  to: string,
): Promise<string> {
  try {
    return await client.forward(item, to);
  } catch (error) {
    if (!isLiaisonError(error, 'FORWARD_NOT_PERMITTED')) throw error;
    const { envelopeId, provider } = error.details as { envelopeId: string; provider: string };
    throw new LiaisonError(
      'FORWARD_NOT_PERMITTED',
      `${envelopeId} is marked H2 by ${provider}: it goes to ${to} only with ${provider}'s permission (they give it with liaison permit ${envelopeId} --holder ${client.officeId} --to ${to}, or /permit in their chat)`,
      error.details,
    );
  }
}

/** Whether an item can be forwarded at all: a chat line or an alert someone else sent. */
export const forwardable = (m: Message): boolean =>
  !m.copy && (m.body.type === 'chat' || m.body.type === 'alert');

/** `liaison forward ENVELOPE_ID --to OFFICE`: passes an item waiting in the inbox on. */
export async function forwardCommand(argv: string[], print: Print): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...CLIENT_OPTIONS, to: { type: 'string' } },
  });
  const id = positionals[0];
  if (!id || !values.to)
    throw new UsageError('liaison forward ENVELOPE_ID --to OFFICE --key DEVICE.key');
  const [to] = officesFrom([values.to], '--to') as [string];
  // Only looks: the item stays in the inbox (and the permission lines with it).
  const client = await clientFrom(values, false);
  const waiting = new Map<string, Message>();
  client.on('message', (m) => {
    if (forwardable(m)) waiting.set(m.id, m);
  });
  client.on('problem', (p) =>
    print(values.json ? JSON.stringify({ event: 'problem', ...p }) : describeRefusal(p)),
  );
  await client.start();
  try {
    const item = waiting.get(id);
    if (!item)
      throw new UsageError(
        `${id}: no chat line or alert with that id waits in this device's inbox (liaison inbox lists them; in liaison chat use /forward)`,
      );
    const sent = await forwardItem(client, item, to);
    print(
      values.json
        ? JSON.stringify({ forwarded: id, to, id: sent, status: 'accepted' })
        : `forwarded ${id} to ${to} as ${sent}: accepted by the gateway`,
    );
  } finally {
    client.stop();
  }
}

/** `liaison permit ENVELOPE_ID --holder OFFICE --to OFFICE[,OFFICE]`: permits passing one on. */
export async function permitCommand(argv: string[], print: Print): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CLIENT_OPTIONS,
      holder: { type: 'string' },
      to: { type: 'string', multiple: true },
    },
  });
  const id = positionals[0];
  if (!id || !values.holder || !values.to)
    throw new UsageError(
      'liaison permit ENVELOPE_ID --holder OFFICE --to OFFICE[,OFFICE] --key DEVICE.key',
    );
  const [holder] = officesFrom([values.holder], '--holder') as [string];
  const to = officesFrom(values.to, '--to');
  const client = await clientFrom(values, false);
  await client.start();
  try {
    const sent = await client.permitForward(holder, id, to);
    print(
      values.json
        ? JSON.stringify({ permitted: id, holder, to, id: sent, status: 'accepted' })
        : `permitted ${holder} to forward ${id} to ${to.join(', ')} (chat line ${sent}, accepted)`,
    );
  } finally {
    client.stop();
  }
}
