import { parseArgs } from 'node:util';
import { AnalystClient, type Escalation, HUB_AUDIENCE } from '../client/analyst.js';
import { isLiaisonError, type LiaisonError } from '../errors.js';
import { readDeviceKey, readPinnedAuthority } from '../keystore/keyfile.js';
import { PASSPHRASE_OPTIONS, passphraseSource } from './key-protection.js';
import { describeEntry } from './show.js';
import { type Print, UsageError } from './usage.js';

const overdue = (e: Escalation) =>
  `ESCALATION ${e.precedence} alert ${e.alertId} from ${e.from}: not acknowledged in time`;

const refusal = (error: LiaisonError) =>
  `hub refused the connection: ${error.message} (${error.code})`;

/**
 * `liaison hub tail`: an analyst's live view of the channel, with filters. Runs until it is
 * interrupted (Ctrl-C) or the hub refuses it (exit 1): it refreshes its token, reconnects by itself
 * after a lost connection or a closed session, and replays the escalations made while away.
 */
export async function hubTailCommand(argv: string[], print: Print): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      key: { type: 'string', default: 'keys/dev/devices/CARICC/analyst-1.key' },
      hub: { type: 'string', default: 'http://127.0.0.1:8090' },
      audience: { type: 'string', default: HUB_AUDIENCE },
      authority: { type: 'string', default: 'keys/dev/authority.pub.json' },
      // Optional: a gateway whose directory is then verified against the pinned authority.
      gateway: { type: 'string' },
      office: { type: 'string' },
      border: { type: 'string' },
      kind: { type: 'string' },
      precedence: { type: 'string' },
      after: { type: 'string', default: '0' },
      'token-lifetime': { type: 'string', default: '60' },
      json: { type: 'boolean', default: false },
      ...PASSPHRASE_OPTIONS,
    },
  });
  const lifetime = Number(values['token-lifetime']);
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 300)
    throw new UsageError('--token-lifetime: expected whole seconds, 1..300 (default 60)');
  const after = Number(values.after);
  if (!Number.isInteger(after) || after < 0)
    throw new UsageError('--after: expected a record position (seq), 0 or more');
  const authority = await readPinnedAuthority(values.authority);
  const { keys } = await readDeviceKey(values.key, passphraseSource(values));
  // The hub judges the filter (VALIDATION_FAILED) so that the CLI and the hub never disagree.
  const filter = Object.fromEntries(
    (['office', 'border', 'kind', 'precedence'] as const)
      .filter((k) => values[k])
      .map((k) => [k, values[k]]),
  );
  const analyst = new AnalystClient({
    url: values.hub,
    audience: values.audience,
    keys,
    authority,
    filter,
    after,
    tokenLifetimeSeconds: lifetime,
  });
  analyst.on('record', (e) => print(values.json ? JSON.stringify(e) : describeEntry(e)));
  analyst.on('escalation', (e) =>
    print(values.json ? JSON.stringify({ escalation: e }) : overdue(e)),
  );
  analyst.on('problem', (p) => print(`problem: ${p.message} (${p.code})`));
  // The connection's state goes to stderr under --json, so stdout stays one entry a line.
  const state = (line: string) => (values.json ? process.stderr.write(`${line}\n`) : print(line));
  let connected = false;
  let up = false;
  analyst.on('connected', () => {
    if (connected && !up) state(`reconnected to the hub at ${values.hub}`);
    connected = true;
    up = true;
  });
  analyst.on('disconnected', ({ reason }) => {
    if (!up || reason === 'io client disconnect') return;
    up = false;
    state(`connection to the hub lost (${reason}); reconnecting`);
  });
  analyst.on('closing', ({ code }) => state(`the hub is closing this session (${code})`));
  const closed = new Promise<LiaisonError | undefined>((done) =>
    analyst.on('closed', ({ error }) => done(error)),
  );
  // A directory the pinned root did not sign stops here, before the hub is asked anything.
  if (values.gateway) await analyst.refreshDirectory(values.gateway);
  try {
    await analyst.start();
  } catch (error) {
    if (!isLiaisonError(error)) throw error;
    // Connected, then refused: the subscription (e.g. a filter the hub cannot use).
    print(connected ? `refused: ${error.message} (${error.code})` : refusal(error));
    process.exitCode = 1;
    return;
  }
  const error = await closed;
  if (error) {
    print(refusal(error));
    process.exitCode = 1;
  }
}
