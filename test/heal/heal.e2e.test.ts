/**
 * The walking skeleton end to end, as a user runs it: `suture heal` on fresh git repos holding the demo
 * services, a real sandbox container, a real branch. Also the bad-input contract (exit 2, one line, no branch).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addOrigin,
  cleanup,
  cli,
  git,
  heal,
  healWith,
  repoFromService,
  SERVICES,
  tempDir,
  writeIn,
} from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

async function snapshot(repo: string) {
  return {
    head: await git(repo, 'rev-parse', 'HEAD'),
    branch: await git(repo, 'rev-parse', '--abbrev-ref', 'HEAD'),
    status: await git(repo, 'status', '--porcelain'),
    branches: await git(repo, 'branch', '--format=%(refname:short)'),
    worktrees: await git(repo, 'worktree', 'list'),
  };
}

describe.each([
  ['pricing-api', 'pricing.py', '+    if len(discounts) == 0:'],
  ['orders-api', 'orders.js', '+  const country = order.shipping.address?.country;'],
])('suture heal %s', (service, file, fixLine) => {
  it('ends proposed with a verified fix and regression test on suture/<fp>, the checkout untouched', async () => {
    const repo = await repoFromService(service);
    const state = tempDir('suture-state-');
    made.push(repo, state);
    // a dirty, uncommitted edit in the user's working tree must survive untouched
    writeFileSync(join(repo, 'NOTES.md'), 'work in progress\n');
    const before = await snapshot(repo);
    const started = Date.now();
    const r = await heal(service, repo, state, '--mode', 'propose');
    const elapsed = Date.now() - started;
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('proposed');
    expect(out.branch).toMatch(/^suture\/[0-9a-f]{12}$/);
    expect(out.branch).toBe(`suture/${out.incident.fingerprint.slice(0, 12)}`);
    expect(out.incident.service).toBe(service);
    expect(out.diagnosis.classification).toBe('code-defect');
    expect(out.diagnosis.location.file).toBe(file);
    const chosen = out.candidates.find((c: { id: string }) => c.id === out.chosen);
    expect(chosen.verdict).toMatchObject({ verdict: 'pass', reproduced: true, fixed: true, testsPassed: true });
    expect(chosen.verdict.regressionTest).toMatchObject({ failsBefore: true, passesAfter: true });
    expect(chosen.verdict.evidence.base.failing[0]).toBeGreaterThanOrEqual(500);
    expect(chosen.verdict.evidence.patched.failing[0]).toBeLessThan(500);
    expect(chosen.policy.decision).not.toBe('deny');
    expect(elapsed).toBeLessThan(60_000);

    // the branch carries exactly the fix and the regression test, on top of the base commit
    expect(await git(repo, 'rev-parse', `${out.branch}^`)).toBe(before.head);
    const changed = (await git(repo, 'diff', '--name-only', before.head, out.branch)).split('\n');
    expect(changed).toHaveLength(2);
    expect(changed).toContain(file);
    expect(changed).toContain(chosen.verdict.regressionTest.file);
    expect(await git(repo, 'diff', before.head, out.branch, '--', file)).toContain(fixLine);
    expect(out.commit).toBe(await git(repo, 'rev-parse', out.branch));

    // the user's checkout: same HEAD, same branch, same dirty file, no leftover worktree
    const after = await snapshot(repo);
    expect(after.head).toBe(before.head);
    expect(after.branch).toBe('main');
    expect(after.status).toBe(before.status);
    expect(after.worktrees).toBe(before.worktrees);
    expect(readFileSync(join(repo, 'NOTES.md'), 'utf8')).toBe('work in progress\n');
    expect(after.branches.split('\n').sort()).toEqual(['main', out.branch].sort());

    // one audit line per stage, ending with the result
    const audit = readFileSync(join(state, 'audit.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(audit.map((a) => a.stage)).toEqual([
      'intake',
      'evidence',
      'diagnose',
      'verify',
      'gate',
      'deliver',
      'result',
    ]);
    expect(audit.every((a) => typeof a.durationMs === 'number' && a.incident === out.incident.id)).toBe(true);
    expect(existsSync(out.report)).toBe(true);

    // a second run finds the open branch and stops as a duplicate
    const again = await heal(service, repo, state);
    expect(again.exitCode).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ status: 'duplicate', branch: out.branch });
  });
});

describe('heal pushes to origin and respects --no-push', () => {
  it('pushes suture/<fp> to a real bare remote', async () => {
    const repo = await repoFromService('pricing-api');
    const remote = await addOrigin(repo);
    const state = tempDir('suture-state-');
    made.push(repo, remote, state);
    const r = await heal('pricing-api', repo, state);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(await git(remote, 'rev-parse', out.branch)).toBe(out.commit);
  });

  it('--no-push leaves the branch local', async () => {
    const repo = await repoFromService('orders-api');
    const remote = await addOrigin(repo);
    const state = tempDir('suture-state-');
    made.push(repo, remote, state);
    const r = await heal('orders-api', repo, state, '--no-push');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('proposed');
    expect(await git(repo, 'rev-parse', out.branch)).toBe(out.commit);
    expect(await git(remote, 'branch', '--format=%(refname:short)')).toBe('main');
  });
});

describe('heal on bad input: exit 2, one line, no branch', () => {
  const incident = join(SERVICES, 'pricing-api', 'incident.json');

  async function expectBadInput(args: string[], message: RegExp, repo?: string) {
    const r = await cli(['heal', ...args, '--state', tempDir('suture-state-')]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim()).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
    if (repo) expect(await git(repo, 'branch', '--format=%(refname:short)')).toBe('main');
  }

  it('rejects incidents that are missing, empty, not JSON or wrongly shaped', async () => {
    const repo = await repoFromService('pricing-api');
    const d = tempDir();
    made.push(repo, d);
    const write = (name: string, text: string) => writeIn(d, name, text);
    await expectBadInput(['--repo', repo, '--incident', join(d, 'none.json')], /incident file not found/, repo);
    await expectBadInput(['--repo', repo, '--incident', write('e.json', '')], /is empty/, repo);
    await expectBadInput(['--repo', repo, '--incident', write('n.json', 'Traceback…')], /is not JSON/, repo);
    await expectBadInput(
      ['--repo', repo, '--incident', write('s.json', '{"kind":"crash","service":3,"logs":""}')],
      /crash report: service/,
      repo,
    );
  });

  it('rejects a directory that is not a git repo, and a missing one', async () => {
    const d = tempDir();
    made.push(d);
    await expectBadInput(['--repo', d, '--incident', incident], /is not a git repository/);
    await expectBadInput(['--repo', join(d, 'missing'), '--incident', incident], /not found|not a git repository/);
  });

  it('rejects an invalid suture.yaml', async () => {
    const repo = await repoFromService('pricing-api');
    made.push(repo);
    writeFileSync(join(repo, 'suture.yaml'), 'service: pricing-api\nport: eighty\n');
    await git(repo, 'commit', '-qam', 'break config');
    await expectBadInput(['--repo', repo, '--incident', incident], /suture.yaml: port/, repo);
  });

  it('rejects a bad --mode as a usage error', async () => {
    await expectBadInput(['--repo', '.', '--incident', incident, '--mode', 'yolo'], /mode/);
  });
});

describe('heal escalates what it should not patch', () => {
  it('a well-formed report without a stack trace → escalated, exit 0, no branch', async () => {
    const repo = await repoFromService('pricing-api');
    const d = tempDir();
    made.push(repo, d);
    const file = join(d, 'i.json');
    writeFileSync(
      file,
      JSON.stringify({ kind: 'crash', service: 'pricing-api', logs: 'pod OOMKilled, restarted 5 times' }),
    );
    const r = await cli(['heal', '--repo', repo, '--incident', file, '--state', d, '--json']);
    expect(r.exitCode).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'escalated', branch: null, candidates: [] });
    expect(await git(repo, 'branch', '--format=%(refname:short)')).toBe('main');
  });

  it('observe mode verifies but makes no branch', async () => {
    const repo = await repoFromService('orders-api');
    const d = tempDir();
    made.push(repo, d);
    const r = await heal('orders-api', repo, d, '--mode', 'observe');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: 'observed', branch: null });
    expect(out.chosen).toBe('c1');
    expect(await git(repo, 'branch', '--format=%(refname:short)')).toBe('main');
  });
});

describe('heal --mode auto', () => {
  const LOCAL_MERGE = { SUTURE_LOCAL_MERGE: 'fast-forward' };
  const healAuto = (service: string, repo: string, state: string, env: Record<string, string> = {}) =>
    healWith(env, service, repo, state, '--mode', 'auto');

  it('the local provider never pushes the default branch unless the operator allows local merges', async () => {
    const repo = await repoFromService('orders-api');
    const remote = await addOrigin(repo);
    const state = tempDir('suture-state-');
    made.push(repo, remote, state);
    const base = await git(repo, 'rev-parse', 'HEAD');
    const r = await healAuto('orders-api', repo, state);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('proposed');
    expect(out.candidates[0].policy.decision).toBe('allow');
    expect(out.reason).toMatch(/not merged yet: .*SUTURE_LOCAL_MERGE=fast-forward/);
    expect(await git(remote, 'rev-parse', 'main')).toBe(base);
    expect(await git(remote, 'rev-parse', out.branch)).toBe(out.commit);
  });

  it('with SUTURE_LOCAL_MERGE=fast-forward, merges an allowed fix by fast-forwarding origin, never the local checkout', async () => {
    const repo = await repoFromService('orders-api');
    const remote = await addOrigin(repo);
    const state = tempDir('suture-state-');
    made.push(repo, remote, state);
    const base = await git(repo, 'rev-parse', 'HEAD');
    const r = await healAuto('orders-api', repo, state, LOCAL_MERGE);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('fixed');
    expect(out.candidates[0].policy.decision).toBe('allow');
    expect(await git(remote, 'rev-parse', 'main')).toBe(out.commit);
    expect(await git(remote, 'rev-parse', `${out.commit}^`)).toBe(base);
    expect(await git(repo, 'rev-parse', 'main')).toBe(base);
  });

  it('without an origin it proposes instead of touching the checked-out branch', async () => {
    const repo = await repoFromService('pricing-api');
    const state = tempDir('suture-state-');
    made.push(repo, state);
    const base = await git(repo, 'rev-parse', 'HEAD');
    const r = await healAuto('pricing-api', repo, state, LOCAL_MERGE);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('proposed');
    expect(out.reason).toMatch(/no origin to merge into/);
    expect(await git(repo, 'rev-parse', 'main')).toBe(base);
  });
});

describe('heal gates every verified candidate through the policy', () => {
  async function withPolicy(service: string, policy: string): Promise<string> {
    const repo = await repoFromService(service);
    mkdirSync(join(repo, '.suture'), { recursive: true });
    writeFileSync(join(repo, '.suture', 'policy.yaml'), policy);
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-qm', 'platform policy');
    return repo;
  }

  it('all candidates denied → rejected, exit 0, no branch', async () => {
    const repo = await withPolicy('pricing-api', 'paths:\n  protected: ["pricing.py"]\n');
    const state = tempDir('suture-state-');
    made.push(repo, state);
    const r = await heal('pricing-api', repo, state);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ status: 'rejected', branch: null, chosen: null });
    expect(out.candidates[0].verdict.verdict).toBe('pass');
    expect(out.candidates[0].policy.decision).toBe('deny');
    expect(out.candidates[0].policy.violations.map((v: { id: string }) => v.id)).toContain('repo/protected-path');
    expect(await git(repo, 'branch', '--format=%(refname:short)')).toBe('main');
  });

  it('review forces a human even in auto mode: proposed, origin untouched', async () => {
    const repo = await withPolicy('orders-api', 'thresholds:\n  minConfidence: 0.95\n');
    const remote = await addOrigin(repo);
    const state = tempDir('suture-state-');
    made.push(repo, remote, state);
    const r = await heal('orders-api', repo, state, '--mode', 'auto');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.status).toBe('proposed');
    expect(out.candidates[0].policy.decision).toBe('review');
    expect(out.reason).toMatch(/human must approve/);
    expect(await git(remote, 'rev-parse', 'main')).toBe(await git(repo, 'rev-parse', 'main'));
    expect(await git(remote, 'rev-parse', out.branch)).toBe(out.commit);
  });
});
