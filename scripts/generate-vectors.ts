// Writes protocol/vectors/*.json (`npm run protocol:generate`).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderVectors } from './vectors.js';

const dir = join(import.meta.dirname, '..', 'protocol', 'vectors');
await mkdir(dir, { recursive: true });
const files = await renderVectors();
for (const [name, text] of Object.entries(files)) await writeFile(join(dir, `${name}.json`), text);
console.log(`wrote ${Object.keys(files).length} vector files to ${dir}`);
