/**
 * The verdict, decided from plain records of what the base and the candidate did (records.ts); no Docker,
 * git or file system here. A candidate earns `pass` only when
 *   proven       the base crashed on the failing requests and the patched service answers them without 5xx
 *                and stays alive and healthy after them (`fixed`); or, when replay did not reproduce the
 *                crash, its regression test fails on base and passes on the patch
 *   tests        the repo's test command passes on the patched tree, and every test it adds passes alone
 *   differential every healthy request answers as on base, but for what differs between two base instances
 *                (differential.ts); with no healthy sample the differential is `none` (the policy decides)
 *   limits       no step hit its time or output limit (step-limits.ts)
 */
import { compareAnswers, type IgnorePath, type Mismatch } from './differential.ts';
import type { HttpResult, RunResult, ServeResult } from './plan.ts';
import type { BaseRecord, CandidateRecord, StepLimit } from './records.ts';
import { describeLimit, type ScaleOptions } from './step-limits.ts';

export type { Mismatch } from './differential.ts';

/** The class of the answers the patched service gave the failing requests. */
export type StatusClass = '2xx' | '3xx' | '4xx' | 'mixed';

export interface Differential {
  /** `compared`: at least one healthy request was compared; `none`: nothing was (see the reasons). */
  status: 'compared' | 'none';
  /** Healthy requests compared field by field. */
  compared: number;
  /** At most MAX_LISTED per request; `omitted` counts the rest. */
  mismatches: Mismatch[];
  omitted: number;
  /** Per request, what differed between the two base instances and was therefore not compared (the first
   * MAX_LISTED paths). */
  noise: { request: string; paths: string[] }[];
  /** Requests whose two base answers differ in status: not comparable, not counted in `compared`. */
  unstable: string[];
}

export interface Verdict {
  verdict: 'pass' | 'fail';
  reproduced: boolean;
  fixed: boolean;
  /** The class of the patched service's answers to the failing requests when fixed (a 4xx for invalid input
   * is usually a better fix than a 2xx that invents data); null when not fixed. */
  fixedStatusClass: StatusClass | null;
  testsPassed: boolean;
  regressionTest: { file: string; failsBefore: boolean; passesAfter: boolean } | null;
  differential: Differential;
  reasons: string[];
  durationMs: number;
  /** The network the dependency install ran on (`host`: it could reach the host's loopback); null: no install. */
  installNetwork: 'isolated' | 'host' | null;
  /** Status codes, limits and output excerpts behind each check. */
  evidence: {
    base?: { failing: (number | null)[]; healthy: (number | null)[]; testsExitCode?: number | null };
    patched?: { failing: (number | null)[]; healthy: (number | null)[]; healthyAfter: boolean };
    tests?: { exitCode: number | null; stopped: string | null; output: string };
    regressionBefore?: { exitCode: number | null; output: string };
    regressionAfter?: { exitCode: number | null; output: string };
    /** The candidate's step limits in seconds, scaled from the base run. */
    limits?: { replay: number; healthy: number; tests: number; ownTests: number };
  };
}

export interface VerdictOptions {
  /** How many failing requests the incident carries. */
  failing: number;
  /** The healthy requests, as `METHOD /path` (the differential's request names). */
  healthy: string[];
  /** suture.yaml's health path and workspace size, for the reasons. */
  health: string;
  workspace: string;
  ignore: readonly IgnorePath[];
  scale: Pick<ScaleOptions, 'factor' | 'floorSec'>;
  /** Wall-clock time of the candidate's verification, reported as is. */
  durationMs: number;
}

/** Mismatches listed per request: enough to see what changed, bounded for an answer that changed wholesale. */
const MAX_LISTED = 20;

export function isServerFailure(r: HttpResult): boolean {
  return r.status === null || r.status >= 500;
}

function lastLine(text: string): string {
  return text.trim().split('\n').pop() ?? '';
}

/** Does the base run reproduce the crash? With the reasons it does not. */
export function reproduction(base: BaseRecord, health: string): { reproduced: boolean; reasons: string[] } {
  if (base.replaySkipped) return { reproduced: false, reasons: [base.replaySkipped] };
  const serve = base.replay;
  if (!serve) return { reproduced: false, reasons: [`base replay: ${base.problem ?? 'no result'}`] };
  if (!serve.healthy) {
    return {
      reproduced: false,
      reasons: [`base service never became healthy on ${health}: ${lastLine(serve.output)}`],
    };
  }
  if (serve.responses.some(isServerFailure) || !serve.aliveAfter) return { reproduced: true, reasons: [] };
  return {
    reproduced: false,
    reasons: [
      'replaying the failing requests on base did not reproduce the crash (it may depend on state the request does not carry)',
    ],
  };
}

export function statusClass(statuses: (number | null)[]): StatusClass | null {
  const classes = new Set(statuses.map((s) => (s === null ? null : `${Math.floor(s / 100)}xx`)));
  if (classes.size === 0 || classes.has(null) || classes.has('5xx') || classes.has('1xx')) return null;
  return classes.size === 1 ? ([...classes][0] as StatusClass) : 'mixed';
}

function excerpt(r: RunResult | undefined | null): string {
  if (!r) return '';
  const text = r.output.trim();
  return text.length > 1500 ? `…${text.slice(-1500)}` : text;
}

/** Why a run step did not succeed, or null when it did. */
function runFailure(
  what: string,
  r: RunResult | null,
  limit: StepLimit | undefined,
  scale: VerdictOptions['scale'],
): string | null {
  if (!r) return `${what} did not run`;
  if (r.exitCode === 0) return null;
  switch (r.stopped) {
    case 'timeout':
      return `${what} hit ${limit ? describeLimit(limit, scale) : 'its time limit'}`;
    case 'output-limit':
      return `${what} flooded its output and was stopped`;
    case 'skipped':
      return `${what} did not run: an earlier step hit its limit`;
    default:
      return `${what} failed (exit ${r.exitCode})`;
  }
}

/** Why the patched service did not come up, with the limit it was held to. */
function neverHealthy(
  serve: ServeResult,
  what: string,
  limits: { step: StepLimit; startup: StepLimit } | undefined,
  o: VerdictOptions,
): string {
  if (serve.stopped === 'skipped') return `${what} did not run: an earlier step hit its limit`;
  const base = `the patched service never became healthy on ${o.health}`;
  if (serve.stopped === 'timeout' && limits) return `${base} within ${describeLimit(limits.startup, o.scale)}`;
  if (serve.stopped === 'output-limit') return `${base}: it flooded its output and was stopped`;
  return serve.exitCode !== null ? `${base} (it exited with ${serve.exitCode})` : base;
}

function differential(base: BaseRecord, candidate: CandidateRecord, o: VerdictOptions, reasons: string[]) {
  const d: Differential = { status: 'none', compared: 0, mismatches: [], omitted: 0, noise: [], unstable: [] };
  const { primary, secondary, replaySkipped } = base;
  if (o.healthy.length === 0) {
    reasons.push('differential: none (the incident has no healthy samples to replay)');
    return d;
  }
  if (!primary?.healthy || !secondary?.healthy) {
    const why = replaySkipped?.includes('start')
      ? replaySkipped
      : !primary && base.problem
        ? `base run: ${base.problem}`
        : !secondary && base.secondaryProblem
          ? `second base instance: ${base.secondaryProblem}`
          : `the base service did not come up for the healthy samples on ${o.health}`;
    reasons.push(`differential: none (${why})`);
    return d;
  }
  const patched = candidate.healthy;
  if (!patched) return d; // the candidate did not get that far: its own failure is the reason
  if (!patched.healthy) reasons.push(neverHealthy(patched, 'the healthy replay', candidate.limits?.healthy, o));
  o.healthy.forEach((request, i) => {
    const c = compareAnswers(
      request,
      primary.responses[i] ?? { status: null },
      secondary.responses[i] ?? { status: null },
      patched.responses[i] ?? { status: null, error: 'not sent' },
      o.ignore,
    );
    if (c.outcome === 'unstable') {
      d.unstable.push(request);
      return;
    }
    d.compared++;
    d.mismatches.push(...c.mismatches.slice(0, MAX_LISTED));
    d.omitted += Math.max(0, c.mismatches.length - MAX_LISTED);
    if (c.noise.length) d.noise.push({ request, paths: c.noise.slice(0, MAX_LISTED) });
  });
  d.status = d.compared > 0 ? 'compared' : 'none';
  if (d.status === 'none') {
    reasons.push(`differential: none (the two base instances answered every healthy sample with different statuses)`);
  }
  if (d.mismatches.length) {
    const first = d.mismatches[0]!;
    reasons.push(
      `${new Set(d.mismatches.map((m) => m.request)).size} healthy request(s) answer differently after the patch (${d.mismatches.length + d.omitted} difference(s); first: ${first.request} ${first.path}: ${JSON.stringify(first.base)} → ${JSON.stringify(first.candidate)})`,
    );
  }
  return d;
}

/** The verdict on one candidate. Pure: the same records always give the same verdict. */
export function decideVerdict(base: BaseRecord, candidate: CandidateRecord, o: VerdictOptions): Verdict {
  const reasons: string[] = [];
  const repro = reproduction(base, o.health);
  const verdict: Verdict = {
    verdict: 'fail',
    reproduced: repro.reproduced,
    fixed: false,
    fixedStatusClass: null,
    testsPassed: false,
    regressionTest: null,
    differential: { status: 'none', compared: 0, mismatches: [], omitted: 0, noise: [], unstable: [] },
    reasons,
    durationMs: o.durationMs,
    installNetwork: base.installNetwork,
    evidence: {
      base: {
        failing: base.replay?.responses.map((r) => r.status) ?? [],
        healthy: base.primary?.responses.map((r) => r.status) ?? [],
        ...(base.tests ? { testsExitCode: base.tests.exitCode } : {}),
      },
    },
  };
  // A refused patch runs nothing: its reasons are the verdict.
  if (candidate.refused.length) {
    reasons.push(...candidate.refused);
    return verdict;
  }
  if (candidate.notRun) {
    reasons.push(...repro.reasons, candidate.notRun);
    return verdict;
  }
  const limits = candidate.limits;
  if (limits) {
    verdict.evidence.limits = {
      replay: limits.replay.step.sec,
      healthy: limits.healthy.step.sec,
      tests: limits.tests.sec,
      ownTests: limits.ownTests.sec,
    };
  }
  if (candidate.problem) reasons.push(`patched tree: ${candidate.problem}`);
  else if (candidate.workspaceFull) {
    reasons.push(`the workspace hit its size limit (limits.workspace, ${o.workspace})`);
  }

  // fixed: the failing requests answer without 5xx, and the service is alive and healthy after them
  const serve = candidate.replay;
  // A service that does not come up on base either is the config's problem (base reasons say so), not the
  // candidate's; one that comes up on base must come up patched.
  const serveOk = base.replay?.healthy !== true || serve?.healthy === true;
  const healthyOk = base.primary?.healthy !== true || candidate.healthy?.healthy === true;
  if (serve) {
    const failing = serve.responses.map((r) => r.status);
    verdict.evidence.patched = {
      failing,
      healthy: candidate.healthy?.responses.map((r) => r.status) ?? [],
      healthyAfter: serve.healthyAfter,
    };
    if (!serve.healthy) {
      reasons.push(neverHealthy(serve, 'the replay of the failing requests', limits?.replay, o));
    } else {
      const answered = failing.length === o.failing && !serve.responses.some(isServerFailure);
      verdict.fixed = o.failing > 0 && answered && serve.aliveAfter && serve.healthyAfter;
      if (verdict.fixed) verdict.fixedStatusClass = statusClass(failing);
      else if (!answered) {
        const stopped =
          serve.stopped === 'timeout' && limits ? `; stopped at ${describeLimit(limits.replay.step, o.scale)}` : '';
        reasons.push(
          `the failing requests still fail on the patched service (statuses ${failing.map((s) => s ?? 'no answer').join(', ')}${serve.healthyAfter ? '' : ', unhealthy after'}${stopped})`,
        );
      } else if (!serve.aliveAfter) {
        reasons.push('the patched service answered the failing requests but exited after them');
      } else {
        reasons.push(
          `the patched service answered the failing requests but was not healthy after them (${o.health} answered ${serve.healthAfterStatus ?? 'nothing'})`,
        );
      }
    }
  }

  const testsFailure = runFailure('the test command', candidate.tests, limits?.tests, o.scale);
  const tests = candidate.tests;
  if (tests) verdict.evidence.tests = { exitCode: tests.exitCode, stopped: tests.stopped, output: excerpt(tests) };
  verdict.testsPassed = testsFailure === null;
  if (testsFailure && tests) {
    reasons.push(
      base.tests && base.tests.exitCode !== 0 && tests.stopped === null
        ? `${testsFailure}; it fails on the base revision too (exit ${base.tests.exitCode})`
        : testsFailure,
    );
  }

  const rt = candidate.regression;
  if (rt) {
    const { before, after } = rt;
    verdict.regressionTest = {
      file: rt.file,
      failsBefore: before !== null && before.exitCode !== 0 && before.stopped === null,
      passesAfter: after?.exitCode === 0,
    };
    verdict.evidence.regressionBefore = { exitCode: before?.exitCode ?? null, output: excerpt(before) };
    verdict.evidence.regressionAfter = { exitCode: after?.exitCode ?? null, output: excerpt(after) };
    if (!verdict.regressionTest.failsBefore) {
      reasons.push(
        before === null
          ? 'the regression test could not be run on the base revision'
          : before.stopped
            ? `the regression test did not finish on the base revision (${runFailure('it', before, undefined, o.scale)})`
            : 'the regression test does not fail on the base revision',
      );
    }
    if (!verdict.regressionTest.passesAfter) {
      const why = after?.stopped ? runFailure('it', after, limits?.ownTests, o.scale) : null;
      reasons.push(`the regression test does not pass on the patched revision${why ? ` (${why})` : ''}`);
    }
  }
  const othersFailing = candidate.addedTests.filter((t) => t.result?.exitCode !== 0);
  for (const t of othersFailing)
    reasons.push(`the added test ${t.path} does not pass on its own on the patched revision`);

  verdict.differential = differential(base, candidate, o, reasons);

  const proven = repro.reproduced
    ? verdict.fixed
    : Boolean(rt && verdict.regressionTest?.failsBefore && verdict.regressionTest.passesAfter);
  if (!repro.reproduced && !rt) reasons.push('the crash was not reproduced and the candidate has no regression test');
  const regressionOk =
    verdict.regressionTest === null || (verdict.regressionTest.failsBefore && verdict.regressionTest.passesAfter);
  if (
    proven &&
    serveOk &&
    healthyOk &&
    verdict.testsPassed &&
    regressionOk &&
    othersFailing.length === 0 &&
    verdict.differential.mismatches.length === 0 &&
    candidate.problem === null &&
    !candidate.workspaceFull
  ) {
    verdict.verdict = 'pass';
  }
  if (!repro.reproduced) reasons.unshift(...repro.reasons);
  if (!rt) reasons.push('the candidate has no regression test');
  return verdict;
}
