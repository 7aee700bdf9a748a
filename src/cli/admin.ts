import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ERRORS, type ErrorCode } from '../../protocol/errors.js';
import type { Signed } from '../../protocol/v1/certificate.js';
import { type Country, HUB_OFFICE_ID } from '../../protocol/v1/primitives.js';
import { DeviceRevoked } from '../../protocol/v1/statement.js';
import { fingerprint } from '../crypto/keys.js';
import { ready } from '../crypto/sodium.js';
import { signDirectoryHead, signStatement } from '../crypto/statement.js';
import { LiaisonError } from '../errors.js';
import {
  appendToDirectory,
  DirectoryFile,
  loadDirectory,
  setDirectoryHead,
} from '../keystore/directory-file.js';
import { certifyDevice } from '../keystore/enroll.js';
import { verifyEnrolmentRequest } from '../keystore/enrolment-request.js';
import { readJsonFile } from '../keystore/files.js';
import { dropKeys, readAuthorityKey } from '../keystore/keyfile.js';
import { PASSPHRASE_OPTIONS, passphraseSource } from './key-protection.js';
import { type Print, UsageError } from './usage.js';

export const ADMIN_USAGE = `liaison admin <command>      (CARICC's authority; its key file is sealed: PROTOCOL.md §5.4)

  office   --authority KEY --directory FILE --office ID --name NAME --bcp BCP
  approve  --authority KEY --directory FILE --request REQUEST.json --out APPROVAL.json
           [--days N] [--rotate]   certify a device's own keys (liaison keys request); --days caps
           the validity asked for (default 365); --rotate replaces the device's current key
  link     --authority KEY --directory FILE OFFICE OFFICE [--remove]
  revoke   --authority KEY --directory FILE --device ID [--key-id KEYID] [--reason REASON]
           [--compromised-at ISO-TIME]   untrusted from then on (default: all time if compromised or lost)
  head     --authority KEY --directory FILE [--hours N]   sign how far the directory goes (default 24 h)
  publish  --directory FILE --gateway URL   post the statements and head the gateway lacks

The authority key's passphrase is asked at the terminal, or read from --passphrase-env NAME or
--passphrase-fd N. Each statement is the next entry of the directory log in --directory FILE and is
appended to it; \`publish\` then hands the new entries to a gateway (each is signed by the authority,
which is what the gateway checks).`;

const options = {
  authority: { type: 'string' },
  directory: { type: 'string' },
  office: { type: 'string' },
  name: { type: 'string' },
  bcp: { type: 'string' },
  request: { type: 'string' },
  out: { type: 'string' },
  days: { type: 'string' },
  rotate: { type: 'boolean' },
  remove: { type: 'boolean' },
  device: { type: 'string' },
  'key-id': { type: 'string' },
  reason: { type: 'string' },
  'compromised-at': { type: 'string' },
  hours: { type: 'string' },
  gateway: { type: 'string' },
  ...PASSPHRASE_OPTIONS,
  // The spelling `keys issue|rotate` use, where --passphrase-… is the device key's.
  'authority-passphrase-env': { type: 'string' },
  'authority-passphrase-fd': { type: 'string' },
} as const;

export const required = (value: string | undefined, flag: string): string => {
  if (!value) throw new UsageError(`missing --${flag}`);
  return value;
};

export const daysFlag = (value: string | undefined): number => {
  const n = Number(value ?? 365);
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new UsageError('--days must be 1..3650');
  return n;
};

/** Runs `liaison admin ...` (also reached as `liaison keys office|link|revoke|head`). */
export async function adminCommand(argv: string[], print: Print): Promise<void> {
  await ready;
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, options, allowPositionals: true });
  if (command === 'publish') {
    return publish(
      required(values.directory, 'directory'),
      required(values.gateway, 'gateway'),
      print,
    );
  }
  const sign = command && Object.hasOwn(SIGNERS, command) ? SIGNERS[command] : undefined;
  if (!sign) throw new UsageError(ADMIN_USAGE);
  const logFile = required(values.directory, 'directory');
  const directory = await loadDirectory(logFile);
  const authority = await readAuthorityKey(
    required(values.authority, 'authority'),
    values['authority-passphrase-env'] || values['authority-passphrase-fd']
      ? passphraseSource(values, 'authority-')
      : passphraseSource(values),
  );
  try {
    const signed = await sign({ values, positionals, directory, authority, print });
    if ('head' in signed) {
      await setDirectoryHead(logFile, signed.head);
      print(`signed the head of ${logFile}`);
    } else {
      await appendToDirectory(logFile, [signed.statement]);
      print(`appended to ${logFile}`);
      await signed.afterAppend?.();
    }
  } finally {
    dropKeys(authority);
  }
}

interface SignContext {
  values: ReturnType<
    typeof parseArgs<{ options: typeof options; allowPositionals: true }>
  >['values'];
  positionals: string[];
  directory: Awaited<ReturnType<typeof loadDirectory>>;
  authority: Awaited<ReturnType<typeof readAuthorityKey>>;
  print: Print;
}

/** A statement to append (then `afterAppend`, once it is in the log), or a head to set. */
type Signer = (
  context: SignContext,
) => Promise<{ statement: Signed; afterAppend?: () => Promise<void> } | { head: Signed }>;

/** The country of an office, from its id (CARICC sits in Kazakhstan). */
export const countryOf = (officeId: string): Country =>
  (officeId === HUB_OFFICE_ID ? 'KZ' : officeId.slice(0, 2)) as Country;

const SIGNERS: Record<string, Signer> = {
  async office({ values, directory, authority }) {
    const officeId = required(values.office, 'office');
    const content = {
      officeId,
      country: countryOf(officeId),
      name: required(values.name, 'name'),
      bcp: required(values.bcp, 'bcp'),
    };
    const after = directory.head;
    return { statement: await signStatement(authority, 'office.registered', content, { after }) };
  },

  async approve({ values, directory, authority, print }) {
    const out = required(values.out, 'out');
    const request = verifyEnrolmentRequest(await readJsonFile(required(values.request, 'request')));
    const office = directory.office(request.officeId);
    if (!office) {
      throw new LiaisonError(
        'STATEMENT_CONFLICT',
        `${request.officeId} is not a registered office`,
      );
    }
    const current = directory.currentKeyIdOf(request.deviceId);
    if (current !== undefined && !values.rotate) {
      throw new UsageError(
        `${request.deviceId} is enrolled already (key ${current}): --rotate replaces its key`,
      );
    }
    if (current === undefined && values.rotate) {
      throw new UsageError(`${request.deviceId} is not enrolled: nothing to rotate`);
    }
    const days = Math.min(request.validityDays, daysFlag(values.days));
    const { certificate, statement } = await certifyDevice(authority, {
      deviceId: request.deviceId,
      country: office.country as Country,
      role: request.role,
      signingPublicKey: request.signingPublicKey,
      encryptionPublicKey: request.encryptionPublicKey,
      days,
      ...(current !== undefined ? { previousKeyId: current } : {}),
      after: directory.head,
    });
    const approval = { v: 1, type: 'liaison.enrolment-approval', certificate, statement };
    print(`approved ${request.deviceId} (${request.role}), key ${request.keyId}, ${days} days`);
    print(
      `safety number (compare with the device's, out of band): ${fingerprint(request.signingPublicKey, request.encryptionPublicKey)}`,
    );
    // Written once the statement is in the log, so no approval exists that the log lacks.
    const afterAppend = async () => {
      await writeFile(out, `${JSON.stringify(approval, null, 2)}\n`, { flag: 'wx' });
      print(`certificate and statement written to ${out}`);
    };
    return { statement, afterAppend };
  },

  async link({ values, positionals, directory, authority }) {
    const [a, b] = [...positionals].sort();
    if (!a || !b || positionals.length !== 2) throw new UsageError('link takes two office ids');
    const kind = values.remove ? 'link.removed' : 'link.created';
    const content = { offices: [a, b] as [string, string] };
    return { statement: await signStatement(authority, kind, content, { after: directory.head }) };
  },

  async revoke({ values, directory, authority }) {
    const keyId = values['key-id'];
    const reason = DeviceRevoked.shape.reason.parse(values.reason ?? 'compromised');
    const since = values['compromised-at'];
    const compromisedAt = since === undefined ? undefined : Date.parse(since);
    if (compromisedAt !== undefined && !Number.isFinite(compromisedAt)) {
      throw new UsageError('--compromised-at takes a time such as 2026-12-01T08:00Z');
    }
    const content = {
      deviceId: required(values.device, 'device'),
      reason,
      ...(keyId ? { keyId } : {}),
      ...(compromisedAt === undefined ? {} : { compromisedAt }),
    };
    const after = directory.head;
    return { statement: await signStatement(authority, 'device.revoked', content, { after }) };
  },

  async head({ values, directory, authority }) {
    const hours = Number(values.hours ?? 24);
    if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 90) {
      throw new UsageError('--hours must be 1..2160');
    }
    const now = Date.now();
    const head = await signDirectoryHead(authority, directory.head, {
      issuedAt: now,
      expiresAt: now + hours * 3_600_000,
    });
    return { head };
  },
};

/** At most this many statements per POST (protocol/v1/http.ts SubmitStatementsRequest). */
const STATEMENTS_PER_POST = 100;

/**
 * Hands a gateway the entries of the authority's log it lacks, then the head. Refuses when the
 * gateway's log is not a prefix of the file's: that is a fork or another authority's directory.
 */
async function publish(logFile: string, gateway: string, print: Print): Promise<void> {
  const file = DirectoryFile.parse(await readJsonFile(logFile));
  await loadDirectory(logFile);
  const served = (await call(gateway, 'GET', '/v1/directory?after=0')) as {
    authority: string;
    version: number;
    statements: { version: number; statement: Signed }[];
  };
  if (served.authority !== file.authority.keyId) {
    throw new UsageError(`${gateway} serves another authority's directory (${served.authority})`);
  }
  if (served.version > file.statements.length) {
    throw new UsageError(
      `${gateway} holds ${served.version} statements, ${logFile} only ${file.statements.length}: publish from the newest copy of the log`,
    );
  }
  served.statements.forEach(({ statement }, i) => {
    const mine = file.statements[i];
    if (mine?.payload !== statement.payload || mine.signature !== statement.signature) {
      throw new LiaisonError('DIRECTORY_FORK', `statement ${i + 1} differs on ${gateway}`);
    }
  });
  const missing = file.statements.slice(served.version);
  let version = served.version;
  for (let i = 0; i < missing.length; i += STATEMENTS_PER_POST) {
    const statements = missing.slice(i, i + STATEMENTS_PER_POST);
    ({ version } = (await call(gateway, 'POST', '/v1/directory/statements', {
      statements,
    })) as { version: number });
  }
  print(`published ${missing.length} statements to ${gateway}: directory version ${version}`);
  if (file.head) {
    await call(gateway, 'POST', '/v1/directory/head', { head: file.head });
    print(`published the head of ${logFile}`);
  }
}

async function call(gateway: string, method: string, path: string, body?: object) {
  const response = await fetch(new URL(path, gateway), {
    method,
    ...(body
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {}),
    signal: AbortSignal.timeout(30_000),
  });
  const json = (await response.json().catch(() => ({}))) as {
    error?: { code?: string; message?: string };
  };
  if (!response.ok) {
    const code = json.error?.code;
    if (code && code in ERRORS) throw new LiaisonError(code as ErrorCode, json.error?.message);
    throw new Error(`${method} ${path} on ${gateway}: HTTP ${response.status}`);
  }
  return json;
}
