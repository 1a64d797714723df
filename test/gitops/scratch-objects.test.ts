/**
 * Issue 11, item 4: the gate has no side effects in the user's repository. Candidates are committed in
 * suture's scratch object store (the repository's store as its alternate); only the chosen fix's objects
 * enter the repository, when its branch is created.
 */
import { mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alternatesLine, closeGitRepos } from '../../src/gitops/git.ts';
import { commitPatch, createBranch } from '../../src/gitops/repo.ts';
import { checkChange } from '../../src/policy/check.ts';
import { cleanup, git, repoFromService, tempDir } from '../helpers/repo.ts';
import { FIX } from './hostile.ts';

const made: string[] = [];
afterAll(async () => {
  await closeGitRepos();
  cleanup(...made);
});

/** The pricing-api fix with another return value: a distinct candidate. */
const variant = (value: string) => FIX.replace('return 0', `return ${value}`);

/** Every object the repository's own store holds (loose and packed), by id. */
async function storeObjects(repo: string): Promise<Set<string>> {
  const out = await git(repo, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname)');
  return new Set(out.split('\n').filter(Boolean));
}

describe('candidates judged by the policy leave nothing in the repository', () => {
  it('three gated candidates, one chosen: only the chosen commit, its tree and its blob enter the store', async () => {
    const repo = await repoFromService('pricing-api');
    made.push(repo);
    const base = await git(repo, 'rev-parse', 'HEAD');
    const before = await storeObjects(repo);
    const countBefore = await git(repo, 'count-objects');

    const commits: string[] = [];
    for (const value of ['0', '0.0', 'None']) {
      const commit = await commitPatch({ repo, base, patch: variant(value), message: `fix ${value}` });
      // the policy reads the candidate's commit through the same shadow
      const d = await checkChange({ repoDir: repo, base, head: commit });
      expect(d.decision).not.toBe('deny');
      commits.push(commit);
    }
    expect(await git(repo, 'count-objects')).toBe(countBefore);
    expect(await storeObjects(repo)).toEqual(before);

    const chosen = commits[1]!;
    await createBranch(repo, 'suture/chosen', chosen);
    const after = await storeObjects(repo);
    const added = [...after].filter((o) => !before.has(o)).sort();
    const expected = (await git(repo, 'rev-list', '--objects', '--no-object-names', chosen, '--not', base))
      .split('\n')
      .sort();
    // the commit, its root tree, the changed blob: nothing of the two others
    expect(added).toEqual(expected);
    expect(added).toHaveLength(3);
    for (const other of [commits[0]!, commits[2]!]) expect(after.has(other)).toBe(false);
    expect(await git(repo, 'fsck', '--connectivity-only', '--no-dangling')).toBe('');
  });

  it('works when the repository path needs quoting in an alternates file', async () => {
    const repo = await repoFromService('pricing-api');
    const parent = tempDir('suture-quoted-');
    made.push(repo, parent);
    const odd = join(parent, 'a "quoted"\\ dir\twith\ttabs');
    mkdirSync(odd);
    const moved = join(odd, 'repo');
    renameSync(repo, moved);
    const base = await git(moved, 'rev-parse', 'HEAD');
    const commit = await commitPatch({ repo: moved, base, patch: FIX, message: 'fix' });
    await createBranch(moved, 'suture/q', commit);
    expect(await git(moved, 'rev-parse', `suture/q^`)).toBe(base);
  });
});

describe('alternatesLine', () => {
  it.each([
    ['/plain/path', '/plain/path'],
    ['/with space/é', '/with space/é'],
    ['/a"b', '"/a\\"b"'],
    ['/a\\b', '"/a\\\\b"'],
    ['/a\nb\tc', '"/a\\012b\\011c"'],
    ['#not-a-comment', '"#not-a-comment"'],
  ])('%j → %j', (path, line) => {
    expect(alternatesLine(path)).toBe(line);
  });
});
