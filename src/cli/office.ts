import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { io } from 'socket.io-client';
import { Precedence } from '../../protocol/v1/envelope.js';
import { AlertCategory, AlertSubject } from '../../protocol/v1/payload.js';
import type { Message } from '../client/client.js';
import { pinAuthority } from '../crypto/certificate.js';
import { fingerprint } from '../crypto/keys.js';
import { createClientToken } from '../crypto/token.js';
import { readDeviceKey } from '../keystore/keyfile.js';
import { CLIENT_OPTIONS, clientFrom } from './client-options.js';
import { UsageError } from './keys.js';

type Print = (line: string) => void;

/** `liaison directory`: offices, links and key fingerprints, as verified against the pinned root. */
export async function directoryCommand(argv: string[], print: Print): Promise<void> {
  const { values } = parseArgs({ args: argv, options: CLIENT_OPTIONS });
  const client = await clientFrom(values);
  await client.refreshDirectory();
  const { directory } = client;
  const now = Date.now();
  const offices = directory.allOffices().map((office) => ({
    ...office,
    links: directory.linkedOffices(office.officeId),
    devices: directory.currentKeys([office.officeId], now).map((k) => {
      const cert = directory.usableKey(k.deviceId, k.keyId, now);
      return {
        deviceId: k.deviceId,
        keyId: k.keyId,
        fingerprint: fingerprint(cert.signingPublicKey, cert.encryptionPublicKey),
      };
    }),
  }));
  if (values.json) return print(JSON.stringify({ version: directory.version, offices }));
  print(
    `directory version ${directory.version}, verified against authority ${directory.authority.keyId}`,
  );
  for (const office of offices) {
    print(
      `\n${office.officeId}  ${office.name} (${office.bcp})${office.links.length ? `  linked to ${office.links.join(', ')}` : ''}`,
    );
    for (const d of office.devices) print(`  ${d.deviceId.padEnd(24)} ${d.fingerprint}`);
  }
}

/** `liaison alert <office> --category C --precedence P --title T [...]`: sends a structured alert. */
export async function alertCommand(argv: string[], print: Print): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...CLIENT_OPTIONS,
      category: { type: 'string', default: 'other' },
      precedence: { type: 'string', default: 'PRIORITY' },
      title: { type: 'string' },
      description: { type: 'string', default: '' },
      bcp: { type: 'string' },
      plate: { type: 'string', multiple: true },
      person: { type: 'string', multiple: true },
      hours: { type: 'string', default: '24' },
    },
  });
  const office = positionals[0];
  if (!office || !values.title)
    throw new UsageError(
      'liaison alert <office> --title TEXT [--category C] [--precedence P] [--bcp NAME] [--plate P]... --key DEVICE.key',
    );
  const subjects = [
    ...(values.plate ?? []).map((plate) => AlertSubject.parse({ kind: 'vehicle', plate })),
    ...(values.person ?? []).map((name) => AlertSubject.parse({ kind: 'person', name })),
  ];
  const client = await clientFrom(values);
  await client.start();
  try {
    const now = Date.now();
    const id = await client.sendAlert(office, {
      category: AlertCategory.parse(values.category),
      precedence: Precedence.parse(values.precedence),
      title: values.title,
      description: values.description,
      location: {
        bcp: values.bcp ?? client.directory.office(client.officeId)?.bcp ?? client.officeId,
      },
      subjects,
      validFrom: now,
      validUntil: now + Number(values.hours) * 3_600_000,
    });
    print(
      values.json
        ? JSON.stringify({ id, status: 'accepted' })
        : `alert ${id} accepted by the gateway`,
    );
  } finally {
    client.stop();
  }
}

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

/** `liaison hub tail`: an analyst's live view of the channel, with filters. */
export async function hubTailCommand(argv: string[], print: Print): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      key: { type: 'string', default: 'keys/dev/devices/CARICC/analyst-1.key' },
      hub: { type: 'string', default: 'http://127.0.0.1:8090' },
      audience: { type: 'string', default: 'liaison-hub' },
      authority: { type: 'string', default: 'keys/dev/authority.pub.json' },
      office: { type: 'string' },
      border: { type: 'string' },
      kind: { type: 'string' },
      precedence: { type: 'string' },
      after: { type: 'string', default: '0' },
      json: { type: 'boolean', default: false },
    },
  });
  await pinAuthority(JSON.parse(await readFile(values.authority, 'utf8')));
  const { keys } = await readDeviceKey(values.key);
  const filter = Object.fromEntries(
    (['office', 'border', 'kind', 'precedence'] as const)
      .filter((k) => values[k])
      .map((k) => [k, values[k]]),
  );
  const socket = io(`${values.hub}/analyst`, {
    transports: ['websocket'],
    auth: (cb) => {
      createClientToken(keys, { audience: values.audience }).then(
        (token) => cb({ token }),
        () => cb({}),
      );
    },
  });
  interface Entry {
    seq: number;
    from: string;
    to: string[];
    kind: string;
    precedence?: string;
    status: string;
    code?: string;
    body?: { text?: string; title?: string; alertId?: string; envelopeIds?: string[] };
  }
  const summary = ({ body, status, code }: Entry) => {
    if (status !== 'compliant') return `NON-COMPLIANT ${code}`;
    if (body?.alertId) return `acknowledges ${body.alertId}`;
    if (body?.envelopeIds) return `read ${body.envelopeIds.length} message(s)`;
    return body?.text ?? body?.title ?? '';
  };
  const show = (e: Entry) => {
    const route = `#${e.seq} ${e.from} → ${e.to.join(',')} ${e.kind}${e.precedence ? ` ${e.precedence}` : ''}`;
    print(values.json ? JSON.stringify(e) : `${route} ${summary(e)}`);
  };
  socket.on('record', show);
  socket.on('escalation', (e: { alertId: string; precedence: string; from: string }) =>
    print(
      values.json
        ? JSON.stringify({ escalation: e })
        : `ESCALATION ${e.precedence} alert ${e.alertId} from ${e.from}: not acknowledged in time`,
    ),
  );
  socket.on('connect', async () => {
    const page = await socket.emitWithAck('feed:subscribe', {
      after: Number(values.after),
      limit: 500,
      filter,
    });
    if (!page.ok) return print(`refused: ${page.error.message} (${page.error.code})`);
    for (const e of page.entries) show(e);
  });
  socket.on('connect_error', (error: Error & { data?: { code: string; message: string } }) => {
    if (error.data) {
      print(`hub refused the connection: ${error.data.message} (${error.data.code})`);
      socket.close();
      process.exitCode = 1;
    }
  });
  await new Promise((done) => socket.on('disconnect', done));
}
