import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// The rooms of the code and what each may build on (ARCHITECTURE.md): dependencies point one way,
// from protocol up to the commands, and the two servers know each other only through Redis and
// the protocol.
const ROOT = resolve(import.meta.dirname, '..');
const BELOW: Record<string, readonly string[]> = {
  protocol: [],
  errors: ['protocol'],
  crypto: ['protocol', 'errors'],
  directory: ['protocol', 'errors', 'crypto'],
  envelope: ['protocol', 'errors', 'crypto', 'directory'],
  attachment: ['protocol', 'errors', 'crypto'],
  keystore: ['protocol', 'errors', 'crypto', 'directory'],
  engine: ['protocol', 'errors'],
  runtime: ['protocol', 'errors', 'crypto', 'directory', 'envelope', 'keystore', 'engine'],
  gateway: [
    'protocol',
    'errors',
    'crypto',
    'directory',
    'envelope',
    'keystore',
    'engine',
    'runtime',
  ],
  hub: ['protocol', 'errors', 'crypto', 'directory', 'envelope', 'keystore', 'engine', 'runtime'],
  client: ['protocol', 'errors', 'crypto', 'directory', 'envelope', 'attachment', 'keystore'],
  console: [
    'protocol',
    'errors',
    'crypto',
    'directory',
    'envelope',
    'attachment',
    'keystore',
    'client',
    'index',
  ],
  index: [
    'protocol',
    'errors',
    'crypto',
    'directory',
    'envelope',
    'attachment',
    'keystore',
    'client',
  ],
  node: [
    'protocol',
    'errors',
    'crypto',
    'directory',
    'envelope',
    'attachment',
    'keystore',
    'client',
    'index',
  ],
  cli: [
    'protocol',
    'errors',
    'crypto',
    'directory',
    'envelope',
    'attachment',
    'keystore',
    'engine',
    'runtime',
    'gateway',
    'hub',
    'client',
    'index',
    'node',
  ],
};

/** The room a file belongs to: its folder under src/ (or protocol/), or a top-level file's name. */
function roomOf(file: string): string {
  const parts = relative(ROOT, file).split(sep);
  if (parts[0] === 'protocol') return 'protocol';
  if (parts[0] !== 'src') throw new Error(`outside the rooms: ${file}`);
  const second = parts[1] ?? '';
  return parts.length === 2 ? second.replace(/\.[jt]sx?$/, '') : second;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && /\.tsx?$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

const IMPORT =
  /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+'([^']+)'|(?:^|\n)\s*import\s+'([^']+)'|import\(\s*'([^']+)'\s*\)/g;

function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(IMPORT)]
    .map((match) => match[1] ?? match[2] ?? match[3] ?? '')
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => resolve(file, '..', specifier));
}

describe('dependencies point one way', () => {
  const files = [...sources(join(ROOT, 'src')), ...sources(join(ROOT, 'protocol'))];

  it('every room imports only the rooms below it (and the gateway and the hub not each other)', () => {
    const breaches: string[] = [];
    for (const file of files) {
      const from = roomOf(file);
      const allowed = BELOW[from];
      if (!allowed) {
        breaches.push(`${relative(ROOT, file)}: room "${from}" has no place in the rule`);
        continue;
      }
      for (const target of relativeImports(file)) {
        const to = roomOf(target);
        if (to !== from && !allowed.includes(to)) {
          breaches.push(
            `${relative(ROOT, file)} (${from}) imports ${relative(ROOT, target)} (${to})`,
          );
        }
      }
    }
    expect(breaches).toEqual([]);
  });

  it('the rule itself is acyclic', () => {
    const visiting = new Set<string>();
    const done = new Set<string>();
    const visit = (room: string, path: string[]): void => {
      if (done.has(room)) return;
      expect(visiting.has(room), `cycle: ${[...path, room].join(' → ')}`).toBe(false);
      visiting.add(room);
      for (const below of BELOW[room] ?? []) visit(below, [...path, room]);
      visiting.delete(room);
      done.add(room);
    };
    for (const room of Object.keys(BELOW)) visit(room, []);
  });
});
