import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Signed } from '../../protocol/v1/certificate.js';
import { publishAuthority } from '../../src/crypto/certificate.js';
import { generateAuthorityKeys } from '../../src/crypto/keys.js';
import { StatementLog, signDirectoryHead } from '../../src/crypto/statement.js';
import { DirectoryFile, writeDirectoryFile } from '../../src/keystore/directory-file.js';
import {
  readDirectoryHeader,
  readDirectoryStatements,
} from '../../src/keystore/directory-file-stream.js';

// A gateway reads a large directory file in chunks (never whole). It must read exactly what
// DirectoryFile.parse reads from the same file, and refuse what it refuses.

/** About 2.7 MB of statements: values cross the 1 MiB chunks' boundaries. */
const OFFICES = 6_000;

let dir: string;
let path: string;
let statements: Signed[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'liaison-directory-stream-'));
  path = join(dir, 'directory.json');
  const authority = await generateAuthorityKeys();
  const log = new StatementLog(authority);
  for (let i = 0; i < OFFICES; i++) {
    // Quotes and backslashes in a name: escapes inside strings, at any place in a chunk.
    const name = `Office "${i}" \\ ${'x'.repeat(i % 7)}`;
    await log.sign('office.registered', { officeId: `KG-S${i}`, country: 'KG', name, bcp: name });
  }
  statements = log.statements;
  const head = await signDirectoryHead(authority, log.head, { expiresAt: Date.now() + 60_000 });
  await writeDirectoryFile(path, {
    v: 1,
    // An authority name full of escapes, ending in a backslash.
    authority: publishAuthority(authority, 'CARICC "root" \\'),
    statements,
    head,
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const readAll = async (file: string, size: number) => {
  const read: Signed[] = [];
  const sizes: number[] = [];
  for await (const batch of readDirectoryStatements(file, size)) {
    sizes.push(batch.length);
    read.push(...batch);
  }
  return { read, sizes };
};

describe('a directory file read in chunks', () => {
  it('gives exactly what parsing it whole gives: statements in order, in batches, and its head', async () => {
    const whole = DirectoryFile.parse(JSON.parse(await readFile(path, 'utf8')));
    const { read, sizes } = await readAll(path, 2_500);
    expect(read).toEqual(whole.statements);
    expect(sizes).toEqual([2_500, 2_500, 1_000]);
    expect((await readFile(path)).length).toBeGreaterThan(2 * 2 ** 20);
    const { head, authority, v } = await readDirectoryHeader(path);
    expect({ v, authority, head }).toEqual({ v: 1, authority: whole.authority, head: whole.head });
  });

  it('reads the same file written without whitespace', async () => {
    const compact = join(dir, 'compact.json');
    await writeFile(compact, JSON.stringify(JSON.parse(await readFile(path, 'utf8'))));
    expect((await readAll(compact, 8_000)).read).toEqual(statements);
  });

  it('refuses a file that is not a directory file, naming it', async () => {
    const cases: Record<string, string> = {
      'cut.json': (await readFile(path, 'utf8')).slice(0, 1_500_000),
      'extra.json': JSON.stringify({ v: 1, authority: {}, statements: [], other: 1 }),
      'twice.json': '{"v":1,"statements":[],"statements":[]}',
      'trailing.json': '{"v":1,"statements":[]} {}',
      'array.json': '[]',
    };
    for (const [name, text] of Object.entries(cases)) {
      const file = join(dir, name);
      await writeFile(file, text);
      const header = readDirectoryHeader(file);
      await expect(header, name).rejects.toThrow(file);
    }
  });

  it('a statement that is not a signed object is refused by its position', async () => {
    const file = join(dir, 'bad-statement.json');
    const parsed = JSON.parse(await readFile(path, 'utf8'));
    parsed.statements[1_234] = { payload: statements[0]?.payload, signature: 'x', more: 1 };
    await writeFile(file, JSON.stringify(parsed));
    await expect(readAll(file, 1_000)).rejects.toThrow(`${file}: statement 1235`);
  });
});
