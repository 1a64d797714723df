/**
 * decideVerdict without Docker: every combination of reproduced / fixed / tests / regression test /
 * differential / timeouts against an oracle written independently of the implementation, then the cases
 * around them (refused, not run, unhealthy after, the status class, the base's own failures).
 */
import { describe, expect, it } from 'vitest';
import type { HttpResult, RunResult, ServeResult } from '../../src/sandbox/plan.ts';
import type { BaseRecord, CandidateRecord } from '../../src/sandbox/records.ts';
import { candidateLimits, describeLimit, scaledLimit } from '../../src/sandbox/step-limits.ts';
import { decideVerdict, statusClass, type VerdictOptions } from '../../src/sandbox/verdict.ts';

const json = (status: number, body: unknown): HttpResult => ({
  status,
  body: JSON.stringify(body),
  headers: { 'content-type': ['application/json'] },
});

function serve(name: string, responses: HttpResult[], over: Partial<ServeResult> = {}): ServeResult {
  return {
    kind: 'serve',
    name,
    healthy: true,
    startupMs: 200,
    healthStatus: 200,
    responses,
    aliveAfter: true,
    healthyAfter: true,
    healthAfterStatus: 200,
    exitCode: null,
    stopped: null,
    durationMs: 500,
    output: '',
    ...over,
  };
}

function run(name: string, exitCode: number | null, over: Partial<RunResult> = {}): RunResult {
  return { kind: 'run', name, exitCode, stopped: null, durationMs: 1000, output: '', outputBytes: 0, ...over };
}

const SCALE = { factor: 5, floorSec: 5, ceilingSec: 60 };

function options(healthy: number, over: Partial<VerdictOptions> = {}): VerdictOptions {
  return {
    failing: 1,
    healthy: Array.from({ length: healthy }, () => 'POST /quote'),
    health: '/healthz',
    workspace: '1g',
    ignore: [],
    scale: SCALE,
    durationMs: 1234,
    ...over,
  };
}

const answer = (total: number, at: string) => json(200, { total, generatedAt: at });

function base(reproduced: boolean, healthy: boolean, over: Partial<BaseRecord> = {}): BaseRecord {
  return {
    replaySkipped: null,
    replay: serve('replay-base', [reproduced ? json(500, { error: 'internal' }) : json(200, { total: 0 })]),
    primary: healthy ? serve('healthy-primary', [answer(24, '02:04:11')]) : null,
    secondary: healthy ? serve('healthy-secondary', [answer(24, '02:04:12')]) : null,
    secondaryProblem: null,
    tests: run('tests-base', 0),
    regressionBefore: [],
    problem: null,
    installNetwork: 'isolated',
    durationMs: 3000,
    ...over,
  };
}

type Regression = 'none' | 'proven' | 'passes-before' | 'fails-after';
type Diff = 'none' | 'match' | 'mismatch';
type Timeout = 'none' | 'replay' | 'tests';

interface Case {
  reproduced: boolean;
  fixed: boolean;
  tests: boolean;
  regression: Regression;
  differential: Diff;
  timeout: Timeout;
}

function candidate(c: Case, b: BaseRecord): CandidateRecord {
  const limits = candidateLimits(b, SCALE);
  const skipped = (name: string) => run(name, null, { stopped: 'skipped', durationMs: 0 });
  const replay =
    c.timeout === 'replay'
      ? serve('replay-patched', [], { healthy: false, stopped: 'timeout', aliveAfter: false, healthyAfter: false })
      : serve('replay-patched', [c.fixed ? json(400, { error: 'items must not be empty' }) : json(500, {})]);
  const afterLimit = c.timeout !== 'none';
  const healthy =
    c.differential === 'none'
      ? null
      : c.timeout === 'replay'
        ? serve('healthy-candidate', [], { healthy: false, stopped: 'skipped' })
        : serve('healthy-candidate', [answer(c.differential === 'match' ? 24 : 25, '09:30:00')]);
  const tests =
    c.timeout === 'replay'
      ? skipped('tests')
      : c.timeout === 'tests'
        ? run('tests', null, { stopped: 'timeout', durationMs: limits.tests.sec * 1000 })
        : run('tests', c.tests ? 0 : 1);
  const regression =
    c.regression === 'none'
      ? null
      : {
          file: 'tests/test_regression.py',
          before: run('regression-before', c.regression === 'passes-before' ? 0 : 1),
          after: afterLimit
            ? skipped('regression-after')
            : run('regression-after', c.regression === 'fails-after' ? 1 : 0),
        };
  return {
    refused: [],
    notRun: null,
    replay,
    healthy,
    tests,
    regression,
    addedTests: [],
    problem: null,
    workspaceFull: false,
    limits,
    durationMs: 2000,
  };
}

/** The rules, stated on the dimensions directly. */
function oracle(c: Case): 'pass' | 'fail' {
  const proven = c.reproduced ? c.fixed : c.regression === 'proven';
  const regressionOk = c.regression === 'none' || c.regression === 'proven';
  return proven && c.tests && regressionOk && c.differential !== 'mismatch' && c.timeout === 'none' ? 'pass' : 'fail';
}

const cases: Case[] = [];
for (const reproduced of [true, false])
  for (const fixed of [true, false])
    for (const tests of [true, false])
      for (const regression of ['none', 'proven', 'passes-before', 'fails-after'] as Regression[])
        for (const differential of ['none', 'match', 'mismatch'] as Diff[])
          for (const timeout of ['none', 'replay', 'tests'] as Timeout[])
            cases.push({ reproduced, fixed, tests, regression, differential, timeout });

describe('decideVerdict: every combination', () => {
  it(`covers ${cases.length} combinations`, () => expect(cases).toHaveLength(288));

  it.each(cases.map((c) => [JSON.stringify(c), c] as const))('%s', (_name, c) => {
    const b = base(c.reproduced, c.differential !== 'none');
    const v = decideVerdict(b, candidate(c, b), options(c.differential === 'none' ? 0 : 1));
    const text = v.reasons.join('\n');
    expect(v.verdict, text).toBe(oracle(c));
    expect(v.reproduced).toBe(c.reproduced);
    expect(v.fixed).toBe(c.fixed && c.timeout !== 'replay');
    expect(v.fixedStatusClass).toBe(v.fixed ? '4xx' : null);
    expect(v.testsPassed).toBe(c.tests && c.timeout === 'none');
    if (c.regression === 'none') {
      expect(v.regressionTest).toBeNull();
      expect(text).toContain('the candidate has no regression test');
    } else {
      expect(v.regressionTest?.failsBefore).toBe(c.regression !== 'passes-before');
    }
    if (!c.reproduced) expect(v.reasons[0]).toMatch(/did not reproduce the crash/);
    if (c.differential === 'none') {
      expect(v.differential).toMatchObject({ status: 'none', compared: 0, mismatches: [] });
      expect(text).toContain('differential: none (the incident has no healthy samples to replay)');
    } else if (c.timeout !== 'replay') {
      expect(v.differential.status).toBe('compared');
      expect(v.differential.noise).toEqual([{ request: 'POST /quote', paths: ['$.generatedAt'] }]);
      expect(v.differential.mismatches).toEqual(
        c.differential === 'mismatch' ? [{ request: 'POST /quote', path: '$.total', base: 24, candidate: 25 }] : [],
      );
    }
    if (c.timeout === 'replay') {
      expect(text).toMatch(
        /never became healthy on \/healthz within the 5 s limit \(5 × 0\.2 s on base, at least 5 s\)/,
      );
      expect(text).toContain('the test command did not run: an earlier step hit its limit');
    }
    if (c.timeout === 'tests') expect(text).toContain('the test command hit the 5 s limit (5 × 1.0 s on base');
    if (c.reproduced && !c.fixed && c.timeout === 'none')
      expect(text).toMatch(/still fail on the patched service \(statuses 500\)/);
    if (!c.tests && c.timeout === 'none') expect(text).toContain('the test command failed (exit 1)');
  });
});

describe('decideVerdict: around the combinations', () => {
  const passing: Case = {
    reproduced: true,
    fixed: true,
    tests: true,
    regression: 'proven',
    differential: 'match',
    timeout: 'none',
  };
  const decide = (b: BaseRecord, c: CandidateRecord, healthy = 1) => decideVerdict(b, c, options(healthy));

  it('passes the clean case and records the evidence', () => {
    const b = base(true, true);
    const v = decide(b, candidate(passing, b));
    expect(v).toMatchObject({
      verdict: 'pass',
      fixedStatusClass: '4xx',
      installNetwork: 'isolated',
      durationMs: 1234,
      evidence: {
        base: { failing: [500], healthy: [200], testsExitCode: 0 },
        patched: { failing: [400], healthy: [200], healthyAfter: true },
        limits: { replay: 5, healthy: 5, tests: 5, ownTests: 5 },
      },
    });
  });

  it('fails a patched service that answers but exits or turns unhealthy after the failing requests', () => {
    const b = base(true, true);
    const exits = candidate(passing, b);
    exits.replay = { ...exits.replay!, aliveAfter: false, healthyAfter: false };
    expect(decide(b, exits)).toMatchObject({ verdict: 'fail', fixed: false, fixedStatusClass: null });
    expect(decide(b, exits).reasons).toContain(
      'the patched service answered the failing requests but exited after them',
    );
    const sick = candidate(passing, b);
    sick.replay = { ...sick.replay!, healthyAfter: false, healthAfterStatus: 503 };
    expect(decide(b, sick).reasons).toContain(
      'the patched service answered the failing requests but was not healthy after them (/healthz answered 503)',
    );
  });

  it('records the class of the answers to the failing requests', () => {
    expect(statusClass([200])).toBe('2xx');
    expect(statusClass([302, 301])).toBe('3xx');
    expect(statusClass([400, 422])).toBe('4xx');
    expect(statusClass([200, 400])).toBe('mixed');
    expect(statusClass([200, 500])).toBeNull();
    expect(statusClass([null])).toBeNull();
    const b = base(true, true);
    const c = candidate(passing, b);
    c.replay = serve('replay-patched', [json(200, { total: 0 })]);
    expect(decide(b, c)).toMatchObject({ verdict: 'pass', fixedStatusClass: '2xx' });
  });

  it('a refused patch runs nothing and its reasons are the verdict', () => {
    const b = base(true, true);
    const c = { ...candidate(passing, b), refused: ['the patch deletes tests: tests/test_x.py'] };
    expect(decide(b, c)).toMatchObject({ verdict: 'fail', reasons: ['the patch deletes tests: tests/test_x.py'] });
  });

  it('a base run that failed as a whole leaves the candidate unrun, and says why', () => {
    const failed: BaseRecord = {
      ...base(true, false),
      replay: null,
      tests: null,
      problem: 'the base run failed: docker went away',
    };
    const c = { ...candidate(passing, failed), notRun: 'the candidate was not run: (docker went away)' };
    const v = decide(failed, c, 0);
    expect(v.verdict).toBe('fail');
    expect(v.reasons).toEqual(['base replay: the base run failed: docker went away', c.notRun]);
  });

  it('a patched service that never comes up fails even without reproduction; one that never comes up on base is the config', () => {
    const b = base(false, false);
    const c = candidate({ ...passing, reproduced: false, differential: 'none' }, b);
    c.replay = serve('replay-patched', [], { healthy: false, exitCode: 1 });
    expect(decide(b, c, 0).reasons).toContain(
      'the patched service never became healthy on /healthz (it exited with 1)',
    );
    expect(decide(b, c, 0).verdict).toBe('fail');
    const down: BaseRecord = {
      ...b,
      replay: serve('replay-base', [], { healthy: false, output: 'Traceback\nImportError: x' }),
    };
    const v = decide(down, c, 0);
    expect(v.verdict).toBe('pass'); // the regression test proves it, as it would without a start command
    expect(v.reasons[0]).toBe('base service never became healthy on /healthz: ImportError: x');
  });

  it('differential: none when the base service does not answer the healthy samples, or every sample is unstable', () => {
    const b = { ...base(true, true), secondary: serve('healthy-secondary', [], { healthy: false }) };
    const v = decide(b, candidate(passing, b));
    expect(v).toMatchObject({ verdict: 'pass', differential: { status: 'none', compared: 0 } });
    expect(v.reasons).toContain(
      'differential: none (the base service did not come up for the healthy samples on /healthz)',
    );
    const lost = { ...base(true, true), secondary: null, secondaryProblem: 'the sandbox hit its wall-clock limit' };
    expect(decide(lost, candidate(passing, lost)).reasons).toContain(
      'differential: none (second base instance: the sandbox hit its wall-clock limit)',
    );
    const flaky = { ...base(true, true), secondary: serve('healthy-secondary', [json(503, {})]) };
    const w = decide(flaky, candidate(passing, flaky));
    expect(w.differential).toMatchObject({ status: 'none', compared: 0, unstable: ['POST /quote'] });
    expect(w.verdict).toBe('pass');
    // ... but a patched service that does not come up for the healthy samples still fails
    const down = candidate(passing, flaky);
    down.healthy = serve('healthy-candidate', [], { healthy: false, exitCode: 1 });
    const x = decide(flaky, down);
    expect(x.verdict).toBe('fail');
    expect(x.reasons).toContain('the patched service never became healthy on /healthz (it exited with 1)');
  });

  it('a mismatch names the request, the path and both values in the reason', () => {
    const b = base(true, true);
    const v = decide(b, candidate({ ...passing, differential: 'mismatch' }, b));
    expect(v.reasons).toContain(
      '1 healthy request(s) answer differently after the patch (1 difference(s); first: POST /quote $.total: 24 → 25)',
    );
  });

  it('lists 20 mismatches per request and counts the rest', () => {
    const wide = (v: number) => json(200, Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, v])));
    const b = {
      ...base(true, true),
      primary: serve('healthy-primary', [wide(1)]),
      secondary: serve('healthy-secondary', [wide(1)]),
    };
    const c = { ...candidate(passing, b), healthy: serve('healthy-candidate', [wide(2)]) };
    const v = decide(b, c);
    expect(v.differential.mismatches).toHaveLength(20);
    expect(v.differential.omitted).toBe(10);
    expect(v.reasons.join('\n')).toContain('(30 difference(s); first: POST /quote $.f0: 1 → 2)');
  });

  it('the base test suite failing is said next to the candidate failing it', () => {
    const b = { ...base(true, true), tests: run('tests-base', 2) };
    const v = decide(b, candidate({ ...passing, tests: false }, b));
    expect(v.reasons).toContain('the test command failed (exit 1); it fails on the base revision too (exit 2)');
  });
});

describe('step limits', () => {
  it('scale with the base step, with a floor and the static limit as ceiling', () => {
    expect(scaledLimit(200, SCALE)).toEqual({ sec: 5, baseMs: 200 });
    expect(scaledLimit(3000, SCALE)).toEqual({ sec: 15, baseMs: 3000 });
    expect(scaledLimit(30_000, SCALE)).toEqual({ sec: 60, baseMs: 30_000 });
    expect(scaledLimit(null, SCALE)).toEqual({ sec: 60, baseMs: null });
    expect(describeLimit({ sec: 15, baseMs: 3000 }, SCALE)).toBe('the 15 s limit (5 × 3.0 s on base, at least 5 s)');
    expect(describeLimit({ sec: 60, baseMs: null }, SCALE)).toBe('the 60 s limit (limits.stepTimeoutSec)');
  });

  it('take each candidate step from the same step on base; a base service that never came up gives none', () => {
    const b = base(true, true, {
      replay: serve('replay-base', [json(500, {})], { durationMs: 800, startupMs: 300 }),
      primary: serve('healthy-primary', [], { durationMs: 2000, startupMs: 1500 }),
      tests: run('tests-base', 0, { durationMs: 4000 }),
      regressionBefore: [run('regression-before#0', 1, { durationMs: 6000 })],
    });
    expect(candidateLimits(b, SCALE)).toEqual({
      replay: { step: { sec: 5, baseMs: 800 }, startup: { sec: 5, baseMs: 300 } },
      healthy: { step: { sec: 10, baseMs: 2000 }, startup: { sec: 7.5, baseMs: 1500 } },
      tests: { sec: 20, baseMs: 4000 },
      ownTests: { sec: 30, baseMs: 6000 },
    });
    const down = { ...b, replay: serve('replay-base', [], { healthy: false, startupMs: 30_000 }) };
    expect(candidateLimits(down, SCALE).replay.step).toEqual({ sec: 60, baseMs: null });
  });
});
