import { join } from 'node:path';
import {
  type AsyncAPIDocumentInterface,
  DiagnosticSeverity,
  fromFile,
  type MessageInterface,
  Parser,
} from '@asyncapi/parser';
import { beforeAll, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { ERROR_CODES } from '../../protocol/errors.js';
import { PUBLISHED_SCHEMAS, renderJsonSchemas } from '../../protocol/json-schema.js';
import { ANALYST_CLIENT_EVENTS, ANALYST_SERVER_EVENTS } from '../../protocol/v1/analyst.js';
import { CLIENT_EVENTS, HandshakeAuth, SERVER_EVENTS } from '../../protocol/v1/events.js';
import { loadConfig } from '../../src/gateway/config.js';
import { loadHubConfig } from '../../src/hub/config.js';

const file = join(import.meta.dirname, '..', '..', 'protocol', 'asyncapi.yaml');
const published = renderJsonSchemas();

/** The generated JSON Schema of a zod schema, as protocol/json-schema/ holds it. */
function generated(schema: z.ZodType): unknown {
  const name = Object.entries(PUBLISHED_SCHEMAS).find(([, s]) => s === schema)?.[0];
  if (!name) throw new Error('the schema is not published: add it to PUBLISHED_SCHEMAS');
  return JSON.parse(published[name] as string);
}

/** A schema as the parser resolved it, without the ids the parser adds. */
function resolved(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(resolved);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !key.startsWith('x-parser-'))
      .map(([key, v]) => [key, resolved(v)]),
  );
}

const packetOf = (message: MessageInterface) =>
  message.extensions().get('x-socketio-packet')?.value<string>();
const payloadOf = (message: MessageInterface | undefined) => resolved(message?.payload()?.json());

/** One channel's operations as Socket.IO sees them: packets, client events with acks, pushes. */
function socketApi(document: AsyncAPIDocumentInterface, channel: string) {
  const operations = document
    .operations()
    .all()
    .filter((op) => op.channels().all()[0]?.id() === channel);
  const only = (messages: MessageInterface[]) => {
    expect(messages).toHaveLength(1);
    return messages[0] as MessageInterface;
  };
  const handshakes = [];
  const clientEvents = new Map<string, { request: unknown; ack: unknown }>();
  const serverEvents = new Map<string, unknown>();
  const used = new Set<string>();
  for (const op of operations) {
    const message = only(op.messages().all());
    const replies = op.reply()?.messages().all() ?? [];
    for (const m of [message, ...replies]) used.add(m.id());
    if (op.reply()) expect(op.reply()?.channel()?.id(), op.id()).toBe(channel);
    if (packetOf(message) === 'CONNECT') {
      handshakes.push({ request: message, replies });
    } else if (op.isReceive()) {
      const name = message.name() as string;
      clientEvents.set(name, { request: payloadOf(message), ack: payloadOf(only(replies)) });
    } else {
      expect(op.reply(), op.id()).toBeUndefined();
      serverEvents.set(message.name() as string, payloadOf(message));
    }
  }
  const declared = document.channels().get(channel)?.messages().all() ?? [];
  return { handshakes, clientEvents, serverEvents, used, declared };
}

describe('the AsyncAPI document (protocol/asyncapi.yaml)', () => {
  let document: AsyncAPIDocumentInterface;

  beforeAll(async () => {
    const { document: parsed, diagnostics } = await fromFile(new Parser(), file).parse();
    const errors = diagnostics.filter((d) => d.severity === DiagnosticSeverity.Error);
    expect(errors.map((d) => `${d.path.join('.')}: ${d.message}`)).toEqual([]);
    if (!parsed) throw new Error('the document did not parse');
    document = parsed;
    // Parsing and resolving every $ref takes over 10 s on a busy two-core machine.
  }, 60_000);

  it('is valid AsyncAPI 3.0.0 (no error diagnostics, relative $refs resolved)', () => {
    expect(document.version()).toBe('3.0.0');
    expect(
      document
        .channels()
        .all()
        .map((c) => c.address()),
    ).toEqual(['/', '/analyst']);
  });

  for (const [channel, client, server] of [
    ['gateway', CLIENT_EVENTS, SERVER_EVENTS],
    ['analyst', ANALYST_CLIENT_EVENTS, ANALYST_SERVER_EVENTS],
  ] as const) {
    describe(`the ${channel} namespace`, () => {
      it('documents exactly the client events of the zod table, each ack as the reply', () => {
        const { clientEvents } = socketApi(document, channel);
        expect([...clientEvents.keys()].sort()).toEqual(Object.keys(client).sort());
        for (const [event, schemas] of Object.entries(client)) {
          const documented = clientEvents.get(event);
          expect(documented?.request, `${event} request`).toEqual(generated(schemas.request));
          expect(documented?.ack, `${event} ack`).toEqual(generated(schemas.ack));
        }
      });

      it('documents exactly the server events of the zod table', () => {
        const { serverEvents } = socketApi(document, channel);
        expect([...serverEvents.keys()].sort()).toEqual(Object.keys(server).sort());
        for (const [event, schema] of Object.entries(server)) {
          expect(serverEvents.get(event), event).toEqual(generated(schema));
        }
      });

      it('authenticates with HandshakeAuth; a refusal is a CONNECT_ERROR carrying a WireError', () => {
        const { handshakes } = socketApi(document, channel);
        expect(handshakes).toHaveLength(1);
        const [{ request, replies }] = handshakes as [(typeof handshakes)[number]];
        expect(payloadOf(request)).toEqual(generated(HandshakeAuth));
        expect(replies.map(packetOf)).toEqual(['CONNECT', 'CONNECT_ERROR']);
        const refusal = payloadOf(replies[1]) as { properties: { data: unknown } };
        expect(refusal.properties.data).toEqual(
          resolved(document.components().schemas().get('WireError')?.json()),
        );
      });

      it('declares no message that no operation uses', () => {
        const { declared, used } = socketApi(document, channel);
        expect(declared.map((m) => m.id()).sort()).toEqual([...used].sort());
      });
    });
  }

  it('lists exactly the error codes of protocol/errors.ts, on the wire shape of WireError', () => {
    const codes = resolved(document.components().schemas().get('ErrorCode')?.json()) as {
      enum: string[];
    };
    expect(codes.enum).toEqual(ERROR_CODES);
    const wireError = resolved(document.components().schemas().get('WireError')?.json()) as {
      allOf: unknown[];
    };
    const errorResponse = JSON.parse(published.ErrorResponse as string);
    expect(wireError.allOf[0]).toEqual(errorResponse.properties.error);
  });

  it('names the default ports of the gateway and the hub as its servers', () => {
    const gateway = loadConfig({});
    const hub = loadHubConfig({ REDIS_URL: 'redis://127.0.0.1:6379' });
    const servers = document.servers();
    expect(servers.get('gateway')?.host()).toBe(`localhost:${gateway.port}`);
    expect(servers.get('hub')?.host()).toBe(`localhost:${hub.port}`);
    for (const server of servers.all()) {
      expect(server.protocol()).toBe('ws');
      expect(server.pathname()).toBe('/socket.io/');
    }
    expect(document.channels().get('gateway')?.servers().all()[0]?.id()).toBe('gateway');
    expect(document.channels().get('analyst')?.servers().all()[0]?.id()).toBe('hub');
  });
});
