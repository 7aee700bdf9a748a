import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERRORS } from '../../protocol/errors.js';
import { renderJsonSchemas } from '../../protocol/json-schema.js';

const dir = join(import.meta.dirname, '..', '..', 'protocol', 'json-schema');

describe('published JSON Schema', () => {
  it('matches the zod schemas exactly (run `npm run protocol:generate` after a change)', async () => {
    const rendered = renderJsonSchemas();
    const onDisk = (await readdir(dir)).sort();
    expect(onDisk).toEqual(
      Object.keys(rendered)
        .map((n) => `${n}.json`)
        .sort(),
    );
    for (const [name, text] of Object.entries(rendered)) {
      expect(await readFile(join(dir, `${name}.json`), 'utf8'), `${name}.json`).toBe(text);
    }
  });

  it('error codes are unique, upper-case and each has an HTTP status and a message', () => {
    expect(new Set(ERROR_CODES).size).toBe(ERROR_CODES.length);
    for (const code of ERROR_CODES) {
      expect(code).toMatch(/^[A-Z][A-Z_]+$/);
      expect(ERRORS[code].status).toBeGreaterThanOrEqual(400);
      expect(ERRORS[code].message.length).toBeGreaterThan(5);
    }
  });

  it('every error code is documented in PROTOCOL.md', async () => {
    const spec = await readFile(join(dir, '..', 'PROTOCOL.md'), 'utf8');
    for (const code of ERROR_CODES) expect(spec, code).toContain(`\`${code}\``);
  });
});
