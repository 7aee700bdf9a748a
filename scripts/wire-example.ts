// Rewrites the frames shown in protocol/WIRE-EXAMPLE.md from a real run against an in-process
// gateway (`npx tsx scripts/wire-example.ts`); test/protocol/wire-example.test.ts fails until you do.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { captureWireExchange, wireBlocks, withWireBlocks } from './wire-exchange.js';

const file = join(import.meta.dirname, '..', 'protocol', 'WIRE-EXAMPLE.md');
const transcript = await captureWireExchange();
const markdown = withWireBlocks(await readFile(file, 'utf8'), transcript);
const missing = Object.keys(transcript).filter((step) => !wireBlocks(markdown).has(step));
if (missing.length > 0) throw new Error(`WIRE-EXAMPLE.md has no block for: ${missing.join(', ')}`);
await writeFile(file, markdown);
console.log(`wrote ${Object.keys(transcript).length} steps to ${file}`);
