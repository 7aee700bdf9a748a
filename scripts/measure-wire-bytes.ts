// Bytes on the wire for one chat line (issue 17, "Weak links") in the JSON and the compact
// encoding (PROTOCOL.md §9.5): the envelope and the Socket.IO frames that carry it, for a text to
// an office of two devices and the hub, each sealed to a prekey, padded as sent (bench/wire.ts
// says what is counted). Run:
//   npx tsx scripts/measure-wire-bytes.ts [textBytes ...]      (default: 100 1024)
import { measureWireBytes } from '../bench/wire.js';

const sizes = process.argv.slice(2).map(Number);
const figures = [];
for (const size of sizes.length > 0 ? sizes : [100, 1024])
  figures.push(await measureWireBytes(size));
console.log(JSON.stringify(figures, null, 2));
