// A minimal analyst feed: a CARICC analytical system follows the record of one border live and
// raises its own flag on escalations. Run beside `REDIS_URL=redis://127.0.0.1:6379 npm start`:
//   npx tsx examples/analyst.ts KZ-KG
// From the installed package the import is `from 'liaison/node'` (browsers: `from 'liaison'`).
import { AnalystClient, readDeviceKey, readPinnedAuthority } from '../src/node.js';

const border = process.argv[2] ?? 'KZ-KG';
const { keys } = await readDeviceKey('keys/dev/devices/CARICC/analyst-1.key');
const analyst = new AnalystClient({
  url: process.env.HUB_URL ?? 'http://127.0.0.1:8090',
  keys,
  // Pin the authority key you were given out of band; the directory is checked against it.
  authority: await readPinnedAuthority('keys/dev/authority.pub.json'),
  directoryUrl: process.env.LIAISON_URL ?? 'http://127.0.0.1:8080',
  filter: { border },
});

analyst.on('record', (e) => {
  const office = e.from === 'unknown' ? undefined : analyst.directory.office(e.from);
  console.log(`#${e.seq} ${office?.name ?? e.from} → ${e.to.join(',')} ${e.kind} ${e.status}`);
});
analyst.on('escalation', (e) => console.warn(`overdue ${e.precedence} alert ${e.alertId}`));
analyst.on('problem', (p) => console.warn(`problem: ${p.code} ${p.message}`));
analyst.on('closed', ({ error }) => error && console.error(`refused: ${error.code}`));

await analyst.start();
console.log(`following ${border} from #${analyst.seq}`);
