import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createClientToken, verifyClientToken } from '../crypto/token.js';
import { openEnvelope } from '../envelope/open.js';
import { sealEnvelope } from '../envelope/seal.js';
import { isLiaisonError } from '../errors.js';
import { generateDevKeySet, HUB_DEVICE_ID, keySetPaths } from '../keystore/devset.js';
import { loadDirectory } from '../keystore/directory-file.js';
import { exists, readJsonFile } from '../keystore/files.js';
import { readDeviceKey } from '../keystore/keyfile.js';
import type { Print } from './usage.js';

/**
 * `npm start` until the gateway lands: makes (once) the development key set, then shows one chat
 * and one alert from Kordai to Ak-Zhol as the relay, the recipient and the hub each see them.
 */
export async function demoCommand(argv: string[], print: Print): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { dir: { type: 'string' } } });
  const dir = values.dir ?? join('keys', 'dev');
  const paths = keySetPaths(dir);
  if (!(await exists(paths.authorityKey))) {
    const devices = await generateDevKeySet(dir);
    print(`created the development key set in ${dir} (${devices.length} devices)`);
  }
  // Clients pin the authority key they were given, not the one a directory file claims.
  const directory = await loadDirectory(paths.directory, await readJsonFile(paths.authorityPublic));
  const kordai = (await readDeviceKey(paths.deviceKey('KZ-KORDAI/desk-1'))).keys;
  const akzhol = (await readDeviceKey(paths.deviceKey('KG-AKZHOL/desk-1'))).keys;
  const hub = (await readDeviceKey(paths.deviceKey(HUB_DEVICE_ID))).keys;
  print(`directory: ${directory.allOffices().length} offices, version ${directory.version}`);

  const token = await createClientToken(kordai, { audience: 'liaison-dev' });
  const session = await verifyClientToken(token, directory, { audience: 'liaison-dev' });
  print(
    `token of ${session.claims.iss} verified (expires in ${session.claims.exp - session.claims.iat} s)`,
  );

  const recipients = directory.recipientKeys(['KG-AKZHOL'], Date.now());
  const chat = await sealEnvelope({
    sender: kordai,
    to: ['KG-AKZHOL'],
    body: { type: 'chat', text: 'Convoy of three trucks leaving Kordai towards Ak-Zhol at 10:40.' },
    recipients,
    counter: 1,
    directory: directory.head,
  });
  print('\nwhat the gateway sees (routing metadata and ciphertext only):');
  print(
    JSON.stringify({
      header: chat.header,
      recipients: chat.recipients.map((r) => r.deviceId),
      ciphertextBytes: Buffer.from(chat.ciphertext, 'base64url').length,
    }),
  );
  const read = await openEnvelope(chat, akzhol, directory);
  print(`\nwhat KG-AKZHOL/desk-1 reads, signed by ${read.sender.deviceId}:`);
  print(JSON.stringify(read.body));

  const alert = await sealEnvelope({
    sender: kordai,
    to: ['KG-AKZHOL'],
    body: {
      type: 'alert',
      category: 'suspicious-vehicle',
      precedence: 'IMMEDIATE',
      title: 'White Lexus LX turned back before inspection',
      description: 'Driver nervous, two passengers; may try the Ak-Zhol crossing.',
      location: { bcp: 'Kordai' },
      subjects: [{ kind: 'vehicle', plate: '01 KG 777 ABC', country: 'KG' }],
      validFrom: Date.now(),
      validUntil: Date.now() + 6 * 3600_000,
    },
    recipients,
    counter: 2,
    directory: directory.head,
  });
  const monitored = await openEnvelope(alert, hub, directory);
  print(
    `\nwhat the CARICC hub reads (precedence ${alert.header.precedence} is visible to the relay):`,
  );
  print(JSON.stringify(monitored.body));

  const tampered = { ...chat, header: { ...chat.header, createdAt: chat.header.createdAt + 1 } };
  try {
    await openEnvelope(tampered, akzhol, directory);
    print('\nUNEXPECTED: a tampered envelope opened');
    process.exitCode = 1;
  } catch (error) {
    if (!isLiaisonError(error)) throw error;
    print(`\na relay that changes one header field is caught: ${error.code}`);
  }
}
