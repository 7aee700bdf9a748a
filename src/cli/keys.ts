import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Role, Signed } from '../../protocol/v1/certificate.js';
import { type Country, HUB_OFFICE_ID, officeOfDevice } from '../../protocol/v1/primitives.js';
import { DeviceRevoked } from '../../protocol/v1/statement.js';
import { pinAuthority, publishAuthority, verifyCertificate } from '../crypto/certificate.js';
import { fingerprint } from '../crypto/keys.js';
import { fromBase64Url, fromUtf8, ready } from '../crypto/sodium.js';
import { signDirectoryHead, signStatement, verifyStatement } from '../crypto/statement.js';
import { generateDevKeySet, keySetPaths } from '../keystore/devset.js';
import {
  appendToDirectory,
  loadDirectory,
  setDirectoryHead,
  writeDirectoryFile,
} from '../keystore/directory-file.js';
import { enrollDevice } from '../keystore/enroll.js';
import { readJsonFile, writePublicFile } from '../keystore/files.js';
import {
  newSeed,
  readAuthorityKey,
  readDeviceKey,
  readPinnedAuthority,
  writeAuthorityKey,
} from '../keystore/keyfile.js';
import { type Print, UsageError } from './usage.js';

export const KEYS_USAGE = `liaison keys <command>

  authority --dir DIR [--name NAME]      create the authority key, its public pin and an empty directory
  office    --authority KEY --directory FILE --office ID --name NAME --bcp BCP
  issue     --authority KEY --directory FILE --device ID [--role device|hub|analyst] [--days N] --out KEYFILE
  rotate    --authority KEY --directory FILE --key KEYFILE --out NEWKEYFILE [--days N]
  link      --authority KEY --directory FILE OFFICE OFFICE [--remove]
  revoke    --authority KEY --directory FILE --device ID [--key-id KEYID] [--reason REASON]
            [--compromised-at ISO-TIME]   untrusted from then on (default: all time if compromised or lost)
  head      --authority KEY --directory FILE [--hours N]   sign how far the directory goes (default 24 h)
  inspect   FILE                         show a certificate, statement, key file or directory (no secrets)
  verify    FILE --root AUTHORITY.pub.json   verify a certificate or statement against the pinned root
  dev       [--dir keys/dev]             generate the development key set (sample offices, hub, analyst)

Each statement is the next entry of the directory log in --directory FILE, and is appended to it;
\`head\` signs the log's end into the file, for the gateway to serve until it expires.`;

const options = {
  authority: { type: 'string' },
  dir: { type: 'string' },
  name: { type: 'string' },
  office: { type: 'string' },
  bcp: { type: 'string' },
  device: { type: 'string' },
  role: { type: 'string' },
  days: { type: 'string' },
  out: { type: 'string' },
  key: { type: 'string' },
  'key-id': { type: 'string' },
  reason: { type: 'string' },
  remove: { type: 'boolean' },
  directory: { type: 'string' },
  hours: { type: 'string' },
  'compromised-at': { type: 'string' },
  root: { type: 'string' },
} as const;

// Re-exported for the commands that import it from here (src/cli/hub.ts).
export { UsageError };

const required = (value: string | undefined, flag: string): string => {
  if (!value) throw new UsageError(`missing --${flag}`);
  return value;
};

const countryOf = (officeId: string): Country =>
  (officeId === HUB_OFFICE_ID ? 'KZ' : officeId.slice(0, 2)) as Country;

const days = (value: string | undefined): number => {
  const n = Number(value ?? 365);
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new UsageError('--days must be 1..3650');
  return n;
};

/** Runs `liaison keys ...`. */
export async function keysCommand(argv: string[], print: Print): Promise<void> {
  await ready;
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, options, allowPositionals: true });
  // Statements are entries of one log: each names the one before it, so the authority signs
  // against its own directory file and appends to it.
  const logFile = () => required(values.directory, 'directory');
  const after = async () => (await loadDirectory(logFile())).head;
  const publish = async (statement: Signed) => {
    await appendToDirectory(logFile(), [statement]);
    print(`appended to ${logFile()}`);
  };
  const authority = () => readAuthorityKey(required(values.authority, 'authority'));

  switch (command) {
    case 'authority': {
      const dir = required(values.dir, 'dir');
      const paths = keySetPaths(dir);
      const keys = await writeAuthorityKey(
        paths.authorityKey,
        values.name ?? 'CARICC authority',
        await newSeed(),
      );
      const published = publishAuthority(keys, keys.name);
      await writePublicFile(paths.authorityPublic, `${JSON.stringify(published, null, 2)}\n`);
      await writeDirectoryFile(paths.directory, { v: 1, authority: published, statements: [] });
      print(`authority ${keys.keyId}: secret key ${paths.authorityKey} (0600)`);
      print(`pin this public key in every client: ${paths.authorityPublic}`);
      print(`fingerprint: ${fingerprint(keys.signingPublicKey)}`);
      return;
    }
    case 'office': {
      const officeId = required(values.office, 'office');
      const content = {
        officeId,
        country: countryOf(officeId),
        name: required(values.name, 'name'),
        bcp: required(values.bcp, 'bcp'),
      };
      const statement = await signStatement(await authority(), 'office.registered', content, {
        after: await after(),
      });
      return publish(statement);
    }
    case 'issue': {
      const deviceId = required(values.device, 'device');
      const role = Role.parse(values.role ?? 'device');
      const { keys, statement } = await enrollDevice(await authority(), {
        deviceId,
        country: countryOf(officeOfDevice(deviceId)),
        role,
        days: days(values.days),
        keyPath: required(values.out, 'out'),
        after: await after(),
      });
      print(`${deviceId} key ${keys.keyId} written to ${values.out} (0600)`);
      print(`fingerprint: ${fingerprint(keys.signingPublicKey, keys.encryptionPublicKey)}`);
      return publish(statement);
    }
    case 'rotate': {
      const current = await readDeviceKey(required(values.key, 'key'));
      const auth = await authority();
      const previous = verifyCertificate(
        current.certificate,
        await pinAuthority(publishAuthority(auth, auth.name)),
      );
      const { keys, statement } = await enrollDevice(auth, {
        deviceId: current.keys.deviceId,
        country: previous.country,
        role: previous.role,
        days: days(values.days),
        keyPath: required(values.out, 'out'),
        previousKeyId: current.keys.keyId,
        after: await after(),
      });
      print(`${keys.deviceId}: new key ${keys.keyId} replaces ${current.keys.keyId}`);
      return publish(statement);
    }
    case 'link': {
      const [a, b] = [...positionals].sort();
      if (!a || !b || positionals.length !== 2) throw new UsageError('link takes two office ids');
      const kind = values.remove ? 'link.removed' : 'link.created';
      const statement = await signStatement(
        await authority(),
        kind,
        { offices: [a, b] },
        { after: await after() },
      );
      return publish(statement);
    }
    case 'revoke': {
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
      const statement = await signStatement(await authority(), 'device.revoked', content, {
        after: await after(),
      });
      return publish(statement);
    }
    case 'head': {
      const hours = Number(values.hours ?? 24);
      if (!Number.isInteger(hours) || hours < 1 || hours > 24 * 90) {
        throw new UsageError('--hours must be 1..2160');
      }
      const now = Date.now();
      const head = await signDirectoryHead(await authority(), await after(), {
        issuedAt: now,
        expiresAt: now + hours * 3_600_000,
      });
      await setDirectoryHead(logFile(), head);
      return print(`signed the head of ${logFile()}, valid for ${hours} h`);
    }
    case 'inspect':
      return print(
        JSON.stringify(describe(await readJsonFile(required(positionals[0], 'FILE'))), null, 2),
      );
    case 'verify': {
      const file = await readJsonFile(required(positionals[0], 'FILE'));
      const root = await readPinnedAuthority(required(values.root, 'root'));
      const signed = Signed.parse(unwrap(file));
      const kind = JSON.parse(fromUtf8(fromBase64Url(signed.payload))).type;
      if (kind === 'liaison.certificate') {
        const cert = verifyCertificate(signed, root);
        print(
          `valid certificate of ${cert.deviceId} (${cert.role}), key ${cert.keyId}, signed by ${root.keyId}`,
        );
        print(
          `valid ${new Date(cert.notBefore).toISOString()} to ${new Date(cert.notAfter).toISOString()}`,
        );
      } else {
        const statement = verifyStatement(signed, root);
        print(`valid ${statement.kind} statement ${statement.id}, signed by ${root.keyId}`);
      }
      return;
    }
    case 'dev': {
      const dir = values.dir ?? join('keys', 'dev');
      const devices = await generateDevKeySet(dir);
      print(
        `development key set in ${dir}: ${devices.length} devices, directory ${keySetPaths(dir).directory}`,
      );
      return;
    }
    default:
      throw new UsageError(KEYS_USAGE);
  }
}

/** A key file holds its certificate; a statement may be given bare. */
function unwrap(file: unknown): unknown {
  if (file && typeof file === 'object' && 'certificate' in file && 'signingSeed' in file) {
    return (file as { certificate: unknown }).certificate;
  }
  return file;
}

/** What a file says, decoded, with secrets left out. */
function describe(file: unknown): unknown {
  if (!file || typeof file !== 'object') return file;
  const record = file as Record<string, unknown>;
  if ('signingSeed' in record) {
    const { signingSeed: _s, encryptionSeed: _e, certificate, ...rest } = record;
    return { ...rest, secrets: 'hidden', certificate: describe(certificate) };
  }
  if ('payload' in record && 'signature' in record) {
    const signed = Signed.parse(record);
    const content = JSON.parse(fromUtf8(fromBase64Url(signed.payload)));
    if (content.certificate) content.certificate = describe(content.certificate);
    return { signed: content, signature: signed.signature };
  }
  if (Array.isArray(record.statements)) {
    return { ...record, statements: record.statements.map(describe) };
  }
  return record;
}
