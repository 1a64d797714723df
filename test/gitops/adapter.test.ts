/**
 * Each git-touching step of a heal, called on its own against an armed repository (hostile.ts): tree
 * export, blame, the policy diff, commit, branch, branch lookup on origin, push and merge. None may run a
 * program the repository's git config or attributes name, and each still does its job.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { blameLine } from '../../src/evidence/history.ts';
import { closeGitRepos } from '../../src/gitops/git.ts';
import {
  branchExists,
  commitPatch,
  createBranch,
  listFiles,
  mergeFix,
  openRepo,
  pushBranch,
  resolveRev,
} from '../../src/gitops/repo.ts';
import { checkChange } from '../../src/policy/check.ts';
import { exportTree, removeTree } from '../../src/sandbox/trees.ts';
import { addOrigin, cleanup, git, repoFromService, SERVICES } from '../helpers/repo.ts';
import { armRepo, FIX, makeTrap, type Trap } from './hostile.ts';

let repo: string;
let remote: string;
let trap: Trap;
let base: string;
const made: string[] = [];

beforeAll(async () => {
  process.env.GIT_CONFIG_GLOBAL = '/dev/null';
  repo = await repoFromService('pricing-api');
  remote = await addOrigin(repo);
  trap = makeTrap();
  made.push(repo, remote, trap.dir);
  await armRepo(repo, trap, { originPath: remote });
  base = await git(remote, 'rev-parse', 'main');
});
afterAll(async () => {
  await closeGitRepos();
  cleanup(...made);
  delete process.env.GIT_CONFIG_GLOBAL;
});

let ranBefore = '';
beforeEach(() => {
  ranBefore = trap.ran();
});
const ranSince = () => trap.ran().slice(ranBefore.length);

describe('on a repository whose git config and attributes name programs', () => {
  it('opens it and resolves revisions', async () => {
    expect(await openRepo(repo)).toBe(repo);
    expect(await resolveRev(repo, 'HEAD')).toBe(base);
    expect(await resolveRev(repo, 'main~1')).toBe(await git(remote, 'rev-parse', 'main~1'));
    expect(await listFiles(repo, base)).toContain('pricing.py');
    expect(ranSince()).toBe('');
  });

  it('exports the tree as the stored bytes', async () => {
    const tree = await exportTree(repo, base);
    try {
      expect(ranSince()).toBe('');
      expect(readFileSync(join(tree, 'pricing.py'))).toEqual(readFileSync(join(SERVICES, 'pricing-api', 'pricing.py')));
      expect(lstatSync(join(tree, '.git'), { throwIfNoEntry: false })).toBeUndefined();
    } finally {
      await removeTree(tree);
    }
  });

  it('blames the crashing line without the textconv driver', async () => {
    const c = await blameLine(repo, base, 'pricing.py', 6);
    expect(ranSince()).toBe('');
    expect(c?.sha).toMatch(/^[0-9a-f]{40}$/);
    expect(c?.line).toBe(6);
  });

  it('commits, judges, branches, pushes and merges', async () => {
    const commit = await commitPatch({ repo, base, patch: FIX, message: 'fix: guard the divisor' });
    expect(ranSince()).toBe('');
    const decision = await checkChange({ repoDir: repo, base, head: commit });
    expect(ranSince()).toBe('');
    expect(decision.decision).not.toBe('deny');

    expect(await branchExists(repo, 'suture/test')).toBe(false); // asks origin with ls-remote
    await createBranch(repo, 'suture/test', commit);
    await pushBranch(repo, 'suture/test');
    expect(ranSince()).toBe('');
    expect(await git(remote, 'rev-parse', 'suture/test')).toBe(commit);

    const merged = await mergeFix({ repo, base, commit, push: true });
    expect(ranSince()).toBe('');
    expect(merged).toMatchObject({ merged: true });
    expect(await git(remote, 'rev-parse', 'main')).toBe(commit);
  });

  it('finds a branch that exists only on origin', async () => {
    await git(remote, 'branch', 'only-on-origin', base);
    expect(await branchExists(repo, 'only-on-origin')).toBe(true);
    expect(ranSince()).toBe('');
  });
});
