/**
 * Verification, the I/O side: the base revision and each candidate run in hardened containers, and what they
 * did comes back as plain records (records.ts); verdict.ts decides the verdict from them, without I/O.
 *   runBase       once per incident, before any candidate: the failing requests on a fresh base service
 *                 (reproduce), the healthy requests on another (the differential's primary), the repo's test
 *                 command (the reference for the candidates' test limits) and the first candidate's
 *                 regression test
 *   runSecondary  the healthy requests on a third base service in a container of its own, a second after
 *                 the primary (the differential's secondary), alongside the candidates
 *   runCandidate  the patched tree: the failing requests (fixed), the healthy requests (differential), the
 *                 test command and the candidate's own tests, each step bounded by max(floor, k × the same
 *                 step on base) (step-limits.ts), stopping at the first step that hits a limit
 * Candidates wait for the base run, so their limits are known before their steps run.
 * Test code is the base revision's: a candidate that changes test-runner configuration fails unrun, and its
 * added test files are absent from the suite run and run each on its own (`regression-after`, `added-test`),
 * so a test that patches the runner at import can only forge its own result, which must also fail on base.
 */
import { createHash } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { ServiceConfig } from '../config/service.ts';
import { singleTestCommand } from '../diagnose/regression-test.ts';
import { repoViewOfTree } from '../diagnose/tests/gather.ts';
import { detectTestSetup, type TestSetup } from '../diagnose/tests/setup.ts';
import { SutureError } from '../errors.ts';
import type { Incident, RequestSample } from '../incident/types.ts';
import { runnerConfigChange, runnerConfigKind } from '../policy/runner-config.ts';
import { readInTree } from './confined.ts';
import { type IgnorePath, parseIgnorePath } from './differential.ts';
import { type ContainerRun, runPlan, sweepStale } from './docker.ts';
import { applyPatchGuarded, type TreeChange } from './patch-guard.ts';
import type { Plan, PlanFile, RunResult, ServeResult, ServeStep, Step } from './plan.ts';
import { type InstallNetwork, prepareImage } from './prepare.ts';
import type { BaseRecord, CandidateRecord } from './records.ts';
import { candidateLimits, type ScaleOptions } from './step-limits.ts';
import { copyTree, PatchError, removeTree } from './trees.ts';
import { decideVerdict, reproduction, type Verdict } from './verdict.ts';

export type { Mismatch, Verdict } from './verdict.ts';

/** Runs a plan in a sandbox container (docker.ts `runPlan`; tests pass their own). */
export type PlanRunner = (opts: Parameters<typeof runPlan>[0]) => Promise<ContainerRun>;

export interface Baseline {
  tree: string;
  /** The image candidates run in: the sandbox image, plus the base revision's installed dependencies. */
  image: string;
  installNetwork: InstallNetwork | null;
  config: ServiceConfig;
  incident: Incident;
  /** Set once `ready` settles. */
  reproduced: boolean;
  reasons: string[];
  durationMs: number;
  /** The base run; never rejects (a run that failed is a record with its problem). */
  record: Promise<BaseRecord>;
  /** The base run with the differential's second instance (run alongside the candidates); never rejects. */
  complete: Promise<BaseRecord>;
  /** Regression-test runs on base, by test content: shared by candidates that carry the same test. */
  regressionRuns: Map<string, Promise<RunResult | null>>;
  /** The repo's test runner and conventions at the base revision: how one test file is run (jest, vitest,
   * mocha, pytest, unittest, node:test), whoever wrote the test. */
  testSetup: TestSetup;
  /** Settles (never rejects) when the base run is done and the fields above are final. */
  ready: Promise<void>;
  runner: PlanRunner;
}

/** A crash that comes a moment after the answer (an exit hook, a background task) still counts. */
const SETTLE_MS = 250;
/** The second base instance sends each healthy request at least this long after the first got it. */
const SECONDARY_GAP_SEC = 1.05;

function serveStep(
  name: string,
  config: ServiceConfig,
  requests: RequestSample[],
  o: { timeoutSec: number; startupTimeoutSec: number } & Pick<ServeStep, 'settleMs' | 'notBefore'>,
): Step {
  return {
    kind: 'serve',
    name,
    start: config.start!,
    port: config.port,
    health: config.health,
    requests: requests.map(({ status: _s, ...r }) => r),
    ...o,
  };
}

/** What a base step gets: the static limits (the base is the reference, not the suspect). */
function baseServe(config: ServiceConfig) {
  const timeoutSec = config.limits.stepTimeoutSec;
  return { timeoutSec, startupTimeoutSec: Math.min(30, timeoutSec) };
}

function scaleOptions(config: ServiceConfig): ScaleOptions {
  const { stepFactor, stepFloorSec, stepTimeoutSec } = config.limits;
  return { factor: stepFactor, floorSec: stepFloorSec, ceilingSec: stepTimeoutSec };
}

function containerTimeout(plan: Plan): number {
  return (plan.steps.reduce((s, st) => s + (st.kind === 'stash' ? 60 : st.timeoutSec), 0) + 30) * 1000;
}

function runIn(baseline: Baseline, tree: string, plan: Plan, name: string): Promise<ContainerRun> {
  const { config, image } = baseline;
  return baseline.runner({
    image,
    workspace: tree,
    plan,
    limits: config.limits,
    timeoutMs: containerTimeout(plan),
    name,
  });
}

function diedReason(run: ContainerRun, config: ServiceConfig): string {
  if (run.setupError) {
    return `the sandbox could not set up the workspace${run.workspaceFull ? ` (it is over limits.workspace, ${config.limits.workspace})` : ''}: ${run.setupError}`;
  }
  if (run.timedOut) return 'the sandbox hit its wall-clock limit';
  if (run.exitCode === 137) return 'the sandbox was killed (out of memory or over a limit)';
  return `the sandbox driver died (exit ${run.exitCode ?? '?'})${run.log ? `: ${run.log.trim().split('\n').pop()}` : ''}`;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** suture.yaml's differential.ignore as paths; an entry that is not one is bad config. */
function ignoreList(config: ServiceConfig): IgnorePath[] {
  return (config.differential?.ignore ?? []).map((text) => {
    const r = parseIgnorePath(text);
    if ('error' in r) throw new SutureError('BAD_CONFIG', `suture.yaml: differential.ignore: ${r.error}`);
    return r.path;
  });
}

/**
 * Base-side evidence, computed once per incident. Returns as soon as the image is prepared; the base run
 * goes on in the background (`record`, `ready`), and candidates wait for it before their own steps run.
 */
export async function prepareBaseline(opts: {
  tree: string;
  config: ServiceConfig;
  incident: Incident;
  /** Candidates known up front: the first one's regression test runs on base in the base container. */
  candidates?: { patch: string; testFile?: string }[];
  /** The repository's identity for the prepared-image cache (prepare.ts `repoIdentity`). */
  repoId?: string;
  progress?: (m: string) => void;
}): Promise<Baseline> {
  ignoreList(opts.config); // bad config before anything is installed or run
  await sweepStale().catch(() => 0);
  const { image, installNetwork } = await prepareImage({
    tree: opts.tree,
    config: opts.config,
    ...(opts.repoId ? { repoId: opts.repoId } : {}),
    ...(opts.progress ? { progress: opts.progress } : {}),
  });
  return startBaseline({ ...opts, image, installNetwork, runner: runPlan });
}

/** The base run on a prepared image, with the given plan runner (prepareBaseline's second half). */
export async function startBaseline(opts: {
  tree: string;
  config: ServiceConfig;
  incident: Incident;
  image: string;
  installNetwork: InstallNetwork | null;
  runner: PlanRunner;
  candidates?: { patch: string; testFile?: string }[];
}): Promise<Baseline> {
  ignoreList(opts.config);
  const base: Baseline = {
    tree: opts.tree,
    image: opts.image,
    installNetwork: opts.installNetwork,
    config: opts.config,
    incident: opts.incident,
    reproduced: false,
    reasons: [],
    durationMs: 0,
    record: Promise.resolve(emptyBase(opts.installNetwork, 'not started')),
    complete: Promise.resolve(emptyBase(opts.installNetwork, 'not started')),
    regressionRuns: new Map(),
    testSetup: detectTestSetup(opts.config, repoViewOfTree(opts.tree)),
    ready: Promise.resolve(),
    runner: opts.runner,
  };
  const tests = await baseTests(base, opts.candidates ?? []);
  base.record = runBase(base, tests);
  base.complete = base.record.then((r) => runSecondary(base, r));
  // Registered before returning, so candidates verified right away find their test's base run here.
  tests.forEach((t, i) => {
    base.regressionRuns.set(
      t.key,
      base.record.then((r) => r.regressionBefore[i] ?? null),
    );
  });
  base.ready = base.record.then((r) => {
    const repro = reproduction(r, base.config.health);
    base.reproduced = repro.reproduced;
    const unsaid = r.problem && !repro.reasons.some((x) => x.includes(r.problem!));
    base.reasons = unsaid ? [...repro.reasons, `base run: ${r.problem}`] : repro.reasons;
    base.durationMs = r.durationMs;
  });
  return base;
}

function emptyBase(installNetwork: InstallNetwork | null, problem: string | null): BaseRecord {
  return {
    replaySkipped: null,
    replay: null,
    primary: null,
    secondary: null,
    secondaryProblem: null,
    tests: null,
    regressionBefore: [],
    problem,
    installNetwork,
    durationMs: 0,
  };
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
  const command = singleTestCommand(base.config, first.testFile, base.testSetup);
  try {
    return [{ ...(await testKey(base.tree, first.patch, first.testFile, command)), file: first.testFile, command }];
  } catch {
    return []; // a test that does not apply is the candidate's own failure, reported when it is verified
  }
}

/**
 * The base run, in one container: the failing requests on a fresh service, the healthy requests on a fresh
 * service (the differential's primary), the test command, then the first candidate's regression test. What
 * candidates need for their limits is then known. Never rejects: a run that could not happen is a record
 * with its problem.
 */
export async function runBase(base: Baseline, tests: BaseTest[] = []): Promise<BaseRecord> {
  const started = performance.now();
  const { config, incident } = base;
  const record = emptyBase(base.installNetwork, null);
  const steps: Step[] = [];
  if (!config.start) {
    record.replaySkipped = 'suture.yaml has no `start` command: requests cannot be replayed';
  } else if (incident.requests.length === 0) {
    record.replaySkipped = 'the incident carries no failing request to replay';
  } else {
    steps.push(serveStep('replay-base', config, incident.requests, { ...baseServe(config), settleMs: SETTLE_MS }));
  }
  if (config.start && incident.healthyRequests.length > 0) {
    steps.push(serveStep('healthy-primary', config, incident.healthyRequests, baseServe(config)));
  }
  steps.push({ kind: 'run', name: 'tests-base', command: config.test, timeoutSec: config.limits.stepTimeoutSec });
  // The regression test is written into the workspace only now; the driver's results are out of its reach
  // (another uid).
  // It is a candidate's code: its limit scales with the base test run, like the candidate's own steps.
  const { factor, floorSec } = scaleOptions(config);
  tests.forEach((t, i) => {
    steps.push({
      kind: 'run',
      name: `regression-before#${i}`,
      command: t.command,
      timeoutSec: config.limits.stepTimeoutSec,
      scaleFrom: { step: 'tests-base', factor, floorSec },
      files: [planFile(t.file, t.content)],
    });
  });
  let run: ContainerRun;
  try {
    run = await runIn(base, base.tree, { outputBytes: config.limits.outputBytes, steps }, 'base');
  } catch (err) {
    record.problem = `the base run failed: ${message(err)}`;
    record.durationMs = Math.round(performance.now() - started);
    return record;
  }
  const byName = (name: string) => run.results?.find((r) => r.name === name) ?? null;
  if (!run.results || run.setupError) record.problem = diedReason(run, config);
  record.replay = byName('replay-base') as ServeResult | null;
  record.primary = byName('healthy-primary') as ServeResult | null;
  record.tests = byName('tests-base') as RunResult | null;
  record.regressionBefore = tests.map((_, i) => byName(`regression-before#${i}`) as RunResult | null);
  record.durationMs = Math.round(performance.now() - started);
  return record;
}

/**
 * The differential's second base instance, in a container of its own (so what differs per container, such
 * as the hostname, is noise too), after the primary: each request at least a second after the primary got
 * it, so clock values of second precision differ between the two. It runs alongside the candidates. Never
 * rejects.
 */
async function runSecondary(base: Baseline, record: BaseRecord): Promise<BaseRecord> {
  const { config, incident } = base;
  if (!record.primary?.healthy) return record;
  const notBefore = record.primary.responses.map((r) => (r.sentAt ?? 0) + SECONDARY_GAP_SEC);
  const step = serveStep('healthy-secondary', config, incident.healthyRequests, { ...baseServe(config), notBefore });
  try {
    const run = await runIn(base, base.tree, { outputBytes: config.limits.outputBytes, steps: [step] }, 'secondary');
    const serve = (run.results?.find((r) => r.name === 'healthy-secondary') as ServeResult | undefined) ?? null;
    return { ...record, secondary: serve, secondaryProblem: serve ? null : diedReason(run, config) };
  } catch (err) {
    return { ...record, secondaryProblem: message(err) };
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
  const record = await runCandidate(baseline, candidate);
  const base = await baseline.complete;
  const { config, incident } = baseline;
  return decideVerdict(base, record, {
    failing: incident.requests.length,
    healthy: incident.healthyRequests.map((r) => `${r.method} ${r.path}`),
    health: config.health,
    workspace: config.limits.workspace,
    ignore: ignoreList(config),
    scale: scaleOptions(config),
    durationMs: Math.round(performance.now() - started),
  });
}

function emptyCandidate(): CandidateRecord {
  return {
    refused: [],
    notRun: null,
    replay: null,
    healthy: null,
    tests: null,
    regression: null,
    addedTests: [],
    problem: null,
    workspaceFull: false,
    limits: null,
    durationMs: 0,
  };
}

/**
 * Runs one candidate: applies its patch to a copy of the base tree (refusing what may not be verified),
 * waits for the base run, then runs the patched tree's steps under limits scaled from it. Never rejects for
 * anything the candidate or the sandbox did: that is in the record.
 */
export async function runCandidate(
  baseline: Baseline,
  candidate: { patch: string; testFile?: string },
): Promise<CandidateRecord> {
  const started = performance.now();
  const { config, incident } = baseline;
  const record = emptyCandidate();
  const done = () => {
    record.durationMs = Math.round(performance.now() - started);
    return record;
  };
  let patched: string;
  try {
    patched = await copyTree(baseline.tree);
  } catch (err) {
    record.refused.push(`cannot prepare the patched tree: ${message(err)}`);
    return done();
  }
  try {
    let change: TreeChange;
    try {
      change = await applyPatchGuarded(patched, candidate.patch);
    } catch (err) {
      record.refused.push(err instanceof PatchError ? err.message : `cannot prepare the patched tree: ${message(err)}`);
      return done();
    }
    // Tests may be added, never deleted or rewritten, and the runner is configured by the base revision.
    record.refused.push(...refusals(change, baseline.tree, patched, config.test));
    if (record.refused.length) return done();

    // The candidate's new test files stay out of the suite run (one could patch the runner at import and
    // turn the whole suite green); they are written back for the steps that run them, each on its own.
    const addedTests = change.added.filter(isTestPath);
    const files: PlanFile[] = [];
    for (const path of addedTests) {
      const r = readInTree(patched, path, TEST_MAX_BYTES);
      if (!r.ok) {
        record.refused.push(`the added test ${path} cannot be read: ${r.message}`);
        return done();
      }
      files.push(planFile(path, r.data));
      await rm(join(patched, path));
    }
    const own = [
      ...(candidate.testFile ? [candidate.testFile] : []),
      ...addedTests.filter((p) => p !== candidate.testFile && isTestModule(p)),
    ];

    // The regression test's base run (its own container unless it rode along with the base run) overlaps
    // with the wait for the base run.
    const single = candidate.testFile ? singleTestCommand(config, candidate.testFile, baseline.testSetup) : undefined;
    const beforeRun =
      candidate.testFile && single
        ? regressionBefore(baseline, candidate.patch, candidate.testFile, single)
        : Promise.resolve(null);
    const base = await baseline.record;
    if (!base.replay && !base.primary && !base.tests && base.problem) {
      record.notRun = `the candidate was not run: the base run gives nothing to measure it against (${base.problem})`;
      await beforeRun;
      return done();
    }
    const limits = candidateLimits(base, scaleOptions(config));
    record.limits = limits;

    const steps: Step[] = [];
    if (!base.replaySkipped) {
      steps.push(
        serveStep('replay-patched', config, incident.requests, {
          timeoutSec: limits.replay.step.sec,
          startupTimeoutSec: limits.replay.startup.sec,
          settleMs: SETTLE_MS,
        }),
      );
    }
    if (config.start && incident.healthyRequests.length) {
      steps.push(
        serveStep('healthy-candidate', config, incident.healthyRequests, {
          timeoutSec: limits.healthy.step.sec,
          startupTimeoutSec: limits.healthy.startup.sec,
        }),
      );
    }
    steps.push({ kind: 'run', name: 'tests', command: config.test, timeoutSec: limits.tests.sec });
    own.forEach((path, i) => {
      steps.push({
        kind: 'run',
        name: path === candidate.testFile ? 'regression-after' : `added-test:${path}`,
        command: singleTestCommand(config, path, baseline.testSetup),
        timeoutSec: limits.ownTests.sec,
        ...(i === 0 && files.length ? { files } : {}),
      });
    });
    const plan: Plan = { outputBytes: config.limits.outputBytes, steps, stopAfterLimit: true };

    let run: ContainerRun;
    try {
      run = await runIn(baseline, patched, plan, 'patched');
    } catch (err) {
      record.problem = `the sandbox could not run the candidate: ${message(err)}`;
      await beforeRun;
      return done();
    }
    const byName = (name: string) => run.results?.find((r) => r.name === name) ?? null;
    if (!run.results || run.setupError) record.problem = diedReason(run, config);
    record.workspaceFull = run.workspaceFull === true;
    record.replay = byName('replay-patched') as ServeResult | null;
    record.healthy = byName('healthy-candidate') as ServeResult | null;
    record.tests = byName('tests') as RunResult | null;
    if (candidate.testFile) {
      record.regression = {
        file: candidate.testFile,
        before: await beforeRun,
        after: byName('regression-after') as RunResult | null,
      };
    }
    record.addedTests = own
      .filter((p) => p !== candidate.testFile)
      .map((path) => ({ path, result: byName(`added-test:${path}`) as RunResult | null }));
    return done();
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
 * same test (it replays the incident's request), so the run is cached per test file content. Never rejects:
 * null when it could not run.
 */
async function regressionBefore(
  baseline: Baseline,
  patch: string,
  testFile: string,
  command: string,
): Promise<RunResult | null> {
  let key: string;
  let content: Buffer;
  try {
    ({ key, content } = await testKey(baseline.tree, patch, testFile, command));
  } catch {
    return null; // the whole patch was refused already, or the test is not in it: no base run
  }
  let run = baseline.regressionRuns.get(key);
  if (!run) {
    // After the base run: the candidate's own test gets the limit its tests get on the patched tree.
    run = baseline.record.then(async (base) => {
      const plan: Plan = {
        outputBytes: baseline.config.limits.outputBytes,
        steps: [
          {
            kind: 'run',
            name: 'regression-before',
            command,
            timeoutSec: candidateLimits(base, scaleOptions(baseline.config)).ownTests.sec,
            files: [planFile(testFile, content)],
          },
        ],
      };
      try {
        const r = await runIn(baseline, baseline.tree, plan, 'regression-before');
        return (r.results?.find((x) => x.name === 'regression-before') as RunResult | undefined) ?? null;
      } catch {
        return null;
      }
    });
    baseline.regressionRuns.set(key, run);
  }
  return await run;
}
