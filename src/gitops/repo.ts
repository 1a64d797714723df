/**
 * The git adapter (simple-git). Delivery never touches the user's checked-out branch, HEAD or working tree:
 * commits are made in a temporary worktree and the branch ref is created only once the commit exists, so
 * a failure leaves no half-made branch behind.
 */
import { rm } from 'node:fs/promises';
import { type SimpleGit, simpleGit } from 'simple-git';
import { SutureError } from '../errors.ts';
import { applyPatch, tempDir } from '../sandbox/trees.ts';

export const SUTURE_AUTHOR = { name: 'suture', email: 'suture@users.noreply.localhost' };

// The repo's own hooks never run on suture's commits and pushes (they are the user's, for humans).
function git(dir: string): SimpleGit {
  return simpleGit({ baseDir: dir, config: ['core.hooksPath=/dev/null'], unsafe: { allowUnsafeHooksPath: true } });
}

/** Resolves the top level of the git repo at `dir`; exit 2 when it is not one. */
export async function openRepo(dir: string): Promise<string> {
  try {
    const top = (await git(dir).revparse(['--show-toplevel'])).trim();
    await git(top).revparse(['--verify', 'HEAD^{commit}']);
    return top;
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    if (/ENOENT|does not exist|cannot use simple-git on a directory that does not exist/i.test(msg)) {
      throw new SutureError('NOT_A_REPO', `repo directory not found: ${dir}`);
    }
    if (/needed a single revision|unknown revision|bad revision/i.test(msg)) {
      throw new SutureError('NOT_A_REPO', `${dir} is a git repository without commits`);
    }
    throw new SutureError('NOT_A_REPO', `${dir} is not a git repository`);
  }
}

export async function resolveRev(repo: string, rev: string): Promise<string> {
  try {
    return (await git(repo).revparse(['--verify', `${rev}^{commit}`])).trim();
  } catch {
    throw new SutureError('BAD_INPUT', `unknown revision ${rev} in ${repo}`);
  }
}

export async function listFiles(repo: string, rev: string): Promise<string[]> {
  const out = await git(repo).raw(['ls-tree', '-r', '--name-only', '-z', rev]);
  return out.split('\0').filter(Boolean);
}

export async function hasRemote(repo: string, name = 'origin'): Promise<boolean> {
  return (await git(repo).getRemotes()).some((r) => r.name === name);
}

/** A branch exists locally, as a remote-tracking ref, or (when reachable) on origin itself. */
export async function branchExists(repo: string, branch: string): Promise<boolean> {
  const g = git(repo);
  const refs = await g.raw([
    'for-each-ref',
    '--format=%(refname)',
    `refs/heads/${branch}`,
    `refs/remotes/origin/${branch}`,
  ]);
  if (refs.trim()) return true;
  if (!(await hasRemote(repo))) return false;
  try {
    return (await g.raw(['ls-remote', '--heads', 'origin', branch])).trim() !== '';
  } catch {
    return false;
  }
}

/**
 * Commits `patch` on top of `base` in a temporary worktree and returns the commit id. No ref points at it
 * yet: the caller makes it a branch (createBranch) only once the change is accepted.
 */
export async function commitPatch(opts: {
  repo: string;
  base: string;
  patch: string;
  message: string;
}): Promise<string> {
  const g = git(opts.repo);
  const wt = await tempDir('worktree');
  await rm(wt, { recursive: true, force: true });
  await g.raw(['worktree', 'add', '--detach', wt, opts.base]);
  try {
    await applyPatch(wt, opts.patch);
    const w = simpleGit({
      baseDir: wt,
      config: ['core.hooksPath=/dev/null', `user.name=${SUTURE_AUTHOR.name}`, `user.email=${SUTURE_AUTHOR.email}`],
      unsafe: { allowUnsafeHooksPath: true },
    });
    await w.raw(['add', '-A']);
    await w.raw(['commit', '-q', '--no-verify', '-m', opts.message]);
    return (await w.revparse(['HEAD'])).trim();
  } finally {
    await g.raw(['worktree', 'remove', '--force', wt]).catch(() => rm(wt, { recursive: true, force: true }));
    await g.raw(['worktree', 'prune']).catch(() => undefined);
  }
}

export async function createBranch(repo: string, branch: string, commit: string): Promise<void> {
  await git(repo).raw(['branch', branch, commit]);
}

/** Pushes a branch to origin; the branch stays local if the push fails, and the error says so. */
export async function pushBranch(repo: string, branch: string): Promise<void> {
  try {
    await git(repo).raw(['push', '-q', 'origin', `refs/heads/${branch}:refs/heads/${branch}`]);
  } catch (err) {
    throw new SutureError(
      'GIT',
      `created ${branch} but could not push it to origin: ${(err as Error).message.split('\n')[0]}`,
    );
  }
}

/**
 * Auto mode's merge: fast-forward origin's copy of the checked-out branch from `base` to the fix commit,
 * atomically (--force-with-lease pins the expected old value, so a branch that moved on, or local commits
 * not yet on origin, mean no merge). The local checkout is never touched; Argo CD follows origin.
 */
export async function mergeFix(opts: { repo: string; base: string; commit: string; push: boolean }): Promise<{
  merged: boolean;
  detail: string;
}> {
  const g = git(opts.repo);
  const branch = (await g.raw(['symbolic-ref', '--short', '-q', 'HEAD']).catch(() => '')).trim();
  if (!branch) return { merged: false, detail: 'HEAD is detached: no branch to merge into' };
  if (!opts.push) return { merged: false, detail: '--no-push: origin is not updated' };
  if (!(await hasRemote(opts.repo))) {
    return { merged: false, detail: `no origin to merge into (the checked-out ${branch} is never changed)` };
  }
  try {
    await g.raw([
      'push',
      '-q',
      `--force-with-lease=refs/heads/${branch}:${opts.base}`,
      'origin',
      `${opts.commit}:refs/heads/${branch}`,
    ]);
    return { merged: true, detail: `origin/${branch} fast-forwarded to ${opts.commit.slice(0, 12)}` };
  } catch (err) {
    return {
      merged: false,
      detail: `origin/${branch} is not at the base revision ${opts.base.slice(0, 12)} (${(err as Error).message.split('\n')[0]})`,
    };
  }
}
