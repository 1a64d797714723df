/**
 * Verification: a candidate patch earns `pass` only by evidence gathered in hardened containers.
 *   reproduce  the base service, replaying the incident's failing requests, answers 5xx or dies
 *   fixed      the patched service answers them without 5xx and stays healthy
 *   differential  every healthy request gets the same status and (normalised) body on base and patched
 *   tests      the repo's test command passes on the patched tree
 *   regression the candidate's new test fails on base and passes on patched
 * Base-side work (the base replay) is done once per incident in `prepareBaseline` and shared by candidates.
 * Test code is the base revision's: a candidate that changes test-runner configuration fails unrun, and its
 * added test files are absent from the suite run and run each on its own (`regression-after`, `added-test`),
 * so a test that patches the runner at import can only forge its own result, which must also fail on base.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceConfig } from '../config/service.ts';
import { singleTestCommand } from '../diagnose/regression-test.ts';
import type { Incident, RequestSample } from '../incident/types.ts';
import { runnerConfigChange, runnerConfigKind } from '../policy/runner-config.ts';
import { readInTree } from './confined.ts';
import { type ContainerRun, runPlan, sweepStale } from './docker.ts';
import { normaliseBody } from './normalise.ts';
import { applyPatchGuarded, type TreeChange } from './patch-guard.ts';
import type { HttpResult, Plan, PlanFile, RunResult, ServeResult, Step } from './plan.ts';
import { type InstallNetwork, prepareImage } from './prepare.ts';
import { copyTree, PatchError, removeTree } from './trees.ts';

export interface Mismatch {
  request: string;
  base: { status: number | null; body: string };
  patched: { status: number | null; body: string };
}

export interface Verdict {
  verdict: 'pass' | 'fail';
  reproduced: boolean;
  fixed: boolean;
  testsPassed: boolean;
  regressionTest: { file: string; failsBefore: boolean; passesAfter: boolean } | null;
  differential: { compared: number; mismatches: Mismatch[] };
  reasons: string[];
  durationMs: number;
  /** The network the dependency install ran on (`host`: it could reach the host's loopback); null: no install. */
  installNetwork: InstallNetwork | null;
  /** Status codes and output excerpts behind each check. */
  evidence: {
    base?: { failing: (number | null)[]; healthy: (number | null)[] };
    patched?: { failing: (number | null)[]; healthy: (number | null)[]; healthyAfter: boolean };
    tests?: { exitCode: number | null; stopped: string | null; output: string };
    regressionBefore?: { exitCode: number | null; output: string };
    regressionAfter?: { exitCode: number | null; output: string };
  };
}

export interface Baseline {
  tree: string;
  /** The image candidates run in: the sandbox image, plus the base revision's installed dependencies. */
  image: string;
  installNetwork: InstallNetwork | null;
  config: ServiceConfig;
  incident: Incident;
  reproduced: boolean;
  failing: HttpResult[];
  healthy: HttpResult[];
  reasons: string[];
  durationMs: number;
  /** Regression-test runs on base, by test content: shared by candidates that carry the same test. */
  regressionRuns: Map<string, Promise<ContainerRun>>;
  /** Settles when the base replay is done and the fields above are final. */
  ready: Promise<void>;
}

function serveStep(name: string, config: ServiceConfig, requests: RequestSample[]): Step {
  return {
    kind: 'serve',
    name,
    start: config.start!,
    port: config.port,
    health: config.health,
    requests: requests.map(({ status: _s, ...r }) => r),
    timeoutSec: config.limits.stepTimeoutSec,
    startupTimeoutSec: Math.min(30, config.limits.stepTimeoutSec),
  };
}

function containerTimeout(plan: Plan): number {
  return (plan.steps.reduce((s, st) => s + (st.kind === 'stash' ? 60 : st.timeoutSec), 0) + 30) * 1000;
}

function runIn(
  baseline: Pick<Baseline, 'image' | 'config'>,
  tree: string,
  plan: Plan,
  name: string,
): Promise<ContainerRun> {
  const { config, image } = baseline;
  return runPlan({ image, workspace: tree, plan, limits: config.limits, timeoutMs: containerTimeout(plan), name });
}

function isServerFailure(r: HttpResult): boolean {
  return r.status === null || r.status >= 500;
}

function diedReason(run: ContainerRun, config: ServiceConfig): string {
  if (run.setupError) {
    return `the sandbox could not set up the workspace${run.workspaceFull ? ` (it is over limits.workspace, ${config.limits.workspace})` : ''}: ${run.setupError}`;
  }
  if (run.timedOut) return 'the sandbox hit its wall-clock limit';
  if (run.exitCode === 137) return 'the sandbox was killed (out of memory or over a limit)';
  return `the sandbox driver died (exit ${run.exitCode ?? '?'})${run.log ? `: ${run.log.trim().split('\n').pop()}` : ''}`;
}

/**
 * Base-side evidence, computed once per incident: does replaying the failing requests reproduce the crash?
 * Returns as soon as the image is prepared; the base replay runs on in the background (`ready`) so the
 * candidates' containers start alongside it instead of after it.
 */
export async function prepareBaseline(opts: {
  tree: string;
  config: ServiceConfig;
  incident: Incident;
  /** Candidates known up front: their regression tests run on base in the base container. */
  candidates?: { patch: string; testFile?: string }[];
  /** The repository's identity for the prepared-image cache (prepare.ts `repoIdentity`). */
  repoId?: string;
  progress?: (m: string) => void;
}): Promise<Baseline> {
  const started = performance.now();
  await sweepStale().catch(() => 0);
  const { tree, config, incident } = opts;
  const { image, installNetwork } = await prepareImage({
    tree,
    config,
    ...(opts.repoId ? { repoId: opts.repoId } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  });
  const base: Baseline = {
    tree,
    image,
    installNetwork,
    config,
    incident,
    reproduced: false,
    failing: [],
    healthy: [],
    reasons: [],
    durationMs: 0,
    regressionRuns: new Map(),
    ready: Promise.resolve(),
  };
  const tests = await baseTests(base, opts.candidates ?? []);
  const running = runBase(base, tests);
  // Registered before returning, so candidates verified right away find their test's base run here.
  tests.forEach((t, i) => {
    base.regressionRuns.set(
      t.key,
      running.then((r) => {
        const step = r?.results?.find((x) => x.name === `regression-before#${i}`);
        const run: ContainerRun = r ?? { exitCode: null, timedOut: false, log: '', durationMs: 0 };
        const { results: _all, ...rest } = run;
        return step ? { ...rest, results: [{ ...step, name: 'regression-before' }] } : rest;
      }),
    );
  });
  base.ready = running.then(
    (run) => {
      interpretReplay(base, run);
      base.durationMs = Math.round(performance.now() - started);
    },
    (err: unknown) => {
      base.reasons.push(`base replay failed: ${err instanceof Error ? err.message : String(err)}`);
    },
  );
  return base;
}

interface BaseTest {
  key: string;
  file: string;
  command: string;
  content: Buffer;
}

/** A test file as the driver writes it into the workspace (as the sandbox user) before its step. */
function planFile(path: string, content: Buffer): PlanFile {
  return { path, data: content.toString('base64') };
}

/**
 * The regression test that rides along in the base container: the first candidate's (templates share one
 * test per incident, so usually it is everyone's). Only one: two different AI-written tests in one
 * container could tamper with each other's files and fake a "fails on base"; other tests get their own.
 */
async function baseTests(base: Baseline, candidates: { patch: string; testFile?: string }[]): Promise<BaseTest[]> {
  const first = candidates.find((c) => c.testFile);
  if (!first?.testFile) return [];
  const command = singleTestCommand(base.config, first.testFile);
  try {
    return [{ ...(await testKey(base.tree, first.patch, first.testFile, command)), file: first.testFile, command }];
  } catch {
    return []; // a test that does not apply is the candidate's own failure, reported when it is verified
  }
}

/** Starts the base container: the replay (when possible) and the candidates' regression tests on base. */
async function runBase(base: Baseline, tests: BaseTest[]): Promise<ContainerRun | undefined> {
  const { config, incident, reasons } = base;
  const steps: Step[] = [];
  if (!config.start) {
    reasons.push('suture.yaml has no `start` command: requests cannot be replayed');
  } else if (incident.requests.length === 0) {
    reasons.push('the incident carries no failing request to replay');
  } else {
    steps.push(serveStep('replay-base', config, [...incident.requests, ...incident.healthyRequests]));
  }
  // The regression test rides along after the replay (one container start instead of two), written into
  // the workspace only then; the driver's results are out of the test's reach (another uid).
  tests.forEach((t, i) => {
    steps.push({
      kind: 'run',
      name: `regression-before#${i}`,
      command: t.command,
      timeoutSec: config.limits.stepTimeoutSec,
      files: [planFile(t.file, t.content)],
    });
  });
  if (steps.length === 0) return undefined;
  return runIn(base, base.tree, { outputBytes: config.limits.outputBytes, steps }, 'base');
}

/** Reads the base replay out of the base container's results. */
function interpretReplay(base: Baseline, run: ContainerRun | undefined): void {
  const { config, incident, reasons } = base;
  if (!config.start || incident.requests.length === 0) return;
  const serve = run?.results?.find((r) => r.name === 'replay-base') as ServeResult | undefined;
  if (!run || !serve) {
    reasons.push(`base replay: ${run ? diedReason(run, config) : 'no result'}`);
  } else if (!serve.healthy) {
    reasons.push(
      `base service never became healthy on ${config.health}: ${serve.output.trim().split('\n').pop() ?? ''}`,
    );
  } else {
    base.failing = serve.responses.slice(0, incident.requests.length);
    base.healthy = serve.responses.slice(incident.requests.length);
    base.reproduced = base.failing.some(isServerFailure) || !serve.aliveAfter;
    if (!base.reproduced) {
      reasons.push(
        'replaying the failing requests on base did not reproduce the crash (it may depend on state the request does not carry)',
      );
    }
  }
}

/**
 * Test files, by the conventions of the runners suture drives (pytest, node --test, jest, mocha, vitest):
 * test directories and test-named files. Broad on purpose: what matches may be added, never changed or
 * deleted, and is kept out of the suite run when a candidate adds it.
 */
const TEST_PATH =
  /(^|\/)(tests?|__tests__|specs?)\/|(^|\/)(test|spec)([_.-][^/]*)?\.[^/.]+$|[^/][_.-](test|spec)\.[^/.]+$/i;
/** A test file the runner collects on its own (not a helper or fixture in a test directory). */
const TEST_MODULE = /(^|\/)(test|spec)([_.-][^/]*)?\.(py|[cm]?[jt]sx?)$|[^/][_.-](test|spec)\.(py|[cm]?[jt]sx?)$/i;

export function isTestPath(p: string): boolean {
  return TEST_PATH.test(p);
}

export function isTestModule(p: string): boolean {
  return TEST_MODULE.test(p);
}

function excerpt(r: RunResult | undefined): string {
  if (!r) return '';
  const text = r.output.trim();
  return text.length > 1500 ? `…${text.slice(-1500)}` : text;
}

/** Test and runner-configuration files are small; anything bigger is refused rather than half-read. */
const TEST_MAX_BYTES = 2 * 1024 * 1024;

/** A file's content in a tree for comparison: null when absent, undefined when it cannot be read safely. */
function contentAt(tree: string, path: string): string | null | undefined {
  const r = readInTree(tree, path, TEST_MAX_BYTES);
  if (r.ok) return r.data.toString('utf8');
  return r.reason === 'missing' ? null : undefined;
}

/**
 * Why the change may not be verified at all: it deletes or rewrites tests, or it changes test-runner
 * configuration (policy/runner-config.ts). Empty when it may.
 */
function refusals(change: TreeChange, base: string, patched: string, testCommand: string): string[] {
  const removed = change.deleted.filter(isTestPath);
  const touched = change.modified.filter(isTestPath);
  if (removed.length) return [`the patch deletes tests: ${removed.join(', ')}`];
  if (touched.length) return [`the patch modifies existing tests: ${touched.join(', ')}`];
  const out: string[] = [];
  for (const path of [...change.added, ...change.deleted, ...change.modified]) {
    if (runnerConfigKind(path, testCommand) === null) continue;
    const [before, after] = [contentAt(base, path), contentAt(patched, path)];
    const reason =
      before === undefined || after === undefined
        ? `${path} configures the test runner and cannot be compared (not a regular file within ${TEST_MAX_BYTES} bytes)`
        : runnerConfigChange(path, before, after, testCommand);
    if (reason) out.push(reason);
  }
  return out;
}

/** Verifies one candidate patch against a baseline. Never throws for a bad patch: it fails the verdict. */
export async function verifyCandidate(
  baseline: Baseline,
  candidate: { patch: string; testFile?: string },
): Promise<Verdict> {
  const started = performance.now();
  const { config, incident } = baseline;
  const reasons: string[] = [];
  // reproduced and evidence.base are filled in by finish(), once the base replay is done.
  const verdict: Verdict = {
    verdict: 'fail',
    reproduced: false,
    fixed: false,
    testsPassed: false,
    regressionTest: null,
    differential: { compared: 0, mismatches: [] },
    reasons,
    durationMs: 0,
    installNetwork: baseline.installNetwork,
    evidence: {},
  };
  const finish = async (): Promise<Verdict> => {
    await baseline.ready;
    verdict.reproduced = baseline.reproduced;
    verdict.evidence.base = {
      failing: baseline.failing.map((r) => r.status),
      healthy: baseline.healthy.map((r) => r.status),
    };
    verdict.durationMs = Math.round(performance.now() - started);
    return verdict;
  };

  let patched: string;
  try {
    patched = await copyTree(baseline.tree);
  } catch (err) {
    reasons.push(`cannot prepare the patched tree: ${(err as Error).message}`);
    return finish();
  }
  try {
    let change: TreeChange;
    try {
      change = await applyPatchGuarded(patched, candidate.patch);
    } catch (err) {
      reasons.push(
        err instanceof PatchError ? err.message : `cannot prepare the patched tree: ${(err as Error).message}`,
      );
      return await finish();
    }
    // Tests may be added, never deleted or rewritten, and the runner is configured by the base revision.
    reasons.push(...refusals(change, baseline.tree, patched, config.test));
    if (reasons.length) return await finish();

    // The candidate's new test files stay out of the suite run (one could patch the runner at import and
    // turn the whole suite green); they are written back for the steps that run them, each on its own.
    const addedTests = change.added.filter(isTestPath);
    const files: PlanFile[] = [];
    for (const path of addedTests) {
      const r = readInTree(patched, path, TEST_MAX_BYTES);
      if (!r.ok) {
        reasons.push(`the added test ${path} cannot be read: ${r.message}`);
        return await finish();
      }
      files.push(planFile(path, r.data));
      await rm(join(patched, path));
    }
    const own = [
      ...(candidate.testFile ? [candidate.testFile] : []),
      ...addedTests.filter((p) => p !== candidate.testFile && isTestModule(p)),
    ];

    const steps: Step[] = [];
    if (config.start && incident.requests.length) {
      steps.push(serveStep('replay-patched', config, [...incident.requests, ...incident.healthyRequests]));
    }
    steps.push({ kind: 'run', name: 'tests', command: config.test, timeoutSec: config.limits.stepTimeoutSec });
    own.forEach((path, i) => {
      steps.push({
        kind: 'run',
        name: path === candidate.testFile ? 'regression-after' : `added-test:${path}`,
        command: singleTestCommand(config, path),
        timeoutSec: config.limits.stepTimeoutSec,
        ...(i === 0 && files.length ? { files } : {}),
      });
    });
    const patchedPlan: Plan = { outputBytes: config.limits.outputBytes, steps };

    const single = candidate.testFile ? singleTestCommand(config, candidate.testFile) : undefined;
    const beforeRun =
      candidate.testFile && single
        ? regressionBefore(baseline, candidate.patch, candidate.testFile, single)
        : undefined;
    const [afterRun, before] = await Promise.all([runIn(baseline, patched, patchedPlan, 'patched'), beforeRun]);
    await baseline.ready;

    const byName = (run: ContainerRun | undefined, name: string) => run?.results?.find((r) => r.name === name);
    if (!afterRun.results || afterRun.setupError) reasons.push(`patched tree: ${diedReason(afterRun, config)}`);
    if (afterRun.workspaceFull && !afterRun.setupError) {
      reasons.push(`the workspace hit its size limit (limits.workspace, ${config.limits.workspace})`);
    }
    const serve = byName(afterRun, 'replay-patched') as ServeResult | undefined;
    if (serve) {
      const failing = serve.responses.slice(0, incident.requests.length);
      const healthy = serve.responses.slice(incident.requests.length);
      verdict.evidence.patched = {
        failing: failing.map((r) => r.status),
        healthy: healthy.map((r) => r.status),
        healthyAfter: serve.healthyAfter,
      };
      if (!serve.healthy) reasons.push(`the patched service never became healthy on ${config.health}`);
      else {
        verdict.fixed = failing.length > 0 && !failing.some(isServerFailure) && serve.aliveAfter && serve.healthyAfter;
        if (!verdict.fixed) {
          reasons.push(
            `the failing requests still fail on the patched service (statuses ${failing.map((r) => r.status ?? 'no answer').join(', ')}${serve.healthyAfter ? '' : ', unhealthy after'})`,
          );
        }
        if (baseline.healthy.length) {
          healthy.forEach((p, i) => {
            const b = baseline.healthy[i]!;
            const req = incident.healthyRequests[i]!;
            verdict.differential.compared++;
            if (b.status !== p.status || normaliseBody(b.body) !== normaliseBody(p.body)) {
              verdict.differential.mismatches.push({
                request: `${req.method} ${req.path}`,
                base: { status: b.status, body: (b.body ?? '').slice(0, 500) },
                patched: { status: p.status, body: (p.body ?? '').slice(0, 500) },
              });
            }
          });
          if (verdict.differential.mismatches.length) {
            reasons.push(
              `${verdict.differential.mismatches.length} healthy request(s) answer differently after the patch`,
            );
          }
        }
      }
    }

    const tests = byName(afterRun, 'tests') as RunResult | undefined;
    if (tests) {
      verdict.testsPassed = tests.exitCode === 0;
      verdict.evidence.tests = { exitCode: tests.exitCode, stopped: tests.stopped, output: excerpt(tests) };
      if (!verdict.testsPassed) {
        reasons.push(
          tests.stopped === 'timeout'
            ? `the test command hit its ${config.limits.stepTimeoutSec} s limit`
            : tests.stopped === 'output-limit'
              ? 'the test command flooded its output and was stopped'
              : `the test command failed (exit ${tests.exitCode})`,
        );
      }
    }

    if (candidate.testFile) {
      const after = byName(afterRun, 'regression-after') as RunResult | undefined;
      const beforeRes = byName(before, 'regression-before') as RunResult | undefined;
      verdict.regressionTest = {
        file: candidate.testFile,
        failsBefore: beforeRes !== undefined && beforeRes.exitCode !== 0 && beforeRes.stopped === null,
        passesAfter: after?.exitCode === 0,
      };
      verdict.evidence.regressionBefore = { exitCode: beforeRes?.exitCode ?? null, output: excerpt(beforeRes) };
      verdict.evidence.regressionAfter = { exitCode: after?.exitCode ?? null, output: excerpt(after) };
      if (!verdict.regressionTest.failsBefore) reasons.push('the regression test does not fail on the base revision');
      if (!verdict.regressionTest.passesAfter)
        reasons.push('the regression test does not pass on the patched revision');
    }
    const othersFailing = own
      .filter((p) => p !== candidate.testFile)
      .filter((p) => (byName(afterRun, `added-test:${p}`) as RunResult | undefined)?.exitCode !== 0);
    for (const p of othersFailing) reasons.push(`the added test ${p} does not pass on its own on the patched revision`);

    const rt = verdict.regressionTest;
    const proven = baseline.reproduced ? verdict.fixed : Boolean(rt?.failsBefore && rt.passesAfter);
    if (!baseline.reproduced && !rt)
      reasons.push('the crash was not reproduced and the candidate has no regression test');
    const regressionOk = rt === null || (rt.failsBefore && rt.passesAfter);
    if (
      proven &&
      verdict.testsPassed &&
      regressionOk &&
      othersFailing.length === 0 &&
      verdict.differential.mismatches.length === 0 &&
      afterRun.results
    ) {
      verdict.verdict = 'pass';
    }
    if (!baseline.reproduced) reasons.unshift(...baseline.reasons);
    if (!rt) reasons.push('the candidate has no regression test');
    if (baseline.healthy.length === 0) reasons.push('the incident has no healthy samples: differential replay skipped');
    return finish();
  } finally {
    await removeTree(patched);
  }
}

/**
 * The content of the test file `patch` adds (applied alone to a scratch copy of `tree`, under the same
 * guard as the whole patch), keyed with the command that runs it.
 */
async function testKey(tree: string, patch: string, testFile: string, command: string) {
  const dir = await copyTree(tree);
  try {
    await applyPatchGuarded(dir, patch, [testFile]);
    const r = readInTree(dir, testFile, TEST_MAX_BYTES);
    if (!r.ok) throw new PatchError(`the regression test cannot be read: ${r.message}`);
    const key = createHash('sha256').update(`${testFile}\n${command}\n`).update(r.data).digest('hex');
    return { key, content: r.data };
  } finally {
    await removeTree(dir);
  }
}

/**
 * The candidate's regression test run on the base tree (it must fail there). Candidates often share the
 * same test (it replays the incident's request), so the run is cached per test file content.
 */
async function regressionBefore(baseline: Baseline, patch: string, testFile: string, command: string) {
  let key: string;
  let content: Buffer;
  try {
    ({ key, content } = await testKey(baseline.tree, patch, testFile, command));
  } catch {
    return undefined; // the whole patch was refused already, or the test is not in it: no base run
  }
  let run = baseline.regressionRuns.get(key);
  if (!run) {
    const plan: Plan = {
      outputBytes: baseline.config.limits.outputBytes,
      steps: [
        {
          kind: 'run',
          name: 'regression-before',
          command,
          timeoutSec: baseline.config.limits.stepTimeoutSec,
          files: [planFile(testFile, content)],
        },
      ],
    };
    run = runIn(baseline, baseline.tree, plan, 'regression-before');
    baseline.regressionRuns.set(key, run);
  }
  return await run;
}
