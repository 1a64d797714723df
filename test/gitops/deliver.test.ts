/**
 * Issue 11, items 1, 6 and 8: the delivery core against real repositories and real remotes (bare remotes on
 * disk, one served by git http-backend on loopback): exactly one branch, commit and proposal per
 * fingerprint, a process killed between steps resumed from the journal, two processes at once, a branch
 * suture did not create never overwritten, a protected branch refused in one line, and origin's default
 * branch moving on (rebased: needs re-verify, or a conflict reported).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { checkOrigin, decideBranchPush, localFastForward, originMoved } from '../../src/gitops/deliver.ts';
import { closeGitRepos } from '../../src/gitops/git.ts';
import { Journal } from '../../src/gitops/journal.ts';
import { commitPatch, pushWithLease, repoKey } from '../../src/gitops/repo.ts';
import { commitMessage } from '../../src/pipeline/commit-message.ts';
import { cleanup, git, ROOT, repoFromService, tempDir } from '../helpers/repo.ts';
import { type DriverInput, type DriverOutput, runDriver, testPlan } from './deliver-driver.ts';
import { providerCalls } from './fake-provider.ts';
import { FIX } from './hostile.ts';
import { gitHttpServer, isolatedGit } from './servers.ts';

const made: string[] = [];
const servers = isolatedGit();
afterAll(async () => {
  await closeGitRepos();
  cleanup(...made);
});

const FP = '0123456789abcdef';
const BRANCH = `suture/${FP.slice(0, 12)}`;

interface Setup {
  repo: string;
  origin: string;
  base: string;
  state: string;
  providers: string;
  input: DriverInput;
}

/** pricing-api with a bare origin (main pushed), a state dir and a fake provider's dir. */
async function setup(): Promise<Setup> {
  const repo = await repoFromService('pricing-api');
  const root = tempDir('suture-deliver-');
  made.push(repo, root);
  const origin = join(root, 'origin.git');
  mkdirSync(origin);
  await git(origin, 'init', '-q', '--bare', '-b', 'main');
  await git(repo, 'remote', 'add', 'origin', origin);
  await git(repo, 'push', '-q', 'origin', 'main');
  const base = await git(repo, 'rev-parse', 'HEAD');
  const state = join(root, 'state');
  const providers = join(root, 'providers');
  return { repo, origin, base, state, providers, input: { repo, base, patch: FIX, state, providers } };
}

/** The driver in a child process, as `suture serve` runs heals: its outcome, or how it died. */
async function child(input: DriverInput, env: Record<string, string> = {}) {
  const r = await execa(process.execPath, [join(ROOT, 'test', 'gitops', 'deliver-driver.ts'), JSON.stringify(input)], {
    reject: false,
    env: { GIT_CONFIG_GLOBAL: '/dev/null', GIT_CONFIG_NOSYSTEM: '1', ...env },
    timeout: 60_000,
  });
  const out = r.stdout.trim() ? (JSON.parse(r.stdout.trim().split('\n').at(-1)!) as DriverOutput) : null;
  return { out, signal: r.signal ?? null, stderr: r.stderr };
}

/** Commits suture made that are in the repository's own object store (referenced or not). */
async function sutureCommits(repo: string): Promise<string[]> {
  const all = await git(repo, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype)');
  const commits = all
    .split('\n')
    .filter((l) => l.endsWith(' commit'))
    .map((l) => l.split(' ')[0]!);
  const out: string[] = [];
  for (const c of commits)
    if ((await git(repo, 'log', '-1', '--format=%ae', c)) === 'suture@users.noreply.localhost') out.push(c);
  return out;
}

async function remoteSutureBranches(origin: string): Promise<string[]> {
  return (await git(origin, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/suture/'))
    .split('\n')
    .filter(Boolean);
}

describe('exactly once', () => {
  it('a second delivery of the fingerprint is a duplicate: one branch, one commit, one proposal', async () => {
    const s = await setup();
    const first = await runDriver(s.input);
    expect(first).toMatchObject({
      kind: 'delivered',
      branch: BRANCH,
      resumed: false,
      proposal: `fake://proposals/${FP}`,
    });
    const second = await runDriver(s.input);
    expect(second).toMatchObject({ kind: 'duplicate', branch: BRANCH });
    expect(second.reason).toMatch(/is open for this fingerprint/);

    expect(await remoteSutureBranches(s.origin)).toEqual([BRANCH]);
    expect(await git(s.origin, 'rev-list', '--count', `main..${BRANCH}`)).toBe('1');
    expect(await git(s.origin, 'rev-parse', BRANCH)).toBe(first.commit);
    expect(await sutureCommits(s.repo)).toEqual([first.commit]);
    expect(providerCalls(s.providers).filter((c) => c.startsWith('created'))).toEqual([`created ${BRANCH}`]);
    // the duplicate counted the re-occurrence on the open proposal
    expect(providerCalls(s.providers)).toContain(`reoccurred ${BRANCH}`);
  });

  it.each(['after-commit', 'after-branch', 'after-push', 'after-propose'])(
    'killed %s (SIGKILL), the next run resumes from the journal: no second commit, one proposal',
    async (point) => {
      const s = await setup();
      const killed = await child(s.input, { SUTURE_TEST_CRASH_AT: point });
      expect(killed.signal, killed.stderr).toBe('SIGKILL');
      expect(killed.out).toBeNull();
      const [made1] = await sutureCommits(s.repo);
      expect(made1).toBeDefined();

      const next = await child(s.input);
      expect(next.out, next.stderr).toMatchObject({ kind: 'delivered', resumed: true, commit: made1 });
      expect(await sutureCommits(s.repo)).toEqual([made1]);
      expect(await remoteSutureBranches(s.origin)).toEqual([BRANCH]);
      expect(await git(s.origin, 'rev-parse', BRANCH)).toBe(made1);
      expect(providerCalls(s.providers).filter((c) => c.startsWith('created'))).toEqual([`created ${BRANCH}`]);

      const third = await child(s.input);
      expect(third.out).toMatchObject({ kind: 'duplicate' });
      expect(await sutureCommits(s.repo)).toEqual([made1]);
      const j = new Journal(s.state);
      try {
        const d = j.open(await repoKey(s.repo), FP)!;
        expect(d).toMatchObject({ finished: true, phase: 'proposed', commit: made1 });
        expect(j.events(d.id).map(([what]) => what)).toContain('resumed');
      } finally {
        j.close();
      }
    },
  );

  async function staleClaim(s: Setup, owner: string): Promise<void> {
    const j = new Journal(s.state, owner);
    j.claim(testPlan({ repo: await repoKey(s.repo), base: s.base, commit: 'f'.repeat(40) }));
    j.close();
  }

  it('killed before its commit reached the repository: nothing to resume, the next run delivers afresh', async () => {
    const s = await setup();
    // this host, a pid that is not running: its commit lived in that process's scratch store, now gone
    await staleClaim(s, `${hostname()}:999999999:1`);
    const out = await child(s.input);
    expect(out.out, out.stderr).toMatchObject({ kind: 'delivered', resumed: false });
    expect(await remoteSutureBranches(s.origin)).toEqual([BRANCH]);
  });

  it("another host's recent claim is respected (its process may be alive): duplicate, nothing delivered", async () => {
    const s = await setup();
    await staleClaim(s, 'another-host:4242:1');
    const out = await child(s.input);
    expect(out.out).toMatchObject({ kind: 'duplicate' });
    expect(out.out?.reason).toMatch(/another heal is delivering/);
    expect(await remoteSutureBranches(s.origin)).toEqual([]);
  });

  it('two processes delivering the same fingerprint at once: one delivers, the other is a duplicate', async () => {
    const s = await setup();
    const both = await Promise.all([child(s.input), child(s.input)]);
    const kinds = both.map((b) => b.out?.kind).sort();
    expect(kinds, both.map((b) => b.stderr).join('\n')).toEqual(['delivered', 'duplicate']);
    expect(await remoteSutureBranches(s.origin)).toEqual([BRANCH]);
    expect(await git(s.origin, 'rev-list', '--count', `main..${BRANCH}`)).toBe('1');
    expect(providerCalls(s.providers).filter((c) => c.startsWith('created'))).toHaveLength(1);
  });

  it('two concurrent pushes of different fixes to the same remote both land', async () => {
    const s = await setup();
    const other = 'fedcba9876543210';
    const both = await Promise.all([child(s.input), child({ ...s.input, fingerprint: other })]);
    expect(both.map((b) => b.out?.kind)).toEqual(['delivered', 'delivered']);
    expect((await remoteSutureBranches(s.origin)).sort()).toEqual([BRANCH, `suture/${other.slice(0, 12)}`].sort());
  });
});

describe('auto mode merges through the provider, never by a push of its own', () => {
  it('asks the provider to merge the verified commit', async () => {
    const s = await setup();
    const out = await runDriver({ ...s.input, mode: 'auto' });
    expect(out).toMatchObject({ kind: 'delivered', merge: 'merged' });
    expect(providerCalls(s.providers)).toContain(`merge ${BRANCH} ${out.commit}`);
    // the fake provider merged "on its platform": origin's main was not pushed by the core
    expect(await git(s.origin, 'rev-parse', 'main')).toBe(s.base);
  });

  it('policy review: no merge is asked for', async () => {
    const s = await setup();
    const out = await runDriver({ ...s.input, mode: 'auto', decision: 'review' });
    expect(out).toMatchObject({ kind: 'delivered', merge: null });
    expect(providerCalls(s.providers).some((c) => c.startsWith('merge'))).toBe(false);
  });

  it('the local fast-forward merges only when the operator allows it, under a lease', async () => {
    const s = await setup();
    const out = await runDriver({ ...s.input, providers: undefined });
    const pr = { number: null, url: 'x', branch: BRANCH, occurrences: 1, draft: false };
    const off = await localFastForward(s.repo, {})(pr, { auto: true, sha: out.commit! });
    expect(off).toMatchObject({ state: 'blocked' });
    expect(off.detail).toMatch(/SUTURE_LOCAL_MERGE=fast-forward/);
    expect(await git(s.origin, 'rev-parse', 'main')).toBe(s.base);
    const on = await localFastForward(s.repo, { SUTURE_LOCAL_MERGE: 'fast-forward' })(pr, {
      auto: true,
      sha: out.commit!,
    });
    expect(on).toMatchObject({ state: 'merged' });
    expect(await git(s.origin, 'rev-parse', 'main')).toBe(out.commit);
  });
});

describe('a branch suture did not create is never overwritten', () => {
  const sutureMessage = () =>
    commitMessage(
      { id: `${FP.slice(0, 12)}-1`, service: 'pricing-api', summary: 'x', fingerprint: FP },
      { id: 'c9', summary: 'older fix', strategy: 'template:zero-division', confidence: 0.5 },
      'pass',
    );

  it("a human's commit on origin's suture branch: refused in one line, left as it is", async () => {
    const s = await setup();
    const clone = tempDir('suture-clone-');
    made.push(clone);
    await git(clone, 'clone', '-q', s.origin, '.');
    await git(clone, 'checkout', '-qb', BRANCH);
    writeFileSync(join(clone, 'NOTES.md'), 'a human was here\n');
    await git(clone, 'add', 'NOTES.md');
    await git(clone, 'commit', '-qm', sutureMessage()); // even with suture's trailers copied in
    await git(clone, 'push', '-q', 'origin', BRANCH);
    const human = await git(clone, 'rev-parse', 'HEAD');

    // the early duplicate check would stop at the existing branch; a heal racing it reaches the push
    expect(await runDriver(s.input)).toMatchObject({ kind: 'duplicate' });
    const out = await runDriverDeliverOnly(s);
    expect(out.kind).toBe('error');
    expect(out.reason).toMatch(
      new RegExp(
        `^created ${BRANCH} but could not push it to origin: origin's ${BRANCH} is at ${human.slice(0, 12)}, which suture did not create`,
      ),
    );
    expect(out.reason!.split('\n')).toHaveLength(1);
    expect(await git(s.origin, 'rev-parse', BRANCH)).toBe(human);
  });

  it('a tip suture made and journaled is replaced, under a lease on that tip', async () => {
    const s = await setup();
    const key = await repoKey(s.repo);
    const older = await commitPatch({ repo: s.repo, base: s.base, patch: FIX, message: sutureMessage() });
    expect(await pushWithLease(s.repo, BRANCH, older, null)).toBeNull();
    // the journal remembers creating it (an earlier delivery, since closed)
    const j = new Journal(s.state);
    const claim = j.claim(testPlan({ repo: key, base: s.base, commit: older, candidate: 'c9' }));
    j.advance(claim.delivery, 'pushed');
    j.closeDelivery(claim.delivery, 'its proposal was closed');
    j.close();

    // a direct deliver (the early duplicate check would stop at the existing branch): replaced
    const out = await runDriverDeliverOnly(s);
    expect(out.kind, out.reason).toBe('delivered');
    expect(await git(s.origin, 'rev-parse', BRANCH)).toBe(out.commit);
    expect(out.commit).not.toBe(older);
  });

  it('decides from the tip, its marks and the journal together', () => {
    const base = { branch: BRANCH, commit: 'a'.repeat(40), fingerprint: FP, journaled: new Set(['b'.repeat(40)]) };
    const marked = {
      trailers: { 'Suture-Fingerprint': FP },
      authorEmail: 'suture@users.noreply.localhost',
      committerEmail: 'suture@users.noreply.localhost',
    };
    expect(decideBranchPush({ ...base, remoteTip: null, tip: null })).toEqual({ action: 'create' });
    expect(decideBranchPush({ ...base, remoteTip: 'a'.repeat(40), tip: null })).toEqual({ action: 'up-to-date' });
    expect(decideBranchPush({ ...base, remoteTip: 'b'.repeat(40), tip: marked })).toEqual({
      action: 'replace',
      lease: 'b'.repeat(40),
    });
    for (const tip of [
      null,
      { ...marked, trailers: {} },
      { ...marked, trailers: { 'Suture-Fingerprint': 'fedcba9876543210' } },
      { ...marked, authorEmail: 'mallory@example.com' },
      { ...marked, committerEmail: 'mallory@example.com' },
    ]) {
      expect(decideBranchPush({ ...base, remoteTip: 'b'.repeat(40), tip }).action).toBe('refuse');
    }
    // marked, but not a commit the journal saw suture make
    expect(decideBranchPush({ ...base, remoteTip: 'c'.repeat(40), tip: marked }).action).toBe('refuse');
  });
});

/** deliver() on its own, skipping the early duplicate check (as a heal racing another would reach it). */
async function runDriverDeliverOnly(s: Setup): Promise<DriverOutput> {
  const { deliver } = await import('../../src/gitops/deliver.ts');
  const journal = new Journal(s.state);
  try {
    const commit = await commitPatch({
      repo: s.repo,
      base: s.base,
      patch: FIX.replace('return 0', 'return 0.0'),
      message: commitMessage(
        { id: `${FP.slice(0, 12)}-2`, service: 'pricing-api', summary: 'y', fingerprint: FP },
        { id: 'c1', summary: 'newer fix', strategy: 'template:zero-division', confidence: 0.9 },
        'pass',
      ),
    });
    const out = await deliver(
      { repo: s.repo, journal, provider: null, progress: () => undefined },
      testPlan({ repo: await repoKey(s.repo), base: s.base, commit }),
      'main',
    );
    return out.kind === 'delivered' ? { kind: 'delivered', commit: out.delivery.commit } : { kind: 'duplicate' };
  } catch (err) {
    return { kind: 'error', reason: (err as Error).message };
  } finally {
    journal.close();
  }
}

describe('origin refuses the update', () => {
  it('a protected branch (pre-receive hook): one line, nothing on origin, the journal not finished', async () => {
    const s = await setup();
    writeFileSync(
      join(s.origin, 'hooks', 'pre-receive'),
      '#!/bin/sh\nwhile read old new ref; do case "$ref" in refs/heads/suture/*) echo "GL-HOOK-ERR: You are not allowed to push code to protected branches on this project." >&2; exit 1;; esac; done\n',
      { mode: 0o755 },
    );
    const out = await runDriver(s.input);
    expect(out.kind).toBe('error');
    expect(out.reason).toMatch(
      /^created suture\/0123456789ab but could not push it to origin: the remote refused the update \(protected branch or server hook\): .*not allowed to push code to protected branches/,
    );
    expect(out.reason!.split('\n')).toHaveLength(1);
    expect(await remoteSutureBranches(s.origin)).toEqual([]);
    expect(providerCalls(s.providers)).toEqual([]);
    const j = new Journal(s.state);
    try {
      expect(j.open(await repoKey(s.repo), FP)).toMatchObject({ phase: 'branched', finished: false });
    } finally {
      j.close();
    }
  });
});

describe("origin's default branch moved on", () => {
  async function advanceOrigin(s: Setup, file: string, content: string): Promise<string> {
    const clone = tempDir('suture-clone-');
    made.push(clone);
    await git(clone, 'clone', '-q', s.origin, '.');
    writeFileSync(join(clone, file), content);
    await git(clone, 'add', file);
    await git(clone, 'commit', '-qm', 'meanwhile on main');
    await git(clone, 'push', '-q', 'origin', 'main');
    return git(clone, 'rev-parse', 'HEAD');
  }

  it('advanced: the single commit is rebased onto it, "rebased: needs re-verify", nothing added to the repository', async () => {
    const s = await setup();
    const tip = await advanceOrigin(s, 'NOTES.md', 'unrelated\n');
    const objects = await git(s.repo, 'count-objects', '-v');
    const check = await checkOrigin({ repo: s.repo, base: s.base, patch: FIX, message: 'fix', push: true });
    expect(check).toMatchObject({ kind: 'rebased', status: 'rebased: needs re-verify', target: 'main', onto: tip });
    if (check.kind !== 'rebased') throw new Error('unreachable');
    // fetched and rebased in suture's scratch store: the repository is as it was
    expect(await git(s.repo, 'count-objects', '-v')).toBe(objects);
    await expect(git(s.repo, 'cat-file', '-e', tip)).rejects.toThrow();
    // delivered, the rebased commit sits on origin's tip
    const j = new Journal(s.state);
    try {
      const { deliver } = await import('../../src/gitops/deliver.ts');
      const out = await deliver(
        { repo: s.repo, journal: j, provider: null, progress: () => undefined },
        testPlan({ repo: await repoKey(s.repo), base: tip, commit: check.commit }),
        check.target,
      );
      expect(out.kind).toBe('delivered');
    } finally {
      j.close();
    }
    expect(await git(s.origin, 'rev-parse', `${BRANCH}^`)).toBe(tip);
    expect(await git(s.origin, 'diff', '--name-only', tip, BRANCH)).toBe('pricing.py');
  });

  it('a rebase that conflicts is reported', async () => {
    const s = await setup();
    const pricing = await git(s.repo, 'show', 'HEAD:pricing.py');
    const tip = await advanceOrigin(
      s,
      'pricing.py',
      pricing.replace(
        '    total = sum(d["percent"] for d in discounts)',
        '    total = sum(d.get("percent", 0) for d in discounts)',
      ),
    );
    const check = await checkOrigin({ repo: s.repo, base: s.base, patch: FIX, message: 'fix', push: true });
    expect(check).toMatchObject({ kind: 'conflict', target: 'main', onto: tip });
    if (check.kind === 'conflict') expect(check.detail).toMatch(/^patch does not apply: .*pricing\.py/);
  });

  it('behind or equal: nothing to do; --no-push: origin is not asked', async () => {
    const s = await setup();
    expect(await checkOrigin({ repo: s.repo, base: s.base, patch: FIX, message: 'fix', push: true })).toEqual({
      kind: 'current',
      target: 'main',
    });
    writeFileSync(join(s.repo, 'NOTES.md'), 'local work\n');
    await git(s.repo, 'add', 'NOTES.md');
    await git(s.repo, 'commit', '-qm', 'not pushed yet');
    const ahead = await git(s.repo, 'rev-parse', 'HEAD');
    expect(await checkOrigin({ repo: s.repo, base: ahead, patch: FIX, message: 'fix', push: true })).toEqual({
      kind: 'current',
      target: 'main',
    });
    await git(s.repo, 'remote', 'set-url', 'origin', 'http://127.0.0.1:9/nothing.git');
    expect(await checkOrigin({ repo: s.repo, base: ahead, patch: FIX, message: 'fix', push: false })).toEqual({
      kind: 'current',
      target: 'main',
    });
  });

  it('over HTTP (git http-backend on loopback): delivered, and a moved origin fetched and rebased', async () => {
    const s = await setup();
    const root = join(s.origin, '..');
    const server = await gitHttpServer(root, () => true);
    servers.push(server);
    // http-backend needs receive-pack enabled for an anonymous push
    await git(s.origin, 'config', 'http.receivepack', 'true');
    await git(s.repo, 'remote', 'set-url', 'origin', `${server.url}/origin.git`);
    const tip = await advanceOrigin(s, 'NOTES.md', 'unrelated\n');
    const check = await checkOrigin({ repo: s.repo, base: s.base, patch: FIX, message: 'fix', push: true });
    expect(check).toMatchObject({ kind: 'rebased', onto: tip });
    const out = await runDriver(s.input);
    expect(out, out.reason).toMatchObject({ kind: 'delivered' });
    expect(await git(s.origin, 'rev-parse', BRANCH)).toBe(out.commit);
  });
});

describe('pure decisions', () => {
  it('originMoved', () => {
    const m = (tip: string, a: boolean, b: boolean) =>
      originMoved({ base: 'b', tip, tipIsAncestorOfBase: a, baseIsAncestorOfTip: b });
    expect(m('b', true, true)).toBe('current');
    expect(m('t', true, false)).toBe('behind');
    expect(m('t', false, true)).toBe('advanced');
    expect(m('t', false, false)).toBe('diverged');
  });
});
