// A minimal integrator: a national system connects as an office device, prints what arrives and
// answers alerts. Run beside `npm start`:
//   npx tsx examples/integrator.ts keys/dev/devices/KG-AKZHOL/duty-1.key
// From the installed package the import is `from 'liaison/node'` (browsers: `from 'liaison'`);
// here it is the same entry's source, so the example runs from a checkout without a build.
import { LiaisonClient, readDeviceKey, readPinnedAuthority } from '../src/node.js';

const keyFile = process.argv[2] ?? 'keys/dev/devices/KG-AKZHOL/duty-1.key';
// A sealed key file (PROTOCOL.md §5.4) opens with the passphrase in LIAISON_PASSPHRASE; the
// development files are plaintext and need none.
const { keys } = await readDeviceKey(keyFile, { env: 'LIAISON_PASSPHRASE' });
const client = new LiaisonClient({
  url: process.env.LIAISON_URL ?? 'http://127.0.0.1:8080',
  audience: process.env.GATEWAY_AUDIENCE ?? 'liaison-gateway',
  keys,
  // Pin the authority key you were given out of band; never take it from the gateway.
  authority: await readPinnedAuthority('keys/dev/authority.pub.json'),
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
