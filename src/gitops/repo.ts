/**
 * Delivery through git: suture's commit, its branch, and pushes to origin, all through the git adapter
 * (git.ts), so no program the repository's git configuration or attributes name ever runs. The user's
 * checked-out branch, HEAD, index and working tree are never touched: the commit is built from objects with a
 * temporary index (read-tree → apply --cached → write-tree → commit-tree), and the branch ref is created only
 * once the commit exists, so a failure leaves no half-made branch behind.
 */
import { randomUUID } from 'node:crypto';
import { realpath, rm } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { SutureError } from '../errors.ts';
import { parseRaw } from '../policy/git.ts';
import {
  type GitRepo,
  gitIn,
  gitNetwork,
  gitRepo,
  gitTimeouts,
  promoteObjects,
  readLocalConfigText,
  syncRefs,
  tryGitIn,
} from './git.ts';
import { createLooseRef } from './refstore.ts';
import {
  classifyGitFailure,
  describeGitFailure,
  extraHeaders,
  type GitFailure,
  parseConfigList,
  parseRemoteAddress,
  redactUrls,
} from './remote.ts';
import { linkChangeProblem } from './tree.ts';

export const SUTURE_AUTHOR = { name: 'suture', email: 'suture@users.noreply.localhost' };

/** Author and committer of every commit suture makes. */
export const SUTURE_IDENTITY = {
  GIT_AUTHOR_NAME: SUTURE_AUTHOR.name,
  GIT_AUTHOR_EMAIL: SUTURE_AUTHOR.email,
  GIT_COMMITTER_NAME: SUTURE_AUTHOR.name,
  GIT_COMMITTER_EMAIL: SUTURE_AUTHOR.email,
};

/** Resolves the top level of the git repo at `dir`; exit 2 when it is not one or has no commits. */
export async function openRepo(dir: string): Promise<string> {
  const repo = await gitRepo(dir);
  const head = await tryGitIn(repo, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']);
  if (head.exitCode !== 0) throw new SutureError('NOT_A_REPO', `${dir} is a git repository without commits`);
  return repo.top;
}

export async function resolveRev(repo: string, rev: string): Promise<string> {
  const g = await gitRepo(repo);
  await syncRefs(g);
  const r = rev.startsWith('-')
    ? null
    : await tryGitIn(g, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${rev}^{commit}`]);
  if (r?.exitCode !== 0) throw new SutureError('BAD_INPUT', `unknown revision ${rev} in ${repo}`);
  return r.stdout.trim();
}

/**
 * The commit heal works from: the incident's revision (already shape-checked on intake) when it names one,
 * else HEAD. A revision the repository does not hold is bad input: one line, exit 2.
 */
export async function resolveIncidentRevision(repo: string, revision: string | undefined): Promise<string> {
  if (revision === undefined) return resolveRev(repo, 'HEAD');
  try {
    return await resolveRev(repo, revision);
  } catch (err) {
    if (err instanceof SutureError && err.code === 'BAD_INPUT') {
      throw new SutureError(
        'BAD_INPUT',
        `the incident's revision ${revision} is not a commit in ${repo} (fetch it, or leave revision out to heal HEAD)`,
      );
    }
    throw err;
  }
}

export async function listFiles(repo: string, rev: string): Promise<string[]> {
  const out = await gitIn(await gitRepo(repo), ['ls-tree', '-r', '--name-only', '-z', '--end-of-options', rev]);
  return out.split('\0').filter(Boolean);
}

interface Origin {
  /** Where ls-remote asks (remote.origin.url). */
  fetchUrl: string;
  /** Where pushes go (remote.origin.pushurl, else the url). */
  pushUrl: string;
  headers: [string, string][];
}

/**
 * origin as the repository's config describes it, read as data. Remote helpers (`x::…`), unknown schemes
 * and local paths inside the repository itself are refused: the first run a program, the last would run
 * hooks the repository ships. Null when there is no origin.
 */
async function readOrigin(g: GitRepo): Promise<Origin | null> {
  const config = parseConfigList(await readLocalConfigText(g));
  const url = config.get('remote.origin.url')?.[0];
  if (!url) return null;
  const pushUrl = config.get('remote.origin.pushurl')?.[0] ?? url;
  return {
    fetchUrl: await usableAddress(g, url),
    pushUrl: await usableAddress(g, pushUrl),
    headers: extraHeaders(config),
  };
}

async function usableAddress(g: GitRepo, url: string): Promise<string> {
  const a = parseRemoteAddress(url);
  if (a.kind === 'refused') throw new SutureError('GIT', `origin's address is not used: ${a.reason}`);
  if (a.kind !== 'local') return url;
  // git resolves a relative path against the top level; the shadow's cwd is elsewhere, so pass it absolute.
  const path = resolve(g.top, a.path);
  const real = await realpath(path).catch(() => path);
  for (const own of [g.top, g.gitDir, g.commonDir]) {
    const base = await realpath(own).catch(() => own);
    if (real === base || real.startsWith(base + sep)) {
      throw new SutureError('GIT', `origin's address is not used: ${url} is inside the repository under repair`);
    }
  }
  return path;
}

export async function hasRemote(repo: string, name = 'origin'): Promise<boolean> {
  const config = parseConfigList(await readLocalConfigText(await gitRepo(repo)));
  return Boolean(config.get(`remote.${name}.url`)?.[0]);
}

/** A branch exists locally, as a remote-tracking ref, or (when reachable) on origin itself. */
export async function branchExists(repo: string, branch: string): Promise<boolean> {
  const g = await gitRepo(repo);
  const { refs } = await syncRefs(g);
  if (refs.has(`refs/heads/${branch}`) || refs.has(`refs/remotes/origin/${branch}`)) return true;
  const origin = await readOrigin(g).catch(() => null);
  if (!origin) return false;
  const r = await gitNetwork(g, ['ls-remote', '--heads', origin.fetchUrl, `refs/heads/${branch}`], {
    headers: origin.headers,
  });
  return r.exitCode === 0 && r.stdout.trim() !== '';
}

/**
 * Commits `patch` on top of `base` and returns the commit id; no ref points at it yet: the caller makes it a
 * branch (createBranch) only once the change is accepted. A patch that would leave a symlink or a gitlink in
 * the tree is refused (the sandbox refuses them too; this is the last line before a commit).
 */
export async function commitPatch(opts: {
  repo: string;
  base: string;
  patch: string;
  message: string;
}): Promise<string> {
  const g = await gitRepo(opts.repo);
  const env = { GIT_INDEX_FILE: join(g.shadow, `index-${randomUUID()}`) };
  try {
    await gitIn(g, ['read-tree', '--end-of-options', opts.base], { env });
    const applied = await tryGitIn(g, ['apply', '--cached', '--whitespace=nowarn'], { env, input: opts.patch });
    if (applied.exitCode !== 0) {
      const line = (applied.stderr.trim().split('\n')[0] ?? '').replace(/^error: /, '');
      throw new SutureError('BAD_INPUT', `patch does not apply: ${line}`);
    }
    const tree = (await gitIn(g, ['write-tree'], { env })).trim();
    const changes = parseRaw(await gitIn(g, ['diff-tree', '-r', '-z', '--raw', '--no-renames', opts.base, tree]));
    const problem = linkChangeProblem(changes);
    if (problem) throw new SutureError('BAD_INPUT', `patch refused: ${problem}`);
    const message = opts.message.endsWith('\n') ? opts.message : `${opts.message}\n`;
    const commit = await gitIn(g, ['commit-tree', tree, '-p', opts.base], { input: message, env: SUTURE_IDENTITY });
    return commit.trim();
  } finally {
    await rm(env.GIT_INDEX_FILE, { force: true });
    await rm(`${env.GIT_INDEX_FILE}.lock`, { force: true });
  }
}

/**
 * Copies `commit`'s objects from suture's scratch store into the repository's (promoteObjects) and checks
 * they arrived: the one moment a commit of suture's enters the repository. Only the chosen fix gets here.
 */
export async function adoptCommit(repo: string, commit: string): Promise<void> {
  const g = await gitRepo(repo);
  const isCommit = await tryGitIn(g, ['cat-file', '-e', `${commit}^{commit}`]);
  if (isCommit.exitCode !== 0) throw new SutureError('GIT', `${commit} is not a commit`);
  await promoteObjects(g, commit);
  if (!(await inRepository(repo, commit))) throw new SutureError('GIT', `${commit} did not reach the repository`);
}

/** Whether the repository's own object store (not suture's scratch store) holds commit `oid`. */
export async function inRepository(repo: string, oid: string): Promise<boolean> {
  const r = await tryGitIn(await gitRepo(repo), ['cat-file', '-e', `${oid}^{commit}`], { store: 'repository' });
  return r.exitCode === 0;
}

/** Makes `commit` a new branch of the repository (its objects adopted first); refuses an existing branch. */
export async function createBranch(repo: string, branch: string, commit: string): Promise<void> {
  const g = await gitRepo(repo);
  await adoptCommit(repo, commit).catch((err: Error) => {
    throw new SutureError('GIT', `cannot create ${branch}: ${err.message}`);
  });
  await createLooseRef(g.gitDir, g.commonDir, g.format, `refs/heads/${branch}`, commit);
}

/** The commit the repository's local `refs/heads/<branch>` is at, or null. */
export async function localBranchTip(repo: string, branch: string): Promise<string | null> {
  return (await syncRefs(await gitRepo(repo))).refs.get(`refs/heads/${branch}`) ?? null;
}

/** The branch HEAD names (the checked-out one), or null when HEAD is detached. */
export async function checkedOutBranch(repo: string): Promise<string | null> {
  const { head } = await syncRefs(await gitRepo(repo));
  return head.symref?.startsWith('refs/heads/') ? head.symref.slice('refs/heads/'.length) : null;
}

/** The repository's identity for the journal: the real path of its common git dir (shared by its worktrees). */
export async function repoKey(repo: string): Promise<string> {
  const g = await gitRepo(repo);
  return realpath(g.commonDir).catch(() => g.commonDir);
}

const RETRY_DELAYS_MS = [1000, 3000];

const push = (g: GitRepo, origin: Origin, refspec: string, options: string[] = []) =>
  pushRefspec(g, { url: origin.pushUrl, headers: origin.headers }, refspec, options);

/**
 * `git push` to `to.url` from `g`'s shadow; retried while the failure looks transient (the network, not
 * the request), all attempts within one network timeout. Null on success, else what went wrong.
 */
export async function pushRefspec(
  g: GitRepo,
  to: { url: string; headers?: [string, string][] },
  refspec: string,
  options: string[] = [],
): Promise<GitFailure | null> {
  const deadline = Date.now() + gitTimeouts().networkMs;
  for (let attempt = 0; ; attempt++) {
    const r = await gitNetwork(g, ['push', '-q', ...options, to.url, refspec], {
      headers: to.headers ?? [],
      timeoutMs: Math.max(1, deadline - Date.now()),
    });
    if (r.exitCode === 0) return null;
    const failure = classifyGitFailure(r.stderr, r.timedOut);
    const wait = RETRY_DELAYS_MS[attempt];
    if (!failure.transient || wait === undefined || Date.now() + wait >= deadline) return failure;
    await new Promise((done) => setTimeout(done, wait));
  }
}

/** Pushes a branch to origin; the branch stays local if the push fails, and the one-line error says why. */
export async function pushBranch(repo: string, branch: string): Promise<void> {
  const g = await gitRepo(repo);
  const fail = (why: string) => new SutureError('GIT', `created ${branch} but could not push it to origin: ${why}`);
  const oid = (await syncRefs(g)).refs.get(`refs/heads/${branch}`);
  if (!oid) throw fail(`there is no local branch ${branch}`);
  const origin = await readOrigin(g).catch((err: Error) => {
    throw fail(err.message);
  });
  if (!origin) throw fail('the repository has no origin');
  const failure = await push(g, origin, `${oid}:refs/heads/${branch}`);
  if (failure) throw fail(describeGitFailure(failure));
}

async function requireOrigin(g: GitRepo): Promise<Origin> {
  const origin = await readOrigin(g);
  if (!origin) throw new SutureError('GIT', 'the repository has no origin');
  return origin;
}

/** origin's default branch (what its HEAD names) and that branch's tip; null when origin has no HEAD. */
export async function originHead(repo: string): Promise<{ branch: string; tip: string } | null> {
  const g = await gitRepo(repo);
  const origin = await requireOrigin(g);
  const r = await gitNetwork(g, ['ls-remote', '--symref', origin.fetchUrl, 'HEAD'], { headers: origin.headers });
  if (r.exitCode !== 0) {
    throw new SutureError(
      'GIT',
      `could not ask origin for its default branch: ${describeGitFailure(classifyGitFailure(r.stderr, r.timedOut))}`,
    );
  }
  const symref = /^ref: refs\/heads\/(\S+)\tHEAD$/m.exec(r.stdout)?.[1];
  const tip = /^([0-9a-f]{40,64})\tHEAD$/m.exec(r.stdout)?.[1];
  return symref && tip ? { branch: symref, tip } : null;
}

/** The commit origin's `refs/heads/<branch>` is at, or null when origin has no such branch. */
export async function remoteTip(repo: string, branch: string): Promise<string | null> {
  const g = await gitRepo(repo);
  const origin = await requireOrigin(g);
  const r = await gitNetwork(g, ['ls-remote', origin.fetchUrl, `refs/heads/${branch}`], { headers: origin.headers });
  if (r.exitCode !== 0) {
    throw new SutureError(
      'GIT',
      `could not ask origin for ${branch}: ${describeGitFailure(classifyGitFailure(r.stderr, r.timedOut))}`,
    );
  }
  return /^([0-9a-f]{40,64})\trefs\/heads\//m.exec(r.stdout)?.[1] ?? null;
}

/**
 * Fetches origin's `refs/heads/<branch>` into suture's scratch object store (never the repository's: no ref
 * is written, not even FETCH_HEAD) and returns the commit it is at.
 */
export async function fetchOriginBranch(repo: string, branch: string): Promise<string> {
  const g = await gitRepo(repo);
  const origin = await requireOrigin(g);
  return fetchBranch(g, { url: origin.fetchUrl, headers: origin.headers }, branch, 'origin');
}

/**
 * Fetches `refs/heads/<branch>` of `from.url` into `g`'s object store without writing any ref (so processes
 * sharing a store never contend for a ref lock) and returns the commit the branch is at.
 */
export async function fetchBranch(
  g: GitRepo,
  from: { url: string; headers?: [string, string][] },
  branch: string,
  name = from.url,
): Promise<string> {
  const headers = from.headers ?? [];
  const failed = (what: string, r: { stderr: string; timedOut: boolean }) =>
    new SutureError('GIT', `could not ${what}: ${describeGitFailure(classifyGitFailure(r.stderr, r.timedOut))}`);
  const ls = await gitNetwork(g, ['ls-remote', from.url, `refs/heads/${branch}`], { headers });
  if (ls.exitCode !== 0) throw failed(`ask ${redactUrls(name)} for ${branch}`, ls);
  const tip = /^([0-9a-f]{40,64})\trefs\/heads\//m.exec(ls.stdout)?.[1];
  if (!tip) throw new SutureError('GIT', `${redactUrls(name)} has no branch ${branch}`);
  if ((await tryGitIn(g, ['cat-file', '-e', `${tip}^{commit}`])).exitCode === 0) return tip;
  const r = await gitNetwork(g, ['fetch', '-q', from.url, `refs/heads/${branch}`], { headers });
  if (r.exitCode !== 0) throw failed(`fetch ${branch} from ${redactUrls(name)}`, r);
  // The branch may have moved between the two: then its new tip came with the fetch, not the old one.
  if ((await tryGitIn(g, ['cat-file', '-e', `${tip}^{commit}`])).exitCode !== 0) {
    throw new SutureError('GIT', `${redactUrls(name)}'s ${branch} moved while it was fetched`);
  }
  return tip;
}

/** Whether commit `a` is `b` or one of its ancestors (both must be readable). */
export async function isAncestor(repo: string, a: string, b: string): Promise<boolean> {
  const r = await tryGitIn(await gitRepo(repo), ['merge-base', '--is-ancestor', a, b]);
  if (r.exitCode > 1) throw new SutureError('GIT', `git merge-base failed: ${r.stderr.trim().split('\n')[0]}`);
  return r.exitCode === 0;
}

/** A commit's parents, author and committer emails and message, read as data; null when it is not there. */
export async function readCommit(
  repo: string,
  oid: string,
): Promise<{ parents: string[]; authorEmail: string; committerEmail: string; message: string } | null> {
  const r = await tryGitIn(await gitRepo(repo), ['cat-file', 'commit', oid]);
  if (r.exitCode !== 0) return null;
  const end = r.stdout.indexOf('\n\n');
  const header = (end < 0 ? r.stdout : r.stdout.slice(0, end)).split('\n');
  const email = (who: string) =>
    header.map((l) => new RegExp(`^${who} .*<([^>]*)> \\d+ [+-]\\d{4}$`).exec(l)?.[1]).find((e) => e !== undefined) ??
    '';
  return {
    parents: header.filter((l) => /^parent [0-9a-f]{40,64}$/.test(l)).map((l) => l.slice('parent '.length)),
    authorEmail: email('author'),
    committerEmail: email('committer'),
    message: end < 0 ? '' : r.stdout.slice(end + 2),
  };
}

/**
 * Pushes `commit` to origin's `refs/heads/<branch>` under a lease: `expected` null means the branch must not
 * exist there yet, a commit id that it must still be at (anything else: refused, nothing overwritten).
 * Transient failures are retried within the network timeout; null on success, else what went wrong.
 */
export async function pushWithLease(
  repo: string,
  branch: string,
  commit: string,
  expected: string | null,
): Promise<GitFailure | null> {
  const g = await gitRepo(repo);
  const origin = await requireOrigin(g);
  return push(g, origin, `${commit}:refs/heads/${branch}`, [
    `--force-with-lease=refs/heads/${branch}:${expected ?? ''}`,
  ]);
}

/**
 * Auto mode's merge: fast-forward origin's copy of the checked-out branch from `base` to the fix commit,
 * atomically (--force-with-lease pins the expected old value, so a branch that moved on, or local commits
 * not yet on origin, mean no merge). The local checkout is never touched; Argo CD follows origin.
 */
export async function mergeFix(opts: {
  repo: string;
  base: string;
  commit: string;
  push: boolean;
  /** The branch to fast-forward on origin; default: the checked-out one. */
  target?: string;
}): Promise<{
  merged: boolean;
  detail: string;
}> {
  const g = await gitRepo(opts.repo);
  const branch = opts.target ?? (await checkedOutBranch(opts.repo));
  if (!branch) return { merged: false, detail: 'HEAD is detached: no branch to merge into' };
  if (!opts.push) return { merged: false, detail: '--no-push: origin is not updated' };
  let origin: Origin | null;
  try {
    origin = await readOrigin(g);
  } catch (err) {
    return { merged: false, detail: (err as Error).message };
  }
  if (!origin) return { merged: false, detail: `no origin to merge into (the checked-out ${branch} is never changed)` };
  const failure = await push(g, origin, `${opts.commit}:refs/heads/${branch}`, [
    `--force-with-lease=refs/heads/${branch}:${opts.base}`,
  ]);
  if (!failure) return { merged: true, detail: `origin/${branch} fast-forwarded to ${opts.commit.slice(0, 12)}` };
  if (failure.kind === 'non-fast-forward') {
    return {
      merged: false,
      detail: `origin/${branch} is not at the base revision ${opts.base.slice(0, 12)} (${failure.line})`,
    };
  }
  return { merged: false, detail: `origin/${branch} was not updated: ${describeGitFailure(failure)}` };
}
