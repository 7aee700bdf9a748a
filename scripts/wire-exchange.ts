// One exchange with a real gateway over raw WebSockets, speaking the Engine.IO 4 / Socket.IO 5 text
// packets by hand, with every frame recorded. Shared by scripts/wire-example.ts, which writes the
// frames into protocol/WIRE-EXAMPLE.md, and by the test that checks the document against a run.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeJwt } from 'jose';
import { pino } from 'pino';
import WebSocket from 'ws';
import { pinAuthority } from '../src/crypto/certificate.js';
import { generateDeviceKeys } from '../src/crypto/keys.js';
import { fromBase64Url } from '../src/crypto/sodium.js';
import { createClientToken } from '../src/crypto/token.js';
import { MemoryEngine } from '../src/engine/memory.js';
import { startGateway } from '../src/gateway/gateway.js';

export const SOCKET_PATH = '/socket.io/?EIO=4&transport=websocket';
/** The fixed token ids are the vector token's with a different last digit. */
const JTI = '00000000-0000-4000-8000-00000000';

/** One line of the transcript: a connection opened, a frame either way, or the server's close. */
export interface Frame {
  readonly who: string;
  readonly kind: 'open' | 'sent' | 'received' | 'closed';
  readonly text: string;
}

/** The frames of each step, by step name, in the order the steps ran. */
export type Transcript = Record<string, Frame[]>;

/** A WebSocket whose incoming text frames are read one at a time, in order. */
class RawSocket {
  private readonly frames: string[] = [];
  private readonly waiting: ((frame: string) => void)[] = [];
  readonly closed: Promise<void>;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data, binary) => {
      // A binary message (a Socket.IO attachment) is shown as `bin ` and its bytes in hex.
      const text = binary ? `bin ${Buffer.from(data as Buffer).toString('hex')}` : String(data);
      const reader = this.waiting.shift();
      if (reader) reader(text);
      else this.frames.push(text);
    });
    this.closed = new Promise((done) => ws.once('close', () => done()));
  }

  static open(url: string): Promise<RawSocket> {
    const socket = new RawSocket(new WebSocket(url));
    return new Promise((resolve, reject) => {
      socket.ws.once('open', () => resolve(socket));
      socket.ws.once('error', reject);
    });
  }

  send(text: string) {
    this.ws.send(text);
  }

  next(timeoutMs = 5_000): Promise<string> {
    const frame = this.frames.shift();
    if (frame !== undefined) return Promise.resolve(frame);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no frame came')), timeoutMs);
      this.waiting.push((text) => {
        clearTimeout(timer);
        resolve(text);
      });
    });
  }

  /** Frames that arrived and were not read. */
  unread(): readonly string[] {
    return this.frames;
  }

  close() {
    this.ws.close();
  }
}

const vectors = join(import.meta.dirname, '..', 'protocol', 'vectors');
// biome-ignore lint/suspicious/noExplicitAny: vectors are read as plain JSON, as an integrator would
const load = async (name: string): Promise<any> =>
  JSON.parse(await readFile(join(vectors, `${name}.json`), 'utf8'));

/** What the exchange is made of: the vector files and the devices' keys from their seeds. */
async function inputs() {
  const [keys, statements, token, chat] = await Promise.all(
    ['keys', 'statements', 'token', 'envelope-chat'].map(load),
  );
  const device = async (deviceId: string) => {
    const d = keys.devices.find((k: { deviceId: string }) => k.deviceId === deviceId);
    return generateDeviceKeys(deviceId, {
      signing: fromBase64Url(d.signingSeed),
      encryption: fromBase64Url(d.encryptionSeed),
    });
  };
  /** A token made like the vector token, for another device or with another `jti`. */
  const tokenOf = async (deviceId: string, jti: string): Promise<string> =>
    createClientToken(await device(deviceId), {
      audience: token.audience,
      issuedAt: decodeJwt(token.token).iat,
      lifetimeSeconds: 120,
      jti,
    });
  return { statements, token, envelope: chat.envelope, tokenOf };
}
type Inputs = Awaited<ReturnType<typeof inputs>>;

/**
 * Runs the exchange of WIRE-EXAMPLE.md against an in-process gateway (memory engine) loaded with
 * the vectors' directory, its clock held at the vector token's `verifyAt`, so that everything but
 * the random session ids is the same on every run. Those are shown as `<engine-sid>` and
 * `<socket-sid>`.
 */
export async function captureWireExchange(): Promise<Transcript> {
  const v = await inputs();
  const realNow = Date.now;
  Date.now = () => v.token.verifyAt;
  try {
    const gateway = await startGateway(
      {
        host: '127.0.0.1',
        port: 0,
        audience: v.token.audience,
        rateLimitPerMinute: 600,
        shutdownGraceMs: 0,
        bootstrap: v.statements.statements,
      },
      {
        engine: new MemoryEngine({ retentionMs: 60_000 }),
        authority: await pinAuthority(v.statements.authority),
        logger: pino({ level: 'silent' }),
      },
    );
    try {
      return await exchange(`${gateway.url.replace(/^http/, 'ws')}${SOCKET_PATH}`, v);
    } finally {
      await gateway.close();
    }
  } finally {
    Date.now = realNow;
  }
}

/** The steps, each a few frames; every frame sent or read is recorded in order. */
async function exchange(url: string, v: Inputs): Promise<Transcript> {
  const sockets = new Map<string, RawSocket>();
  const hidden = new Map<string, string>();
  const transcript: Transcript = {};
  let step: Frame[] = [];
  const record = (who: string, kind: Frame['kind'], text: string) => {
    let shown = text;
    for (const [secret, label] of hidden) shown = shown.replaceAll(secret, label);
    step.push({ who, kind, text: shown });
  };
  const socket = (who: string) => sockets.get(who) as RawSocket;

  const begin = (name: string) => {
    step = [];
    transcript[name] = step;
  };
  const open = async (who: string) => {
    sockets.set(who, await RawSocket.open(url));
    record(who, 'open', `GET ${SOCKET_PATH}`);
  };
  const send = (who: string, text: string) => {
    socket(who).send(text);
    record(who, 'sent', text);
  };
  const receive = async (who: string) => {
    const text = await socket(who).next();
    // Session ids are random: the open packet's and the namespace CONNECT's.
    const sid = /^(?:0|40)\{"sid":"([^"]+)"/.exec(text)?.[1];
    if (sid) hidden.set(sid, text.startsWith('0') ? '<engine-sid>' : '<socket-sid>');
    record(who, 'received', text);
    return text;
  };
  const connect = (token: string) => `40${JSON.stringify({ token })}`;
  const emit = (event: string, payload: unknown) => JSON.stringify([event, payload]);

  try {
    begin('connect');
    await open('kordai');
    await receive('kordai');
    send('kordai', connect(v.token.token));
    await receive('kordai');
    await receive('kordai');

    begin('second-office');
    await open('akzhol');
    await receive('akzhol');
    send('akzhol', connect(await v.tokenOf('KG-AKZHOL/desk-1', `${JTI}a002`)));
    await receive('akzhol');
    await receive('akzhol');
    await receive('kordai');

    begin('send');
    send('kordai', `420${emit('envelope:send', v.envelope)}`);
    await receive('kordai');
    const pushed = await receive('akzhol');

    begin('acknowledge');
    const { offset } = JSON.parse(pushed.slice(2))[1];
    send('akzhol', `420${emit('inbox:ack', { upTo: offset })}`);
    await receive('akzhol');
    await receive('kordai');

    begin('refused');
    send('akzhol', `421${emit('envelope:send', v.envelope)}`);
    await receive('akzhol');

    begin('leave');
    send('akzhol', '41');
    socket('akzhol').close();
    await receive('kordai');

    begin('second-session');
    await open('kordai-2');
    await receive('kordai-2');
    send('kordai-2', connect(v.token.token));
    await receive('kordai-2');
    send('kordai-2', connect(await v.tokenOf('KZ-KORDAI/desk-1', `${JTI}a003`)));
    await receive('kordai-2');
    await receive('kordai-2');

    begin('compact');
    await open('duty');
    await receive('duty');
    const dutyToken = await v.tokenOf('KG-AKZHOL/duty-1', `${JTI}a004`);
    send('duty', `40${JSON.stringify({ token: dutyToken, encoding: 'compact' })}`);
    await receive('duty');
    await receive('duty');
    await receive('duty');
    await receive('kordai');
    await receive('kordai-2');
    send('duty', `420${emit('inbox:fetch', { after: 0, limit: 10 })}`);
    await receive('duty');
    await receive('duty');

    // Nothing the transcript leaves out: no frame arrived that was not read.
    await new Promise((done) => setTimeout(done, 200));
    for (const [who, s] of sockets) {
      if (s.unread().length > 0) throw new Error(`${who} got frames not shown: ${s.unread()}`);
    }
    return transcript;
  } finally {
    for (const s of sockets.values()) s.close();
  }
}

const ARROWS: Record<Frame['kind'], string> = { open: '⇄', sent: '→', received: '←', closed: '✕' };

/** A step's frames as WIRE-EXAMPLE.md shows them: `who  → frame`, one per line. */
export function renderStep(frames: readonly Frame[]): string {
  const width = Math.max(...frames.map((f) => f.who.length));
  return frames.map((f) => `${f.who.padEnd(width)} ${ARROWS[f.kind]} ${f.text}`).join('\n');
}

/** A marked block: `<!-- wire: name -->`, then a fenced `text` block, line by line. */
const BLOCK = /(<!-- wire: ([\w-]+) -->\n```text\n)((?:.*\n)*?)(```)/g;

/** The frames shown after each `<!-- wire: name -->` marker in a markdown text, by name. */
export function wireBlocks(markdown: string): Map<string, string> {
  const blocks = new Map<string, string>();
  for (const m of markdown.matchAll(BLOCK)) blocks.set(m[2] as string, (m[3] as string).trimEnd());
  return blocks;
}

/** The markdown with each marked block replaced by the captured frames of its step. */
export function withWireBlocks(markdown: string, transcript: Transcript): string {
  return markdown.replace(
    BLOCK,
    (_all, open: string, name: string, _old: string, close: string) => {
      const frames = transcript[name];
      if (!frames) throw new Error(`no step named ${name} in the exchange`);
      return `${open}${renderStep(frames)}\n${close}`;
    },
  );
}
