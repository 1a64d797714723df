/**
 * Path confinement of host-side repo reads (src/sandbox/confined.ts), as a property: on random trees of
 * files, directories, FIFOs and symlinks (absolute, relative, through `..`, chains, loops, to directories)
 * and random relative paths (`..`, `.`, `//`, leading `/`), a confined read returns exactly the content of
 * the regular file at that lexical path when every component is a real directory, and nothing otherwise:
 * never bytes from outside the root, never through a link, never blocking on a FIFO.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { entryKind, listTree, readInTree, splitRepoPath } from '../../src/sandbox/confined.ts';
import { tempDir } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const NAMES = ['a', 'b', 'c', 'd'];
type Spec = { type: 'file' } | { type: 'dir' } | { type: 'fifo' } | { type: 'symlink'; target: string };

const targetArb = fc.oneof(
  fc.constantFrom(
    '@OUT/secret',
    '@OUT/dir',
    '@OUT',
    '/proc/self/environ',
    '/dev/zero',
    '../outside/secret',
    '../../outside/secret',
    '..',
    '.',
    '/',
  ),
  fc.array(fc.constantFrom(...NAMES, '..', '.'), { minLength: 1, maxLength: 4 }).map((p) => p.join('/')),
);

const specArb: fc.Arbitrary<Spec> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ type: 'file' as const }) },
  { weight: 3, arbitrary: fc.constant({ type: 'dir' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'fifo' as const }) },
  { weight: 3, arbitrary: targetArb.map((target) => ({ type: 'symlink' as const, target })) },
);

const entriesArb = fc.array(fc.tuple(fc.array(fc.constantFrom(...NAMES), { minLength: 1, maxLength: 3 }), specArb), {
  minLength: 1,
  maxLength: 14,
});

const queryArb = fc
  .tuple(
    fc.constantFrom('', '/', './'),
    fc.array(fc.constantFrom(...NAMES, '..', '.', ''), { minLength: 1, maxLength: 5 }),
  )
  .map(([lead, parts]) => lead + parts.join('/'));

/** Builds the tree; returns the model (repo path → kind) of what was actually created. */
function build(entries: [string[], Spec][]): { base: string; root: string; model: Map<string, Spec['type']> } {
  const base = tempDir('suture-confined-');
  made.push(base);
  const outside = join(base, 'outside');
  mkdirSync(join(outside, 'dir'), { recursive: true });
  writeFileSync(join(outside, 'secret'), 'OUTSIDE-SECRET');
  writeFileSync(join(outside, 'dir', 'secret'), 'OUTSIDE-SECRET');
  const root = join(base, 'repo');
  mkdirSync(root);
  const model = new Map<string, Spec['type']>();
  for (const [parts, spec] of entries) {
    const path = parts.join('/');
    const parents = parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
    if (model.has(path) || parents.some((p) => model.has(p) && model.get(p) !== 'dir')) continue;
    for (const p of parents) {
      if (!model.has(p)) {
        mkdirSync(join(root, p));
        model.set(p, 'dir');
      }
    }
    const abs = join(root, path);
    if (spec.type === 'file') writeFileSync(abs, `INSIDE:${path}`);
    else if (spec.type === 'dir') mkdirSync(abs);
    else if (spec.type === 'fifo') execFileSync('mkfifo', [abs]);
    else symlinkSync(spec.target.replace('@OUT', outside), abs);
    model.set(path, spec.type);
  }
  return { base, root, model };
}

/** What a confined read must give, from the model alone. */
function expected(model: Map<string, Spec['type']>, query: string): string | null {
  if (query.startsWith('/')) return null;
  const parts = query.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.includes('..')) return null;
  for (let i = 0; i < parts.length - 1; i++) {
    if (model.get(parts.slice(0, i + 1).join('/')) !== 'dir') return null;
  }
  const path = parts.join('/');
  return model.get(path) === 'file' ? `INSIDE:${path}` : null;
}

describe('confined reads', () => {
  it('never return bytes from outside the root, never follow a link, never block', () => {
    fc.assert(
      fc.property(entriesArb, fc.array(queryArb, { minLength: 1, maxLength: 12 }), (entries, queries) => {
        const { root, model } = build(entries);
        for (const q of [...queries, ...model.keys()]) {
          const started = Date.now();
          const r = readInTree(root, q, 1024);
          expect(Date.now() - started).toBeLessThan(1000);
          const want = expected(model, q);
          if (want === null) {
            expect(r.ok, `${q} must not be readable`).toBe(false);
          } else {
            expect(r.ok && r.data.toString(), q).toBe(want);
          }
          if (r.ok) expect(r.data.toString()).not.toContain('OUTSIDE');
        }
        const listed = listTree(root);
        expect(new Map([...listed].map(([p, k]) => [p, k === 'special' ? 'fifo' : k]))).toEqual(model);
        for (const [p, kind] of model) expect(entryKind(root, p)).toBe(kind === 'fifo' ? 'special' : kind);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses special files, oversized files and paths that leave the root, with a reason', () => {
    const { root } = build([
      [['big'], { type: 'file' }],
      [['zero'], { type: 'symlink', target: '/dev/zero' }],
      [['pipe'], { type: 'fifo' }],
    ]);
    expect(readInTree(root, 'big', 3)).toMatchObject({ ok: false, reason: 'too-large' });
    expect(readInTree(root, 'zero', 1 << 20)).toMatchObject({ ok: false, reason: 'symlink' });
    expect(readInTree(root, 'pipe', 1 << 20)).toMatchObject({ ok: false, reason: 'special' });
    expect(readInTree(root, '../outside/secret', 1 << 20)).toMatchObject({ ok: false, reason: 'bad-path' });
    expect(readInTree(root, 'nope', 1 << 20)).toMatchObject({ ok: false, reason: 'missing' });
    expect(splitRepoPath('a//./b/')).toEqual(['a', 'b']);
    expect(splitRepoPath('/etc/passwd')).toBeNull();
  });
});
