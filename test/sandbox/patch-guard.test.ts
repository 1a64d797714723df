/**
 * Only changes to regular files get applied: symlinks, gitlinks, mode changes to them, binary hunks and
 * writes through a symlink of the tree are refused with one line, and nothing of them lands in the tree.
 */
import { lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeGitPatch } from '../../src/diagnose/patch.ts';
import { listTree } from '../../src/sandbox/confined.ts';
import { applyPatchGuarded, patchShapeProblems } from '../../src/sandbox/patch-guard.ts';
import { tempDir } from '../helpers/repo.ts';

function tree(): string {
  const d = tempDir('suture-guard-');
  writeFileSync(join(d, 'app.py'), 'x = 1\n');
  mkdirSync(join(d, 'tests'));
  symlinkSync('/etc', join(d, 'etc'));
  symlinkSync('/etc/hostname', join(d, 'lnk'));
  return d;
}

const newSymlink = (path: string, target: string) =>
  `diff --git a/${path} b/${path}\nnew file mode 120000\nindex 0000000..82c83b2\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1 @@\n+${target}\n\\ No newline at end of file\n`;

const REFUSED: [string, string, RegExp][] = [
  [
    'a test file added as a symlink to the environment',
    newSymlink('tests/test_x.py', '/proc/self/environ'),
    /symbolic link/,
  ],
  [
    'a gitlink',
    'diff --git a/sub b/sub\nnew file mode 160000\nindex 0000000..1234567\n--- /dev/null\n+++ b/sub\n@@ -0,0 +1 @@\n+Subproject commit 1234567890123456789012345678901234567890\n',
    /gitlink/,
  ],
  ['a mode change to a symlink', 'diff --git a/app.py b/app.py\nold mode 100644\nnew mode 120000\n', /symbolic link/],
  [
    'a changed symlink target',
    'diff --git a/lnk b/lnk\nindex 3594e94..e5e29bb 120000\n--- a/lnk\n+++ b/lnk\n@@ -1 +1 @@\n-/etc/hostname\n\\ No newline at end of file\n+/proc/self/environ\n\\ No newline at end of file\n',
    /symbolic link/,
  ],
  [
    'a binary hunk',
    'diff --git a/x.bin b/x.bin\nnew file mode 100644\nindex 0000000..8835708\nGIT binary patch\nliteral 2\nJcmZQz1ONa700IC2\n\nliteral 0\nHcmV?d00001\n\n',
    /binary/,
  ],
  [
    'a text change to a committed symlink (no mode line)',
    '--- a/lnk\n+++ b/lnk\n@@ -1 +1 @@\n-/etc/hostname\n\\ No newline at end of file\n+/proc/self/environ\n\\ No newline at end of file\n',
    /symbolic link or special file of the tree: lnk/,
  ],
  ['a new file under a symlinked directory', makeGitPatch([{ path: 'etc/evil', after: 'x\n' }]), /symbolic link/],
  [
    'a rename of a committed symlink (no mode line)',
    'diff --git a/lnk b/tests/test_y.py\nsimilarity index 100%\nrename from lnk\nrename to tests/test_y.py\n',
    /symbolic link/,
  ],
];

describe('applyPatchGuarded', () => {
  it.each(REFUSED)('refuses %s, leaving the tree as it was', async (_what, patch, reason) => {
    const d = tree();
    const before = listTree(d);
    await expect(applyPatchGuarded(d, patch)).rejects.toMatchObject({
      message: expect.stringMatching(reason),
      exitCode: 2,
    });
    // the pre-checks refuse before git applies anything; the rename is caught after a scratch apply
    if (!/rename/.test(patch)) expect(listTree(d)).toEqual(before);
  });

  it('applies a text change and reports what changed in the tree', async () => {
    const d = tree();
    const change = await applyPatchGuarded(
      d,
      makeGitPatch([
        { path: 'app.py', before: 'x = 1\n', after: 'x = 2\n' },
        { path: 'tests/test_app.py', after: 'def test(): pass\n' },
      ]),
    );
    expect(change).toEqual({ added: ['tests/test_app.py'], deleted: [], modified: ['app.py'] });
    expect(readFileSync(join(d, 'app.py'), 'utf8')).toBe('x = 2\n');
    expect(lstatSync(join(d, 'tests/test_app.py')).isFile()).toBe(true);
  });

  it('names the problem from the headers alone (pure)', () => {
    expect(patchShapeProblems(newSymlink('a', '/b'))).toEqual([
      'the patch makes or changes a symbolic link (a/a b/a): only regular files may change',
    ]);
    expect(patchShapeProblems(makeGitPatch([{ path: 'a.py', after: 'new file mode 120000\n' }]))).toEqual([]);
  });
});
