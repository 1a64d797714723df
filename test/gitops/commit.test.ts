/**
 * commitPatch / createBranch: a commit built from objects with a temporary index, the user's HEAD, index
 * and working tree untouched, the branch only once the commit exists, links refused. Also the repository
 * shapes the shadow git dir must still read: shallow clones, sha256, linked worktrees, and a promisor
 * remote that must never be asked for a missing object.
 */
import { createHash } from 'node:crypto';
import { cpSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SutureError } from '../../src/errors.ts';
import { blameLine } from '../../src/evidence/history.ts';
import { closeGitRepos } from '../../src/gitops/git.ts';
import { commitPatch, createBranch, openRepo, resolveRev } from '../../src/gitops/repo.ts';
import { resolveCommit } from '../../src/policy/git.ts';
import { exportTree, removeTree } from '../../src/sandbox/trees.ts';
import { cleanup, git, repoFromService, tempDir } from '../helpers/repo.ts';
import { FIX, makeTrap } from './hostile.ts';

const made: string[] = [];
afterAll(async () => {
  await closeGitRepos();
  cleanup(...made);
});

async function pricing(): Promise<{ repo: string; base: string }> {
  const repo = await repoFromService('pricing-api');
  made.push(repo);
  return { repo, base: await git(repo, 'rev-parse', 'HEAD') };
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

async function userState(repo: string) {
  return {
    head: await git(repo, 'rev-parse', 'HEAD'),
    symref: await git(repo, 'symbolic-ref', 'HEAD'),
    index: sha(join(repo, '.git', 'index')),
    status: await git(repo, 'status', '--porcelain'),
    worktrees: await git(repo, 'worktree', 'list', '--porcelain'),
    branches: await git(repo, 'for-each-ref', '--format=%(refname)'),
  };
}

describe('commitPatch and createBranch', () => {
  it('commit on top of base without a worktree; the branch appears only with createBranch', async () => {
    const { repo, base } = await pricing();
    writeFileSync(join(repo, 'pricing.py'), 'uncommitted edit\n'); // dirty and staged work of the user
    writeFileSync(join(repo, 'NOTES.md'), 'staged\n');
    await git(repo, 'add', 'NOTES.md');
    const before = await userState(repo);

    const objectsBefore = await git(repo, 'count-objects', '-v');
    const commit = await commitPatch({ repo, base, patch: FIX, message: 'fix: guard the divisor' });
    // the commit lives in suture's scratch store until it becomes a branch: nothing written to the repository
    expect(await git(repo, 'count-objects', '-v')).toBe(objectsBefore);
    await expect(git(repo, 'cat-file', '-e', commit)).rejects.toThrow();
    expect(await resolveCommit(repo, commit)).toBe(commit);

    await createBranch(repo, 'suture/abc', commit);
    expect(await git(repo, 'rev-parse', `${commit}^`)).toBe(base);
    expect(await git(repo, 'log', '-1', '--format=%an <%ae>|%cn|%s', commit)).toBe(
      'suture <suture@users.noreply.localhost>|suture|fix: guard the divisor',
    );
    expect(await git(repo, 'diff', '--name-only', base, commit)).toBe('pricing.py');
    expect(await git(repo, 'show', `${commit}:pricing.py`)).toContain('if len(discounts) == 0:');
    expect(await git(repo, 'rev-parse', 'refs/heads/suture/abc')).toBe(commit);
    expect(readFileSync(join(repo, 'pricing.py'), 'utf8')).toBe('uncommitted edit\n');
    expect({ ...(await userState(repo)), branches: before.branches }).toEqual(before);

    const again = await createBranch(repo, 'suture/abc', base).catch((e: Error) => e);
    expect(again).toBeInstanceOf(SutureError);
    expect((again as Error).message).toMatch(/already exists/);
    expect(await git(repo, 'rev-parse', 'suture/abc')).toBe(commit);
    const conflict = await createBranch(repo, 'suture', base).catch((e: Error) => e);
    expect((conflict as Error).message).toMatch(/conflicts with refs\/heads\/suture\/abc/);
  });

  // git's own diff of a working-tree change, made in a scratch copy of the repository
  async function diffAfter(repo: string, change: (dir: string) => void): Promise<string> {
    const scratch = tempDir('suture-scratch-');
    made.push(scratch);
    cpSync(repo, scratch, { recursive: true });
    change(scratch);
    await git(scratch, 'add', '-A');
    return `${await git(scratch, 'diff', '--cached', '--binary')}\n`;
  }
  let typeChange = '';

  const link = (path: string, mode: string, body: string) =>
    `diff --git a/${path} b/${path}\nnew file mode ${mode}\n--- /dev/null\n+++ b/${path}\n@@ -0,0 +1 @@\n+${body}\n\\ No newline at end of file\n`;

  it.each([
    ['a new symlink', () => link('tests/evil.py', '120000', '/etc/passwd'), /symlink at tests\/evil.py/],
    ['a file turned into a symlink', () => typeChange, /symlink at app.py/],
    [
      'a gitlink',
      () =>
        `diff --git a/vendor b/vendor\nnew file mode 160000\nindex 0000000..4b825dc\n--- /dev/null\n+++ b/vendor\n@@ -0,0 +1 @@\n+Subproject commit 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n`,
      /gitlink \(submodule\) at vendor/,
    ],
  ])('refuses a patch creating %s, in one line, creating no branch', async (_name, patch, message) => {
    const { repo, base } = await pricing();
    typeChange = await diffAfter(repo, (dir) => {
      rmSync(join(dir, 'app.py'));
      symlinkSync('/proc/self/environ', join(dir, 'app.py'));
    });
    const err = await commitPatch({ repo, base, patch: patch(), message: 'x' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(SutureError);
    expect((err as SutureError).exitCode).toBe(2);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message.split('\n')).toHaveLength(1);
    expect(await git(repo, 'for-each-ref', '--format=%(refname)')).toBe('refs/heads/main');
  });
});

describe('repository shapes', () => {
  it('never fetches a missing object from a promisor remote (a program the config names)', async () => {
    const { repo, base } = await pricing();
    const trap = makeTrap();
    made.push(trap.dir);
    const ghost = 'deadbeef'.repeat(5);
    writeFileSync(join(repo, '.git', 'refs', 'heads', 'ghost'), `${ghost}\n`);
    await git(repo, 'config', 'core.repositoryformatversion', '1');
    await git(repo, 'config', 'extensions.partialClone', 'origin');
    await git(repo, 'config', 'remote.origin.promisor', 'true');
    await git(repo, 'config', 'remote.origin.url', `ext::${trap.script('promisor-fetch')} %S`);
    await git(repo, 'config', 'protocol.ext.allow', 'always');

    expect(await openRepo(repo)).toBe(repo);
    expect(await resolveRev(repo, 'main')).toBe(base);
    await expect(resolveRev(repo, 'ghost')).rejects.toThrow(/unknown revision ghost/);
    expect(await resolveCommit(repo, 'ghost')).toBeNull();
    expect(await blameLine(repo, ghost, 'pricing.py', 1)).toBeUndefined();
    expect(trap.ran()).toBe('');
  });

  it('reads a shallow clone: blame stops at its boundary', async () => {
    const { repo } = await pricing();
    writeFileSync(join(repo, 'app.py'), `${readFileSync(join(repo, 'app.py'), 'utf8')}# touched\n`);
    await git(repo, 'commit', '-qam', 'second');
    const shallow = tempDir('suture-shallow-');
    made.push(shallow);
    await git(shallow, 'clone', '-q', '--depth', '1', `file://${repo}`, '.');
    const head = await git(shallow, 'rev-parse', 'HEAD');
    const c = await blameLine(shallow, head, 'pricing.py', 6);
    expect(c?.sha).toBe(head);
  });

  it('works in a sha256 repository', async () => {
    const repo = tempDir('suture-sha256-');
    made.push(repo);
    await git(repo, 'init', '-q', '-b', 'main', '--object-format=sha256');
    writeFileSync(join(repo, 'pricing.py'), readFileSync(join(await pricing().then((p) => p.repo), 'pricing.py')));
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-qm', 'initial');
    const base = await resolveRev(repo, 'HEAD');
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    const commit = await commitPatch({ repo, base, patch: FIX, message: 'fix' });
    await createBranch(repo, 'suture/x', commit);
    expect(await git(repo, 'rev-parse', 'suture/x^')).toBe(base);
    expect((await blameLine(repo, commit, 'pricing.py', 5))?.sha).toBe(commit);
    const tree = await exportTree(repo, commit);
    expect(readFileSync(join(tree, 'pricing.py'), 'utf8')).toContain('return 0');
    await removeTree(tree);
  });

  it('works from a linked worktree: its HEAD, the common refs and objects', async () => {
    const { repo, base } = await pricing();
    const wt = join(tempDir('suture-linked-'), 'wt');
    made.push(wt);
    await git(repo, 'worktree', 'add', '-q', '-b', 'feature', wt);
    writeFileSync(join(wt, 'app.py'), '# feature\n');
    await git(wt, 'commit', '-qam', 'feature work');
    const feature = await git(wt, 'rev-parse', 'HEAD');
    expect(await openRepo(wt)).toBe(wt);
    expect(await resolveRev(wt, 'HEAD')).toBe(feature);
    expect(await resolveRev(wt, 'main')).toBe(base);
    const commit = await commitPatch({ repo: wt, base: feature, patch: FIX, message: 'fix' });
    await createBranch(wt, 'suture/wt', commit);
    expect(await git(repo, 'rev-parse', 'suture/wt')).toBe(commit);
  });
});
