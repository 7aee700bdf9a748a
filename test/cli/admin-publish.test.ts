import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminCommand } from '../../src/cli/admin.js';
import { pinAuthority, publishAuthority } from '../../src/crypto/certificate.js';
import { MemoryEngine } from '../../src/engine/memory.js';
import { type Gateway, startGateway } from '../../src/gateway/gateway.js';
import { writeDirectoryFile } from '../../src/keystore/directory-file.js';
import { newSeed, writeAuthorityKey } from '../../src/keystore/keyfile.js';

/** An authority with an empty directory file in `dir`, and the flags its commands take. */
async function authorityIn(dir: string, name: string) {
  const key = join(dir, `${name}.key`);
  const directory = join(dir, `${name}.directory.json`);
  const authority = await writeAuthorityKey(key, name, await newSeed(), 'insecure-plaintext');
  const published = publishAuthority(authority, name);
  await writeDirectoryFile(directory, { v: 1, authority: published, statements: [] });
  return { published, directory, flags: ['--authority', key, '--directory', directory] };
}

const office = (id: string, name: string) => ['--office', id, '--name', name, '--bcp', name];

describe('liaison admin publish', () => {
  let dir: string;
  let gateway: Gateway;
  let ca: Awaited<ReturnType<typeof authorityIn>>;
  const lines: string[] = [];
  const print = (line: string) => lines.push(line);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-publish-'));
    ca = await authorityIn(dir, 'caricc');
    gateway = await startGateway(
      {
        host: '127.0.0.1',
        port: 0,
        audience: 'liaison-gateway',
        rateLimitPerMinute: 1000,
        shutdownGraceMs: 1000,
      },
      {
        engine: new MemoryEngine({ retentionMs: 60_000 }),
        authority: await pinAuthority(ca.published),
        logger: pino({ level: 'silent' }),
      },
    );
  });
  afterAll(async () => {
    await gateway.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('hands the gateway only what it lacks, then the head; again, nothing', async () => {
    await adminCommand(['office', ...ca.flags, ...office('KZ-KORDAI', 'Kordai')], print);
    await adminCommand(['office', ...ca.flags, ...office('KG-AKZHOL', 'Ak-Zhol')], print);
    await adminCommand(['publish', '--directory', ca.directory, '--gateway', gateway.url], print);
    expect(lines.at(-1)).toContain('published 2 statements');
    await adminCommand(['link', ...ca.flags, 'KZ-KORDAI', 'KG-AKZHOL'], print);
    await adminCommand(['head', ...ca.flags], print);
    await adminCommand(['publish', '--directory', ca.directory, '--gateway', gateway.url], print);
    expect(lines.at(-2)).toContain('published 1 statements');
    expect(lines.at(-1)).toContain('published the head');
    const served = (await (await fetch(`${gateway.url}/v1/directory`)).json()) as {
      version: number;
      head: unknown;
    };
    expect(served.version).toBe(3);
    expect(served.head).toEqual(JSON.parse(await readFile(ca.directory, 'utf8')).head);
    await adminCommand(['publish', '--directory', ca.directory, '--gateway', gateway.url], print);
    expect(lines.at(-2)).toContain('published 0 statements');
  });

  it("refuses to publish another authority's log, and a log that forked from the gateway's", async () => {
    const other = await authorityIn(dir, 'impostor');
    await adminCommand(['office', ...other.flags, ...office('KZ-KORDAI', 'Kordai')], print);
    await expect(
      adminCommand(['publish', '--directory', other.directory, '--gateway', gateway.url], print),
    ).rejects.toThrow(/another authority/);

    // The same authority, a second copy of its log that went another way from statement 1.
    const fork = join(dir, 'fork.directory.json');
    await writeDirectoryFile(fork, { v: 1, authority: ca.published, statements: [] });
    const forkFlags = ['--authority', join(dir, 'caricc.key'), '--directory', fork];
    await adminCommand(['office', ...forkFlags, ...office('UZ-OYBEK', 'Oybek')], print);
    await adminCommand(['office', ...forkFlags, ...office('TJ-FOTEHOBOD', 'Fotehobod')], print);
    await adminCommand(['office', ...forkFlags, ...office('KZ-KORDAI', 'Kordai')], print);
    await adminCommand(['office', ...forkFlags, ...office('KG-AKZHOL', 'Ak-Zhol')], print);
    const error = await adminCommand(
      ['publish', '--directory', fork, '--gateway', gateway.url],
      print,
    ).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('DIRECTORY_FORK');
  });
});
