/**
 * Verification's orchestration without Docker (a scripted plan runner): candidates wait for the base run and
 * get limits scaled from it; a base run that fails while candidates are pending leaves no unhandled
 * rejection; and the verdict module imports nothing that does I/O.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/config/service.ts';
import { makeGitPatch } from '../../src/diagnose/patch.ts';
import { regressionTest } from '../../src/diagnose/regression-test.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import type { ContainerRun } from '../../src/sandbox/docker.ts';
import type { Plan, RunResult, ServeResult, ServeStep, Step } from '../../src/sandbox/plan.ts';
import { type PlanRunner, startBaseline, verifyCandidate } from '../../src/sandbox/verify.ts';
import { cleanup, SERVICES, tempDir, writeIn } from '../helpers/repo.ts';

const dir = join(SERVICES, 'pricing-api');
const files = readdirSync(dir, { recursive: true }) as string[];
const config = loadServiceConfig(dir);
const incident = buildIncident(JSON.parse(readFileSync(join(dir, 'incident.json'), 'utf8')), files);
const original = readFileSync(join(dir, 'pricing.py'), 'utf8');
const fixed = original.replace(
  '    return total / len(discounts)',
  '    return total / len(discounts) if discounts else 0',
);
const test = regressionTest(incident, config, files)!;
const candidate = {
  patch: makeGitPatch([{ path: 'pricing.py', before: original, after: fixed }, test]),
  testFile: test.path,
};

/** What the driver would report for a step, with the given duration. */
function result(step: Step, durationMs: number, failing: boolean): ServeResult | RunResult {
  if (step.kind === 'serve') {
    const status = failing && step.name === 'replay-base' ? 500 : 200;
    return {
      kind: 'serve',
      name: step.name,
      healthy: true,
      startupMs: durationMs / 4,
      responses: step.requests.map(() => ({ status, body: '{"total": 24}', headers: {} })),
      aliveAfter: true,
      healthyAfter: true,
      exitCode: null,
      stopped: null,
      durationMs,
      output: '',
    };
  }
  const exitCode = step.name.startsWith('regression-before') ? 1 : 0;
  return { kind: 'run', name: step.name, exitCode, stopped: null, durationMs, output: '', outputBytes: 0 };
}

const limitOf = (s: Step) => [s.name, s.kind === 'stash' ? null : s.timeoutSec];

const ran = (plan: Plan, durationMs: number): ContainerRun => ({
  results: plan.steps.map((s) => result(s, durationMs, true)),
  exitCode: 0,
  timedOut: false,
  log: '',
  durationMs,
});

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('the order of the runs', () => {
  it('candidates run after the base run, with limits scaled from its steps', async () => {
    const events: string[] = [];
    const plans: Plan[] = [];
    let finishBase!: () => void;
    const runner: PlanRunner = async ({ plan, name }) => {
      events.push(`start ${name}`);
      plans.push(plan);
      if (name === 'base') await new Promise<void>((r) => (finishBase = r));
      events.push(`end ${name}`);
      // base steps took 2 s each; the candidate's are fine
      return ran(plan, name === 'patched' ? 100 : 2000);
    };
    const baseline = await startBaseline({
      tree: dir,
      config,
      incident,
      image: 'unused',
      installNetwork: null,
      runner,
      candidates: [candidate],
    });
    const verdict = verifyCandidate(baseline, candidate);
    await settle();
    expect(events).toEqual(['start base']);
    finishBase();
    const v = await verdict;
    // the candidate after the base run; the differential's second base instance alongside it
    expect(events.slice(0, 2)).toEqual(['start base', 'end base']);
    expect(
      events
        .slice(2)
        .filter((e) => e.startsWith('start'))
        .sort(),
    ).toEqual(['start patched', 'start secondary']);
    expect(v.verdict, v.reasons.join('; ')).toBe('pass');
    expect(v.differential).toMatchObject({ status: 'compared', compared: 2 });

    const named = (n: string) => plans.find((p) => p.steps.some((s) => s.name === n))!;
    const basePlan = named('replay-base');
    expect(basePlan.steps.map(limitOf)).toEqual([
      ['replay-base', 60],
      ['healthy-primary', 60],
      ['tests-base', 60],
      ['regression-before#0', 60],
    ]);
    expect(basePlan.steps[3]).toMatchObject({ scaleFrom: { step: 'tests-base', factor: 5, floorSec: 5 } });
    const secondary = named('healthy-secondary').steps[0] as ServeStep;
    expect(secondary.notBefore).toEqual([1.05, 1.05]); // a second after the primary's (scripted) send times
    const patchedPlan = named('replay-patched');
    expect(patchedPlan.stopAfterLimit).toBe(true);
    // 5 × 2 s; the services' startup 5 × 0.5 s is below the 5 s floor
    expect(patchedPlan.steps.map(limitOf)).toEqual([
      ['replay-patched', 10],
      ['healthy-candidate', 10],
      ['tests', 10],
      ['regression-after', 10],
    ]);
    expect((patchedPlan.steps[0] as ServeStep).startupTimeoutSec).toBe(5);
    expect(v.evidence.limits).toEqual({ replay: 10, healthy: 10, tests: 10, ownTests: 10 });
  });
});

describe('a base run that fails', () => {
  const failing: PlanRunner = async ({ name }) => {
    await settle();
    if (name === 'base') throw new Error('docker went away');
    throw new Error(`${name} must not run without a base`);
  };

  it('while candidates are pending: each gets a fail verdict, and nothing is left unhandled', async () => {
    const baseline = await startBaseline({
      tree: dir,
      config,
      incident,
      image: 'unused',
      installNetwork: null,
      runner: failing,
      candidates: [candidate],
    });
    const verdicts = await Promise.all([verifyCandidate(baseline, candidate), verifyCandidate(baseline, candidate)]);
    await baseline.ready;
    await settle();
    for (const v of verdicts) {
      expect(v.verdict).toBe('fail');
      expect(v.reasons.join('\n')).toMatch(/the base run failed: docker went away/);
    }
    expect(baseline.reasons.join('\n')).toMatch(/docker went away/);
    expect(unhandled).toEqual([]);
  });

  it('with nobody waiting for its regression-test runs: nothing is left unhandled', async () => {
    const baseline = await startBaseline({
      tree: dir,
      config,
      incident,
      image: 'unused',
      installNetwork: null,
      runner: failing,
      candidates: [candidate],
    });
    expect(baseline.regressionRuns.size).toBe(1);
    await baseline.ready;
    await settle();
    expect(unhandled).toEqual([]);
  });
});

describe('limits.stepFactor and limits.stepFloorSec in suture.yaml', () => {
  it('scale the plan, and are validated', () => {
    const d = tempDir();
    try {
      writeIn(d, 'requirements.txt', '');
      writeIn(d, 'suture.yaml', 'service: x\nlimits: {stepFactor: 3, stepFloorSec: 2, stepTimeoutSec: 30}\n');
      expect(loadServiceConfig(d).limits).toMatchObject({ stepFactor: 3, stepFloorSec: 2, stepTimeoutSec: 30 });
      writeIn(d, 'suture.yaml', 'service: x\nlimits: {stepFactor: 0.5}\n');
      expect(() => loadServiceConfig(d)).toThrow(/suture.yaml: limits.stepFactor: /);
    } finally {
      cleanup(d);
    }
  });
});

describe('differential.ignore', () => {
  it('an entry that is not a path is bad config, before anything runs', async () => {
    const runner: PlanRunner = async () => {
      throw new Error('nothing may run');
    };
    const bad = { ...config, differential: { maxSamples: 20, ignore: ['$.meta.generatedAt', 'meta.requestId'] } };
    await expect(
      startBaseline({ tree: dir, config: bad, incident, image: 'unused', installNetwork: null, runner }),
    ).rejects.toMatchObject({
      code: 'BAD_CONFIG',
      message: 'suture.yaml: differential.ignore: meta.requestId: a body path starts with $ (e.g. $.meta.generatedAt)',
    });
  });
});

describe('the verdict module', () => {
  /** Every module decideVerdict's module reaches through its imports (type-only ones included). */
  function importGraph(entry: string): Map<string, string[]> {
    const graph = new Map<string, string[]>();
    const visit = (file: string) => {
      if (graph.has(file)) return;
      const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
      const specs = info.importedFiles.map((f) => f.fileName);
      graph.set(file, specs);
      for (const s of specs) if (s.startsWith('.')) visit(resolve(dirname(file), s));
    };
    visit(entry);
    return graph;
  }

  it('imports no Docker, git, file system or any other package: only its own pure modules', () => {
    const src = resolve(import.meta.dirname, '../../src');
    const graph = importGraph(join(src, 'sandbox/verdict.ts'));
    const external = [...graph.values()].flat().filter((s) => !s.startsWith('.'));
    expect(external).toEqual([]);
    expect([...graph.keys()].map((f) => f.slice(src.length + 1)).sort()).toEqual([
      'incident/types.ts',
      'sandbox/differential.ts',
      'sandbox/plan.ts',
      'sandbox/records.ts',
      'sandbox/step-limits.ts',
      'sandbox/verdict.ts',
    ]);
  });

  it('the check sees an I/O import when there is one', () => {
    const info = ts.preProcessFile("import { readFileSync } from 'node:fs';\nimport type { X } from './docker.ts';");
    expect(info.importedFiles.map((f) => f.fileName)).toEqual(['node:fs', './docker.ts']);
  });
});
