import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Role, Signed } from '../../protocol/v1/certificate.js';
import type { ArchiveKeyFile } from '../../protocol/v1/prekey.js';
import { DeviceId, officeOfDevice } from '../../protocol/v1/primitives.js';
import { publishAuthority, verifyCertificate } from '../crypto/certificate.js';
import { fingerprint, generateDeviceKeys } from '../crypto/keys.js';
import { fromBase64Url, fromUtf8, ready, toBase64Url } from '../crypto/sodium.js';
import { verifyStatement } from '../crypto/statement.js';
import { generateDevKeySet, keySetPaths } from '../keystore/devset.js';
import {
  appendToDirectory,
  loadDirectory,
  writeDirectoryFile,
} from '../keystore/directory-file.js';
import { enrollDevice } from '../keystore/enroll.js';
import { makeEnrolmentRequest } from '../keystore/enrolment-request.js';
import { readJsonFile, writePublicFile } from '../keystore/files.js';
import {
  dropKeys,
  newSeed,
  readAuthorityKey,
  readDeviceKey,
  readPinnedAuthority,
  writeAuthorityKey,
  writeDeviceKey,
} from '../keystore/keyfile.js';
import { adminCommand, countryOf, daysFlag, required } from './admin.js';
import {
  KEY_PROTECTION_USAGE,
  NEW_KEY_OPTIONS,
  passphraseSource,
  protectionFrom,
} from './key-protection.js';
import { type Print, UsageError } from './usage.js';

/** The id an archive key file carries: it is a key pair of CARICC's, never enrolled. */
const ARCHIVE_KEY_ID = 'CARICC/archive';

/** `keys office|link|revoke|head` predate `liaison admin`; they run the same code. */
const ADMIN_ALIASES = new Set(['office', 'link', 'revoke', 'head']);

export const KEYS_USAGE = `liaison keys <command>

  authority --dir DIR [--name NAME]      create the authority key (sealed), its public pin and an empty directory
  request   --device ID --out KEYFILE --request-out REQUEST.json [--role device|hub|analyst] [--days N]
            on the device: make its own keys (sealed in KEYFILE) and a signed enrolment request
            for CARICC to approve (liaison admin approve); the private keys never leave the device
  issue     --authority KEY --directory FILE --device ID [--role R] [--days N] --out KEYFILE
  rotate    --authority KEY --directory FILE --key KEYFILE --out NEWKEYFILE [--days N]
            shortcuts where the authority makes the device's keys itself (it then holds them):
            development and testing; production devices use request + admin approve
  archive   --out KEYFILE --public-out ARCHIVE.pub.json
            CARICC's archive key: the hub seals its retired prekeys to the public file
            (HUB_ARCHIVE_PUBLIC_KEY_FILE); keep KEYFILE on the offline archive workstation
  office | link | revoke | head ...      the same as liaison admin office | link | revoke | head
  inspect   FILE                         show a certificate, statement, key file or directory (no secrets)
  verify    FILE --root AUTHORITY.pub.json   verify a certificate or statement against the pinned root
  dev       [--dir keys/dev]             generate the development key set (plaintext: development only)

${KEY_PROTECTION_USAGE}
issue and rotate read the authority key's passphrase from --authority-passphrase-env NAME or
--authority-passphrase-fd N (or the terminal).`;

const options = {
  authority: { type: 'string' },
  dir: { type: 'string' },
  name: { type: 'string' },
  device: { type: 'string' },
  role: { type: 'string' },
  days: { type: 'string' },
  out: { type: 'string' },
  'request-out': { type: 'string' },
  'public-out': { type: 'string' },
  key: { type: 'string' },
  directory: { type: 'string' },
  root: { type: 'string' },
  'authority-passphrase-env': { type: 'string' },
  'authority-passphrase-fd': { type: 'string' },
  ...NEW_KEY_OPTIONS,
} as const;

// Re-exported for the commands that import it from here (src/cli/hub.ts).
export { UsageError };

/** Runs `liaison keys ...`. */
export async function keysCommand(argv: string[], print: Print): Promise<void> {
  await ready;
  const [command, ...rest] = argv;
  if (command && ADMIN_ALIASES.has(command)) return adminCommand(argv, print);
  const { values, positionals } = parseArgs({ args: rest, options, allowPositionals: true });
  // Statements are entries of one log: each names the one before it, so the authority signs
  // against its own directory file and appends to it.
  const logFile = () => required(values.directory, 'directory');
  const after = async () => (await loadDirectory(logFile())).head;
  const publish = async (statement: Signed) => {
    await appendToDirectory(logFile(), [statement]);
    print(`appended to ${logFile()}`);
  };
  const authority = () =>
    readAuthorityKey(
      required(values.authority, 'authority'),
      passphraseSource(values, 'authority-'),
    );

  switch (command) {
    case 'authority': {
      const dir = required(values.dir, 'dir');
      const paths = keySetPaths(dir);
      const keys = await writeAuthorityKey(
        paths.authorityKey,
        values.name ?? 'CARICC authority',
        await newSeed(),
        protectionFrom(values),
      );
      const published = publishAuthority(keys, keys.name);
      dropKeys(keys);
      await writePublicFile(paths.authorityPublic, `${JSON.stringify(published, null, 2)}\n`);
      await writeDirectoryFile(paths.directory, { v: 1, authority: published, statements: [] });
      print(`authority ${keys.keyId}: secret key ${paths.authorityKey} (0600); keep it offline`);
      print(`pin this public key in every client: ${paths.authorityPublic}`);
      print(`fingerprint: ${fingerprint(keys.signingPublicKey)}`);
      return;
    }
    case 'request': {
      const deviceId = DeviceId.parse(required(values.device, 'device'));
      const out = required(values.out, 'out');
      const requestOut = required(values['request-out'], 'request-out');
      const protection = protectionFrom(values);
      const { keys, seeds, request } = await makeEnrolmentRequest(
        deviceId,
        Role.parse(values.role ?? 'device'),
        daysFlag(values.days),
      );
      await writeDeviceKey(out, keys, seeds, undefined, protection);
      await writePublicFile(requestOut, `${JSON.stringify(request, null, 2)}\n`);
      print(
        `${deviceId}: own keys ${keys.keyId} sealed in ${out} (0600); they stay on this device`,
      );
      print(`enrolment request for CARICC: ${requestOut}`);
      print(
        `safety number (read it to CARICC out of band): ${fingerprint(keys.signingPublicKey, keys.encryptionPublicKey)}`,
      );
      dropKeys(keys);
      return;
    }
    case 'archive': {
      const out = required(values.out, 'out');
      const publicOut = required(values['public-out'], 'public-out');
      const seeds = { signing: await newSeed(), encryption: await newSeed() };
      const keys = await generateDeviceKeys(ARCHIVE_KEY_ID, seeds);
      const published: ArchiveKeyFile = {
        v: 1,
        type: 'liaison.archive-key',
        publicKey: toBase64Url(keys.encryptionPublicKey),
      };
      await writeDeviceKey(out, keys, seeds, undefined, protectionFrom(values));
      await writePublicFile(publicOut, `${JSON.stringify(published, null, 2)}\n`);
      print(`archive key sealed in ${out} (0600): keep it offline, never on the hub host`);
      print(`give the hub its public half: HUB_ARCHIVE_PUBLIC_KEY_FILE=${publicOut}`);
      dropKeys(keys);
      return;
    }
    case 'issue': {
      const deviceId = required(values.device, 'device');
      const role = Role.parse(values.role ?? 'device');
      const protection = protectionFrom(values);
      const auth = await authority();
      const { keys, statement } = await enrollDevice(auth, {
        deviceId,
        country: countryOf(officeOfDevice(deviceId)),
        role,
        days: daysFlag(values.days),
        keyPath: required(values.out, 'out'),
        after: await after(),
        protection,
      });
      dropKeys(auth);
      print(`${deviceId} key ${keys.keyId} written to ${values.out} (0600)`);
      print(`fingerprint: ${fingerprint(keys.signingPublicKey, keys.encryptionPublicKey)}`);
      dropKeys(keys);
      return publish(statement);
    }
    case 'rotate': {
      const protection = protectionFrom(values);
      const current = await readDeviceKey(required(values.key, 'key'), passphraseSource(values));
      const auth = await authority();
      const directory = await loadDirectory(logFile());
      const previous = directory.certificateOf(current.keys.deviceId, current.keys.keyId);
      if (!previous) throw new UsageError(`${values.key} holds a key the directory does not know`);
      const { keys, statement } = await enrollDevice(auth, {
        deviceId: current.keys.deviceId,
        country: previous.country,
        role: previous.role,
        days: daysFlag(values.days),
        keyPath: required(values.out, 'out'),
        previousKeyId: current.keys.keyId,
        after: directory.head,
        protection,
      });
      dropKeys(auth);
      dropKeys(current.keys);
      print(`${keys.deviceId}: new key ${keys.keyId} replaces ${current.keys.keyId}`);
      dropKeys(keys);
      return publish(statement);
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
        `development key set in ${dir}: ${devices.length} devices, directory ${keySetPaths(dir).directory} (plaintext keys: development only)`,
      );
      return;
    }
    default:
      throw new UsageError(KEYS_USAGE);
  }
}

/** A key file or an approval holds its certificate; a statement may be given bare. */
function unwrap(file: unknown): unknown {
  // Key files (plaintext or sealed) and approvals carry the certificate beside other things.
  if (file && typeof file === 'object' && 'certificate' in file && 'type' in file) {
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
  if (record.type === 'liaison.sealed-key') {
    const { ciphertext: _c, certificate, ...rest } = record;
    return {
      ...rest,
      secrets: 'sealed',
      ...(certificate ? { certificate: describe(certificate) } : {}),
    };
  }
  if (record.type === 'liaison.enrolment-request' || record.type === 'liaison.enrolment-approval') {
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, describe(v)]));
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
