/**
 * The history questions the revert strategy asks (src/gitops/history.ts), through the git adapter: recent
 * commits of a file, one commit's diff of it — on a repository whose config and attributes name a program
 * for every diff, none of which runs; and a file name with pathspec magic in it is that file.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeGitRepos } from '../../src/gitops/git.ts';
import { commitFileDiff, commitsTouching } from '../../src/gitops/history.ts';
import { cleanup, commitDated, git, tempDir } from '../helpers/repo.ts';
import { armRepo, makeTrap } from './hostile.ts';

const made: string[] = [];
afterAll(async () => {
  await closeGitRepos();
  cleanup(...made);
});

const now = () => Math.floor(Date.now() / 1000);

describe('history through the adapter', () => {
  it('recent commits of one file, newest first, and what one of them did to it; no repository program runs', async () => {
    const repo = tempDir('suture-history-');
    const trap = makeTrap();
    made.push(repo, trap.dir);
    await git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'pricing.py'), 'def f(x):\n    return 1 / x\n');
    writeFileSync(join(repo, 'p*.py'), 'A = 1\n');
    const first = await commitDated(repo, 100, 'first');
    writeFileSync(join(repo, 'pricing.py'), 'def f(x):\n    if not x:\n        return 0\n    return 1 / x\n');
    const second = await commitDated(repo, 10, 'guard');
    writeFileSync(join(repo, 'other.py'), 'B = 2\n');
    await commitDated(repo, 5, 'other');
    writeFileSync(join(repo, 'pricing.py'), 'def f(x):\n    return 1 / x\n');
    const third = await commitDated(repo, 1, 'simplify');
    // From here on only suture runs git in it: attributes name a diff driver and a filter for every file.
    await armRepo(repo, trap);
    const head = await git(repo, 'rev-parse', 'HEAD');

    const recent = await commitsTouching(repo, head, 'pricing.py', now() - 48 * 3600);
    expect(recent.map((c) => [c.sha, c.subject])).toEqual([
      [third, 'simplify'],
      [second, 'guard'],
    ]);
    expect(recent[0]!.committedAt).toBeGreaterThan(now() - 2 * 3600);
    expect((await commitsTouching(repo, head, 'pricing.py', 0)).map((c) => c.sha)).toEqual([third, second, first]);
    // `p*.py` is that one file, not a glob over pricing.py.
    expect((await commitsTouching(repo, head, 'p*.py', 0)).map((c) => c.sha)).toEqual([first]);

    const diff = await commitFileDiff(repo, third, 'pricing.py');
    expect(diff).toContain('-    if not x:\n-        return 0\n');
    expect(diff).toMatch(/^--- a\/pricing\.py$/m);
    expect(await commitFileDiff(repo, first, 'pricing.py')).toMatch(/^--- \/dev\/null$/m);
    expect(trap.ran(), 'programs named by the repository ran').toBe('');
  });

  it('what git cannot answer is empty, not an exception', async () => {
    const repo = tempDir('suture-history-');
    made.push(repo);
    await git(repo, 'init', '-q', '-b', 'main');
    writeFileSync(join(repo, 'a.py'), 'A = 1\n');
    const sha = await commitDated(repo, 1, 'a');
    expect(await commitsTouching(repo, '0'.repeat(40), 'a.py', 0)).toEqual([]);
    expect(await commitFileDiff(repo, '0'.repeat(40), 'a.py')).toBeUndefined();
    expect(await commitsTouching(repo, sha, 'missing.py', 0)).toEqual([]);
  });
});
