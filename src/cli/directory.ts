import { parseArgs } from 'node:util';
import { fingerprint } from '../crypto/keys.js';
import { CLIENT_OPTIONS, clientFrom } from './client-options.js';
import type { Print } from './usage.js';

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
