import { randomBytes, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ByteRows } from '../../src/directory/byte-rows.js';
import { HashLog } from '../../src/directory/hash-log.js';
import { StatementIds } from '../../src/directory/statement-ids.js';

describe('the directory’s compact tables', () => {
  it('find every row pushed, by position and as a set, and nothing else', () => {
    const rows = new ByteRows(16);
    const pushed = Array.from({ length: 5_000 }, () => randomBytes(16));
    for (const row of pushed) rows.push(row);
    expect(rows.length).toBe(5_000);
    for (const [i, row] of pushed.entries()) {
      expect(rows.has(row)).toBe(true);
      expect(Buffer.from(rows.row(i) as Uint8Array).equals(row)).toBe(true);
    }
    expect(rows.has(randomBytes(16))).toBe(false);
    expect(rows.has(randomBytes(15))).toBe(false);
    expect(rows.row(5_000)).toBeUndefined();
  });

  it('tell apart ids that share all but their last bytes (time-ordered UUIDs)', () => {
    const ids = new StatementIds();
    const id = (n: number) => `01890a5d-ac96-774b-bcce-b302099a${n.toString(16).padStart(4, '0')}`;
    for (let n = 0; n < 3_000; n++) ids.add(id(n));
    expect(ids.size).toBe(3_000);
    for (let n = 0; n < 3_000; n++) expect(ids.has(id(n))).toBe(true);
    expect(ids.has(id(3_000))).toBe(false);
    expect(ids.has(randomUUID())).toBe(false);
  });

  it('copies independently of the original', () => {
    const log = new HashLog();
    const first = randomBytes(32);
    log.push(first);
    const copy = log.copy();
    const second = randomBytes(32);
    copy.push(second);
    expect([log.length, copy.length]).toEqual([1, 2]);
    expect(log.has(second)).toBe(false);
    expect(copy.has(first) && copy.has(second)).toBe(true);
    expect(copy.at(0)).toBe(log.at(0));
    expect(log.at(0)).toBe(first.toString('base64url'));
  });

  it('take only what they are made for', () => {
    expect(() => new HashLog().push(randomBytes(16))).toThrow(TypeError);
    expect(() => new StatementIds().add('0B6E7F9A-1C2D-4E5F-8A9B-0C1D2E3F4A5B')).toThrow(TypeError);
  });
});
