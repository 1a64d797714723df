/** Excerpts and diagnosis read source through the confined reader: nothing a link or a FIFO points at. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { excerptAround, readRepoFile, SOURCE_MAX_BYTES } from '../../src/evidence/excerpts.ts';
import { tempDir } from '../helpers/repo.ts';

describe('readRepoFile', () => {
  const root = tempDir();
  writeFileSync(join(root, 'app.py'), 'def f():\n    return 1\n');
  mkdirSync(join(root, 'pkg'));
  symlinkSync('/proc/self/environ', join(root, 'pkg', 'env.py'));
  symlinkSync('app.py', join(root, 'alias.py'));
  symlinkSync('..', join(root, 'up'));
  execFileSync('mkfifo', [join(root, 'pipe.py')]);
  writeFileSync(join(root, 'huge.py'), 'x'.repeat(SOURCE_MAX_BYTES + 1));

  it('reads regular files in the tree', async () => {
    expect(await readRepoFile(root, 'app.py')).toContain('return 1');
    expect((await excerptAround(root, 'app.py', 2))?.lines).toEqual(['def f():', '    return 1', '']);
  });

  it.each([
    ['a link to the process environment', 'pkg/env.py'],
    ['a link inside the tree', 'alias.py'],
    ['a path through a link to ..', `up/${root.split('/').pop()}/app.py`],
    ['a FIFO (never blocks)', 'pipe.py'],
    ['a file over the size cap', 'huge.py'],
    ['a path leaving the root', '../etc/passwd'],
  ])('gives nothing for %s', async (_what, path) => {
    expect(await readRepoFile(root, path)).toBeUndefined();
  });
});
