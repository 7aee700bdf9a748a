// Writes protocol/json-schema/*.json from the zod schemas (`npm run protocol:generate`).
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderJsonSchemas } from '../protocol/json-schema.js';

const dir = join(import.meta.dirname, '..', 'protocol', 'json-schema');
await mkdir(dir, { recursive: true });
for (const old of await readdir(dir)) await rm(join(dir, old));
const files = renderJsonSchemas();
for (const [name, text] of Object.entries(files)) await writeFile(join(dir, `${name}.json`), text);
console.log(`wrote ${Object.keys(files).length} schemas to ${dir}`);
