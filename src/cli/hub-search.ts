import { parseArgs } from 'node:util';
import { AnalystClient, HUB_AUDIENCE } from '../client/analyst.js';
import { createClientToken } from '../crypto/token.js';
import { readDeviceKey, readPinnedAuthority } from '../keystore/keyfile.js';
import { passphraseSource } from './key-protection.js';
import { describeEntry } from './show.js';
import { type Print, UsageError } from './usage.js';

const ANALYST = {
  key: { type: 'string', default: 'keys/dev/devices/CARICC/analyst-1.key' },
  hub: { type: 'string', default: 'http://127.0.0.1:8090' },
  audience: { type: 'string', default: HUB_AUDIENCE },
  authority: { type: 'string', default: 'keys/dev/authority.pub.json' },
  json: { type: 'boolean', default: false },
} as const;

const whole = (flag: string, value: string | undefined, min: number, max: number) => {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${flag}: expected a whole number, ${min}..${max}`);
  return n;
};

/**
 * `liaison hub search [filters]`: the record's entries that match, a page at a time (GET
 * /v1/record with a fresh analyst token); `--after` continues where the last page ended.
 */
export async function hubSearchCommand(argv: string[], print: Print): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...ANALYST,
      office: { type: 'string' },
      link: { type: 'string' },
      border: { type: 'string' },
      kind: { type: 'string' },
      precedence: { type: 'string' },
      case: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      after: { type: 'string' },
      limit: { type: 'string', default: '50' },
      'archive-key': { type: 'string' },
      'archive-passphrase-env': { type: 'string' },
      'archive-passphrase-fd': { type: 'string' },
      gateway: { type: 'string', default: 'http://127.0.0.1:8080' },
    },
  });
  const analyst = new AnalystClient({
    url: values.hub,
    audience: values.audience,
    keys: (await readDeviceKey(values.key)).keys,
    authority: await readPinnedAuthority(values.authority),
  });
  // The hub judges the filter (VALIDATION_FAILED), so the CLI and the hub never disagree.
  const filter = Object.fromEntries(
    (['office', 'link', 'border', 'kind', 'precedence', 'case', 'since', 'until'] as const)
      .filter((k) => values[k] !== undefined)
      .map((k) => [k, values[k]]),
  );
  const after = whole('after', values.after, 0, Number.MAX_SAFE_INTEGER);
  const limit = whole('limit', values.limit, 1, 500);
  const page = await analyst.searchRecord(filter, {
    ...(after === undefined ? {} : { after }),
    ...(limit === undefined ? {} : { limit }),
  });
  // On CARICC's archive workstation: entries past the hub's window opened with the archive key.
  const archiveFile = values['archive-key'];
  if (archiveFile) {
    const { keys } = await readDeviceKey(archiveFile, passphraseSource(values, 'archive-'));
    await analyst.refreshDirectory(values.gateway);
    for (const [i, entry] of page.entries.entries()) {
      if (!entry.archived) continue;
      const body = await analyst.openArchived(entry, keys).catch((error: Error) => {
        print(
          `#${entry.seq}: the archive key does not open it (${(error as { code?: string }).code ?? error.message})`,
        );
        return undefined;
      });
      if (body) page.entries[i] = { ...entry, body };
    }
  }
  if (values.json) {
    print(JSON.stringify(page));
    return;
  }
  for (const entry of page.entries) print(describeEntry(entry));
  if (page.entries.length === 0) print('no matching entries');
  if (page.more) print(`more: liaison hub search … --after ${page.next}`);
}

/**
 * `liaison hub token`: a fresh single-use analyst token for the hub's HTTP API, e.g.
 * `curl -H "Authorization: Bearer $(liaison hub token)" http://127.0.0.1:8090/v1/stats`.
 */
export async function hubTokenCommand(argv: string[], print: Print): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      key: ANALYST.key,
      audience: ANALYST.audience,
      json: ANALYST.json,
      lifetime: { type: 'string', default: '60' },
    },
  });
  const lifetimeSeconds = whole('lifetime', values.lifetime, 1, 300) as number;
  const { keys } = await readDeviceKey(values.key);
  const token = await createClientToken(keys, { audience: values.audience, lifetimeSeconds });
  print(values.json ? JSON.stringify({ token, lifetimeSeconds }) : token);
}
