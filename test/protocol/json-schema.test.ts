import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ERRORS } from '../../protocol/errors.js';
import { renderJsonSchemas } from '../../protocol/json-schema.js';
import { expectGeneratedFiles } from '../fixtures/generated.js';

const dir = join(import.meta.dirname, '..', '..', 'protocol', 'json-schema');

describe('published JSON Schema', () => {
  it('matches the zod schemas exactly (run `npm run protocol:generate` after a change)', async () => {
    const rendered = renderJsonSchemas();
    await expectGeneratedFiles(dir, rendered);
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
