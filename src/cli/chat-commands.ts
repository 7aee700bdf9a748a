import type { LiaisonClient, Message } from '../client/client.js';
import { isLiaisonError } from '../errors.js';
import { attachFiles, byteSize } from './attachments.js';
import { forwardable, forwardItem, officesFrom } from './forward.js';
import { CHAT_COMMANDS } from './help.js';
import type { Outbox } from './outbox.js';

// What `liaison chat` does with a line that starts with "/": forward an item the chat showed,
// permit the other office to forward one of ours, attach a file. Anything else is a chat line
// ("//" sends a line that starts with "/").

/** What the chat prints: a line for the operator, an object under --json. */
export type Out = (human: string, json: object) => void;

/** How many items the chat remembers for /forward (the oldest go first). */
const SEEN_LIMIT = 1_000;

/** The chat lines and alerts other offices sent that this chat showed, by envelope id. */
export class SeenItems {
  private readonly items = new Map<string, Message>();

  add(m: Message): void {
    if (!forwardable(m)) return;
    this.items.delete(m.id);
    this.items.set(m.id, m);
    if (this.items.size > SEEN_LIMIT) this.items.delete(this.items.keys().next().value as string);
  }

  get(id: string): Message | undefined {
    return this.items.get(id);
  }
}

export interface ChatContext {
  readonly client: LiaisonClient;
  /** The office this chat is with. */
  readonly office: string;
  readonly outbox: Outbox;
  readonly seen: SeenItems;
  readonly out: Out;
  /** Sends what the outbox holds, in order. */
  readonly flush: () => void;
}

/** `FILE rest…`, where FILE may be "quoted" (a path with spaces). */
function firstWord(text: string): [string, string] {
  const quoted = /^"([^"]+)"\s*(.*)$/s.exec(text);
  if (quoted) return [quoted[1] as string, (quoted[2] as string).trim()];
  const [word = '', ...rest] = text.split(/\s+/);
  return [word, rest.join(' ')];
}

/**
 * Runs a chat command; false when the line is not one (it is then sent as typed, `//` unescaped
 * by the caller). A refusal is printed with its code and the chat goes on.
 */
export async function runChatCommand(line: string, ctx: ChatContext): Promise<boolean> {
  if (!line.startsWith('/') || line.startsWith('//')) return false;
  const match = /^\/(\S+)\s*(.*)$/s.exec(line);
  const name = match?.[1] ?? '';
  const args = match?.[2] ?? '';
  const { out } = ctx;
  try {
    if (name === 'help') out(CHAT_COMMANDS, { event: 'help', text: CHAT_COMMANDS });
    else if (name === 'forward') await forward(args, ctx);
    else if (name === 'permit') await permit(args, ctx);
    else if (name === 'attach') await attach(args, ctx);
    else
      out(`unknown command /${name}; /help lists them (//${name} sends it as a line)`, {
        event: 'error',
        command: name,
        code: 'USAGE',
        message: `unknown command /${name}`,
      });
  } catch (error) {
    const message = (error as Error).message;
    const code = isLiaisonError(error) ? error.code : 'USAGE';
    out(`could not ${name}: ${message} (${code})`, {
      event: 'error',
      command: name,
      code,
      message,
      ...(isLiaisonError(error) && error.details ? { details: error.details } : {}),
    });
  }
  return true;
}

async function forward(args: string, ctx: ChatContext): Promise<void> {
  const [id, to] = args.split(/\s+/);
  if (!id || !to) throw new Error('/forward ID OFFICE');
  const item = ctx.seen.get(id);
  if (!item) throw new Error(`${id}: no chat line or alert with that id was shown in this chat`);
  const [office] = officesFrom([to], '/forward OFFICE') as [string];
  const sent = await forwardItem(ctx.client, item, office);
  ctx.out(`  ✓ forwarded ${id} to ${office} (${sent})`, {
    event: 'forwarded',
    id: sent,
    forwarded: id,
    to: office,
  });
}

async function permit(args: string, ctx: ChatContext): Promise<void> {
  const [id, to] = args.split(/\s+/);
  if (!id || !to) throw new Error('/permit ID OFFICE[,OFFICE]');
  const offices = officesFrom([to], '/permit OFFICE');
  const sent = await ctx.client.permitForward(ctx.office, id, offices);
  ctx.out(`  ✓ permitted ${ctx.office} to forward ${id} to ${offices.join(', ')}`, {
    event: 'permitted',
    id: sent,
    permitted: id,
    holder: ctx.office,
    to: offices,
  });
}

/** Uploads first (it needs the connection), then queues the line that carries the file. */
async function attach(args: string, ctx: ChatContext): Promise<void> {
  const [file, text] = firstWord(args.trim());
  if (!file) throw new Error('/attach FILE [TEXT]');
  ctx.out(`  … encrypting and uploading ${file}`, { event: 'uploading', file });
  const [ref] = await attachFiles(ctx.client, [file]);
  if (!ref) return;
  const item = await ctx.outbox.add(ctx.office, text || ref.name, [ref]);
  ctx.out(`  attached ${ref.name} (${byteSize(ref.size)}), sending`, {
    event: 'attached',
    id: item.id,
    name: ref.name,
    size: ref.size,
  });
  ctx.flush();
}
