import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisEngine } from '../../src/engine/redis.js';
import type { Gateway } from '../../src/gateway/gateway.js';
import { generateDevKeySet, keySetPaths } from '../../src/keystore/devset.js';
import { liaison } from '../fixtures/cli.js';
import { startDevSetGateway } from '../fixtures/dev-gateway.js';
import { REDIS_URL } from '../fixtures/engines.js';

describe('attachments from the command line', () => {
  let dir: string;
  let paths: ReturnType<typeof keySetPaths>;
  let engine: RedisEngine;
  let gateway: Gateway;
  const common = () => ['--gateway', gateway.url, '--authority', paths.authorityPublic];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liaison-attachments-'));
    await generateDevKeySet(dir);
    paths = keySetPaths(dir);
    engine = new RedisEngine({
      url: REDIS_URL,
      prefix: `liaison-test:${randomUUID()}:`,
      retentionMs: 600_000,
    });
    gateway = await startDevSetGateway(dir, engine);
  });
  afterAll(async () => {
    await gateway?.close();
    await engine?.destroy();
    await engine?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('an alert carries a photo; the other office lists it and saves it, its type sniffed', {
    timeout: 120_000,
  }, async () => {
    // A "photo" that is a PDF inside: the type shown is what the content is.
    const scan = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(700_000, 7)]);
    const file = join(dir, 'truck photo.jpg');
    await writeFile(file, scan);
    const sent = await liaison([
      'alert',
      'KG-AKZHOL',
      '--key',
      paths.deviceKey('KZ-KORDAI/desk-1'),
      ...common(),
      '--title',
      'Truck KZ 123 ABC',
      '--attach',
      file,
    ]);
    expect(sent.stderr).toBe('');
    expect(sent.stdout).toContain('accepted by the gateway');

    const saved = join(dir, 'saved');
    const inbox = await liaison([
      'inbox',
      '--key',
      paths.deviceKey('KG-AKZHOL/desk-1'),
      ...common(),
      '--save-attachments',
      saved,
    ]);
    expect(inbox.stderr).toBe('');
    expect(inbox.stdout).toContain('attachment: truck photo.jpg (684 KiB)');
    expect(inbox.stdout).toContain('(application/pdf, 684 KiB, hash checked)');
    const [name] = await readdir(saved);
    expect(name).toMatch(/-0-truck_photo\.jpg$/);
    expect((await readFile(join(saved, name as string))).equals(scan)).toBe(true);
  });

  it('an alert carries a preview given with --thumbnail, encrypted under a key of its own', {
    timeout: 120_000,
  }, async () => {
    const photo = join(dir, 'van.jpg');
    const preview = join(dir, 'van-160.jpg');
    await writeFile(
      photo,
      Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(90_000, 1)]),
    );
    await writeFile(
      preview,
      Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(6_000, 2)]),
    );
    const alert = (...extra: string[]) =>
      liaison([
        'alert',
        'KG-AKZHOL',
        '--key',
        paths.deviceKey('KZ-KORDAI/desk-1'),
        ...common(),
        '--title',
        'White van',
        '--attach',
        photo,
        ...extra,
      ]);
    const sent = await alert('--thumbnail', preview);
    expect(sent.stderr).toBe('');
    // More previews than files is a usage error, said with the flag.
    const wrong = await alert('--thumbnail', preview, '--thumbnail', preview);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--thumbnail: one for each --attach at most');

    const inbox = await liaison([
      'inbox',
      '--key',
      paths.deviceKey('KG-AKZHOL/desk-1'),
      ...common(),
      '--json',
    ]);
    const bodies = inbox.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l).body);
    const ref = bodies.find((b) => b?.title === 'White van')?.attachments?.[0];
    expect(ref).toMatchObject({
      name: 'van.jpg',
      size: 90_004,
      thumbnail: { size: 6_004, chunks: 1 },
    });
    expect(ref.thumbnail.key).not.toBe(ref.key);
    const human = await liaison([
      'inbox',
      '--key',
      paths.deviceKey('KG-AKZHOL/desk-1'),
      ...common(),
    ]);
    expect(human.stdout).toContain('attachment: van.jpg (88 KiB, thumbnail)');
  });
});
