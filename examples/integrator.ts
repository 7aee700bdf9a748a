// A minimal integrator: a national system connects as an office device, prints what arrives and
// answers alerts. Run beside `npm start`:
//   npx tsx examples/integrator.ts keys/dev/devices/KG-AKZHOL/duty-1.key
import { readFile } from 'node:fs/promises';
import { LiaisonClient } from '../src/client/client.js';
import { pinAuthority } from '../src/crypto/certificate.js';
import { readDeviceKey } from '../src/keystore/keyfile.js';

const keyFile = process.argv[2] ?? 'keys/dev/devices/KG-AKZHOL/duty-1.key';
const { keys } = await readDeviceKey(keyFile);
const client = new LiaisonClient({
  url: process.env.LIAISON_URL ?? 'http://127.0.0.1:8080',
  audience: process.env.GATEWAY_AUDIENCE ?? 'liaison-gateway',
  keys,
  // Pin the authority key you were given out of band; never take it from the gateway.
  authority: await pinAuthority(JSON.parse(await readFile('keys/dev/authority.pub.json', 'utf8'))),
});

client.on('message', async (m) => {
  console.log(`${m.sender}: ${JSON.stringify(m.body)}`);
  if (m.body.type === 'alert')
    await client.acknowledgeAlert(m.from, m.id, 'received by the national system');
});
client.on('keyChanged', (k) =>
  console.warn(`key changed for ${k.deviceId}; verify ${k.fingerprint}`),
);
client.on('problem', (p) => console.warn(`problem: ${p.code} ${p.message}`));

await client.start();
console.log(
  `connected as ${keys.deviceId}; linked to ${client.directory.linkedOffices(client.officeId).join(', ')}`,
);
