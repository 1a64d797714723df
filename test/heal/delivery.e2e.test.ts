/**
 * Issue 11 through `suture heal` end to end (real sandbox, real repositories, a bare origin):
 * - acceptance: healing one incident twice leaves exactly one suture/* branch with one commit on origin,
 *   and the second run's status is `duplicate`; the commit carries suture's four trailers;
 * - a heal killed (SIGKILL) between commit and push is resumed by the next without a second commit or
 *   proposal;
 * - gating several candidates leaves only the chosen commit's objects in the repository;
 * - origin's default branch advanced past the healed base: the fix is rebased, verified and gated again.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { providerCalls } from '../gitops/fake-provider.ts';
import { addOrigin, cleanup, git, heal, healWith, ROOT, repoFromService, SERVICES, tempDir } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

async function withOrigin(service: string) {
  const repo = await repoFromService(service);
  const remote = await addOrigin(repo);
  const state = tempDir('suture-state-');
  made.push(repo, remote, state);
  return { repo, remote, state, base: await git(repo, 'rev-parse', 'HEAD') };
}

const sutureBranches = async (remote: string) =>
  (await git(remote, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/suture/')).split('\n').filter(Boolean);

/** Commit objects authored by suture in the repository's own store, referenced or not. */
async function sutureCommits(repo: string): Promise<string[]> {
  const lines = (await git(repo, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype)')).split(
    '\n',
  );
  const out: string[] = [];
  for (const l of lines.filter((x) => x.endsWith(' commit'))) {
    const oid = l.split(' ')[0]!;
    if ((await git(repo, 'log', '-1', '--format=%ae', oid)) === 'suture@users.noreply.localhost') out.push(oid);
  }
  return out;
}

describe('acceptance: heal one incident twice against a repo with a bare origin', () => {
  it('exactly one suture/* branch with one commit on origin; the second run is a duplicate', async () => {
    const { repo, remote, state, base } = await withOrigin('pricing-api');
    const first = await heal('pricing-api', repo, state);
    expect(first.exitCode, first.stderr).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out.status).toBe('proposed');

    const second = await heal('pricing-api', repo, state);
    expect(second.exitCode, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ status: 'duplicate', branch: out.branch });

    expect(await sutureBranches(remote)).toEqual([out.branch]);
    expect(await git(remote, 'rev-list', '--count', `${base}..${out.branch}`)).toBe('1');
    expect(await sutureCommits(repo)).toEqual([out.commit]);
    // the default (local) provider: one proposal, its rendered body in the state dir
    expect(out.pullRequest).toMatchObject({ number: null, branch: out.branch });
    expect(readdirSync(join(state, 'proposals')).filter((f) => f.endsWith('.json'))).toHaveLength(1);
    expect(readFileSync(out.pullRequest.url, 'utf8')).toContain(out.incident.fingerprint);
    const trailers = (
      await execa('git', ['interpret-trailers', '--parse'], {
        input: await git(remote, 'log', '-1', '--format=%B', out.branch),
      })
    ).stdout;
    expect(trailers.split('\n')).toEqual([
      `Suture-Incident: ${out.incident.id}`,
      `Suture-Fingerprint: ${out.incident.fingerprint}`,
      `Suture-Candidate: ${out.chosen}`,
      expect.stringMatching(/^Suture-Verdict: pass \(reproduced, fixed, tests pass, regression test red-green/),
    ]);
  });
});

describe('a heal killed between commit and push', () => {
  it('through the CLI: SIGKILL after the commit, the next run resumes from the journal, then duplicate', async () => {
    const { repo, remote, state, base } = await withOrigin('pricing-api');
    const run = (env: Record<string, string> = {}) => healWith(env, 'pricing-api', repo, state);
    const crash = await run({ SUTURE_TEST_CRASH_AT: 'after-commit' });
    expect(crash.exitCode, crash.stderr).toBe(-1); // killed by SIGKILL: no exit status
    expect(crash.stdout).toBe('');
    const [commit] = await sutureCommits(repo);
    expect(commit).toBeDefined();
    expect(await sutureBranches(remote)).toEqual([]);

    const next = await run();
    expect(next.exitCode, next.stderr).toBe(0);
    const out = JSON.parse(next.stdout);
    expect(out).toMatchObject({ status: 'proposed', commit, candidates: [] });
    expect(out.reason).toMatch(/delivery resumed from the journal/);
    expect(await sutureBranches(remote)).toEqual([out.branch]);
    expect(await git(remote, 'rev-list', '--count', `${base}..${out.branch}`)).toBe('1');
    expect(await sutureCommits(repo)).toEqual([commit]);

    const third = await run();
    expect(JSON.parse(third.stdout)).toMatchObject({ status: 'duplicate', branch: out.branch });
  });

  it('with a provider, SIGKILL after the commit: resumed, no second commit, one proposal', async () => {
    const { repo, remote, state } = await withOrigin('pricing-api');
    const providers = tempDir('suture-providers-');
    made.push(providers);
    const run = (env: Record<string, string> = {}) =>
      execa(
        process.execPath,
        [
          join(ROOT, 'test', 'heal', 'heal-driver.ts'),
          repo,
          join(SERVICES, 'pricing-api', 'incident.json'),
          state,
          providers,
        ],
        { reject: false, env: { SUTURE_QUIET: '0', ...env }, timeout: 180_000 },
      );
    const killed = await run({ SUTURE_TEST_CRASH_AT: 'after-commit' });
    expect(killed.signal, killed.stderr).toBe('SIGKILL');
    const [commit] = await sutureCommits(repo);
    expect(commit).toBeDefined();
    expect(await sutureBranches(remote)).toEqual([]);

    const resumed = await run();
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const out = JSON.parse(resumed.stdout);
    expect(out).toMatchObject({ status: 'proposed', commit, pullRequest: { branch: out.branch } });
    expect(out.reason).toMatch(/delivery resumed from the journal/);
    expect(await sutureCommits(repo)).toEqual([commit]);
    expect(await sutureBranches(remote)).toEqual([out.branch]);
    expect(await git(remote, 'rev-parse', out.branch)).toBe(commit);

    const again = await run();
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'duplicate', branch: out.branch });
    expect(providerCalls(providers).filter((c) => c.startsWith('created'))).toEqual([`created ${out.branch}`]);
    expect(providerCalls(providers)).toContain(`reoccurred ${out.branch}`);
  });
});

describe('gating several candidates leaves nothing but the chosen fix in the repository', () => {
  it('profile-api: three candidates verified and gated, only the chosen commit, its trees and blobs added', async () => {
    const repo = await repoFromService('profile-api');
    const state = tempDir('suture-state-');
    made.push(repo, state);
    const objects = async () =>
      new Set(
        (await git(repo, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname)')).split('\n').filter(Boolean),
      );
    const before = await objects();
    const r = await heal('profile-api', repo, state);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('proposed');
    const gated = out.candidates.filter((c: { policy: unknown }) => c.policy !== null);
    expect(gated.length).toBeGreaterThanOrEqual(3);
    const added = [...(await objects())].filter((o) => !before.has(o)).sort();
    const chosen = (await git(repo, 'rev-list', '--objects', '--no-object-names', out.commit, '--not', 'main'))
      .split('\n')
      .sort();
    expect(added).toEqual(chosen);
    expect(await sutureCommits(repo)).toEqual([out.commit]);
  });
});

describe("origin's default branch advanced past the healed base", () => {
  it('the fix is rebased onto it, verified and gated again there, and delivered on it', async () => {
    const { repo, remote, state, base } = await withOrigin('pricing-api');
    const clone = tempDir('suture-clone-');
    made.push(clone);
    await git(clone, 'clone', '-q', '-b', 'main', remote, '.');
    writeFileSync(join(clone, 'NOTES.md'), 'meanwhile on main\n');
    await git(clone, 'add', 'NOTES.md');
    await git(clone, 'commit', '-qm', 'meanwhile on main');
    await git(clone, 'push', '-q', 'origin', 'main');
    const tip = await git(clone, 'rev-parse', 'HEAD');

    const r = await heal('pricing-api', repo, state);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status, out.reason).toBe('proposed');
    expect(r.stderr).toMatch(/rebased: needs re-verify/);
    expect(out.rebased).toMatchObject({ onto: tip, target: 'main', verdict: { verdict: 'pass' } });
    expect(out.rebased.policy.decision).not.toBe('deny');
    expect(await git(remote, 'rev-parse', `${out.branch}^`)).toBe(tip);
    expect(await git(remote, 'rev-parse', out.branch)).toBe(out.commit);
    expect(await git(repo, 'rev-parse', 'main')).toBe(base);
    const stages = readFileSync(join(state, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).stage);
    expect(stages).toEqual([
      'intake',
      'evidence',
      'diagnose',
      'verify',
      'gate',
      'reverify',
      'regate',
      'deliver',
      'result',
    ]);
  });
});
