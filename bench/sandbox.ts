/**
 * Sandbox bench: for both demo services, container start time, cold and warm verification of the demo
 * candidate (the base run, then the candidate: candidates wait for the base run so their limits scale from
 * it), the same work run bare on the host (the same driver and plans, no container), and 4 candidates
 * verified concurrently against 1. Then how fast hostile candidates fail under the scaled limits, and what
 * the differential costs per healthy sample and candidate. All measured side by side in one run.
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { loadServiceConfig } from '../src/config/service.ts';
import { diagnose } from '../src/diagnose/index.ts';
import { makeGitPatch } from '../src/diagnose/patch.ts';
import { singleTestCommand } from '../src/diagnose/regression-test.ts';
import { readRepoFile } from '../src/evidence/excerpts.ts';
import { gatherEvidence } from '../src/evidence/index.ts';
import { buildIncident } from '../src/incident/intake.ts';
import type { Incident, RequestSample } from '../src/incident/types.ts';
import { mapLimit } from '../src/pipeline/limit.ts';
import { runPlan } from '../src/sandbox/docker.ts';
import { driverDir, packageRoot } from '../src/sandbox/paths.ts';
import { applyPatch, copyTree, removeTree } from '../src/sandbox/trees.ts';
import { prepareBaseline, runCandidate, verifyCandidate } from '../src/sandbox/verify.ts';

const execFileAsync = promisify(execFile);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t = performance.now();
  const r = await fn();
  return [performance.now() - t, r];
}

/** The verification work without containers: the driver on the host, same plans, same trees. */
async function bareRun(tree: string, plan: object): Promise<void> {
  const file = `${tree}.plan.json`;
  writeFileSync(file, JSON.stringify(plan));
  try {
    await execFileAsync('python3', [join(driverDir(), 'driver.py'), file], {
      env: { ...process.env, SUTURE_WORKSPACE: tree, PYTHONDONTWRITEBYTECODE: '1' },
      maxBuffer: 64 * 1024 * 1024,
    });
  } finally {
    rmSync(file, { force: true });
  }
}

/** Four different fixes of the demo crash (as several strategies would write them), sharing its regression test. */
const VARIANTS: Record<string, { file: string; from: string; to: string[] }> = {
  'pricing-api': {
    file: 'pricing.py',
    from: '    return total / len(discounts)',
    to: [
      '    if len(discounts) == 0:\n        return 0\n    return total / len(discounts)',
      '    if not discounts:\n        return 0\n    return total / len(discounts)',
      '    return total / len(discounts) if discounts else 0',
      '    return total / max(len(discounts), 1)',
    ],
  },
  'orders-api': {
    file: 'orders.js',
    from: '  const country = order.shipping.address.country;',
    to: [
      '  const country = order.shipping.address?.country;',
      '  const country = order.shipping?.address?.country;',
      '  const country = (order.shipping.address || {}).country;',
      '  const country = order.shipping.address ? order.shipping.address.country : undefined;',
    ],
  },
};

async function distinctCandidates(dir: string, service: string, demo: { patch: string; testFile?: string }) {
  const v = VARIANTS[service]!;
  const before = readFileSync(join(dir, v.file), 'utf8');
  const test = await copyTree(dir);
  await applyPatch(test, demo.patch, [demo.testFile!]);
  const testEdit = { path: demo.testFile!, after: readFileSync(join(test, demo.testFile!), 'utf8') };
  await removeTree(test);
  return v.to.map((to) => ({
    patch: makeGitPatch([{ path: v.file, before, after: before.replace(v.from, to) }, testEdit]),
    testFile: demo.testFile!,
  }));
}

export async function run(): Promise<void> {
  const rows: string[][] = [];
  const targets: string[] = [];
  for (const service of ['pricing-api', 'orders-api']) {
    const dir = join(packageRoot(), 'test', 'fixtures', 'services', service);
    const files = readdirSync(dir, { recursive: true }) as string[];
    const config = loadServiceConfig(dir);
    const incident = buildIncident(JSON.parse(readFileSync(join(dir, 'incident.json'), 'utf8')), files);
    const evidence = await gatherEvidence({ incident, treeDir: dir, repoDir: packageRoot(), rev: 'HEAD' });
    const { candidates } = await diagnose({
      incident,
      evidence,
      config,
      repoFiles: files,
      readFile: (p) => readRepoFile(dir, p),
    });
    const candidate = candidates[0]!;

    // container start: a one-step plan that does nothing
    const starts: number[] = [];
    for (let i = 0; i < 5; i++) {
      const [ms] = await timed(() =>
        runPlan({
          image: config.image,
          workspace: dir,
          plan: { outputBytes: 1024, steps: [] },
          limits: config.limits,
          timeoutMs: 30_000,
          name: 'noop',
        }),
      );
      starts.push(ms);
    }

    // cold: a fresh baseline (base replay) and the candidate; warm: again, with images and caches hot
    const [cold, coldVerdict] = await timed(async () =>
      verifyCandidate(await prepareBaseline({ tree: dir, config, incident, candidates: [candidate] }), candidate),
    );
    if (coldVerdict.verdict !== 'pass')
      throw new Error(`${service}: demo candidate did not pass: ${coldVerdict.reasons[0]}`);
    const warm: number[] = [];
    const warmBase: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [ms] = await timed(async () => {
        const b = await prepareBaseline({ tree: dir, config, incident, candidates: [candidate] });
        const v = await verifyCandidate(b, candidate);
        warmBase.push(b.durationMs);
        return v;
      });
      warm.push(ms);
    }

    // bare: the same plans on the host (base replay; patched replay + tests + regression test; regression on base)
    const patched = await copyTree(dir);
    const testOnly = await copyTree(dir);
    await applyPatch(patched, candidate.patch);
    await applyPatch(testOnly, candidate.patch, [candidate.testFile!]);
    const strip = (rs: RequestSample[]) => rs.map(({ status: _s, ...r }) => r);
    const serve = (name: string, requests: RequestSample[], range: number, extra: object = {}) => ({
      kind: 'serve',
      name,
      start: config.start,
      port: range + Math.floor(Math.random() * 1000),
      health: config.health,
      requests: strip(requests),
      timeoutSec: 60,
      ...extra,
    });
    const single = singleTestCommand(config, candidate.testFile!);
    const healthy = incident.healthyRequests;
    // The same steps the sandbox runs: the base run (failing requests, healthy ones, the test suite, the
    // regression test), then the candidate's alongside the differential's second base instance.
    const baseUnit = () =>
      bareRun(testOnly, {
        outputBytes: 1 << 20,
        steps: [
          serve('base', incident.requests, 18000, { settleMs: 250 }),
          serve('primary', healthy, 18000),
          { kind: 'run', name: 'tests-base', command: config.test, timeoutSec: 60 },
          { kind: 'run', name: 'before', command: single, timeoutSec: 60 },
        ],
      });
    const secondaryUnit = () =>
      bareRun(testOnly, { outputBytes: 1 << 20, steps: [serve('secondary', healthy, 24000)] });
    const patchedUnit = (range: number) =>
      bareRun(patched, {
        outputBytes: 1 << 20,
        steps: [
          serve('patched', incident.requests, range, { settleMs: 250 }),
          serve('healthy', healthy, range),
          { kind: 'run', name: 'tests', command: config.test, timeoutSec: 60 },
          { kind: 'run', name: 'after', command: single, timeoutSec: 60 },
        ],
      });
    const bare: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [ms] = await timed(async () => {
        await baseUnit();
        await Promise.all([secondaryUnit(), patchedUnit(19000)]);
      });
      bare.push(ms);
    }
    // The 4-vs-1 ratio of the same work without containers: what the machine allows at all.
    const [bareFour] = await timed(async () => {
      await baseUnit();
      await Promise.all([secondaryUnit(), mapLimit([20000, 21000, 22000, 23000], availableParallelism(), patchedUnit)]);
    });
    await removeTree(patched);
    await removeTree(testOnly);

    // concurrency: 4 candidates against 1, one shared baseline, bound = cores
    const baseline = await prepareBaseline({ tree: dir, config, incident, candidates: [candidate] });
    const [one] = await timed(() => verifyCandidate(baseline, candidate));
    const four4 = await distinctCandidates(dir, service, candidate);
    const baseline4 = await prepareBaseline({ tree: dir, config, incident, candidates: four4 });
    const [four, fourVerdicts] = await timed(() =>
      mapLimit(four4, availableParallelism(), (c) => verifyCandidate(baseline4, c)),
    );
    const failed = fourVerdicts.filter((v) => v.verdict !== 'pass');
    if (failed.length)
      throw new Error(`${service}: ${failed.length} of the 4 candidates failed: ${failed[0]!.reasons[0]}`);

    const warmMs = median(warm);
    const bareMs = median(bare);
    rows.push([
      service,
      fmt(median(starts)),
      fmt(cold),
      fmt(warmMs),
      fmt(median(warmBase)),
      fmt(bareMs),
      `${(warmMs / bareMs).toFixed(2)}x`,
      fmt(one),
      fmt(four),
      `${(four / one).toFixed(2)}x`,
      `${(bareFour / median(bare)).toFixed(2)}x`,
    ]);
    targets.push(
      `${service}: warm verify ${fmt(warmMs)} ≤ 5 s: ${warmMs <= 5000 ? 'PASS' : 'FAIL'}`,
      `${service}: overhead ${(warmMs / bareMs).toFixed(2)}x ≤ 3x: ${warmMs / bareMs <= 3 ? 'PASS' : 'FAIL'}`,
      `${service}: 4 candidates ${(four / one).toFixed(2)}x one ≤ 2x: ${four / one <= 2 ? 'PASS' : 'FAIL'}`,
    );
  }
  const header = [
    'service',
    'container start (median of 5)',
    'cold verify',
    'warm verify (median of 3)',
    'of which the base run',
    'bare on host (median of 3)',
    'overhead',
    '1 candidate',
    '4 distinct candidates',
    '4 vs 1',
    'same work bare: 4 vs 1',
  ];
  table(header, rows);
  targets.push(...(await hostile()), ...(await differentialCost()));
  process.stdout.write(`\n${targets.join('\n')}\n`);
}

function table(header: string[], rows: string[][]): void {
  process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
  for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
}

/** The pricing-api demo: its config, incident and demo fix with its regression test. */
async function pricing() {
  const dir = join(packageRoot(), 'test', 'fixtures', 'services', 'pricing-api');
  const files = readdirSync(dir, { recursive: true }) as string[];
  const config = loadServiceConfig(dir);
  const incident = buildIncident(JSON.parse(readFileSync(join(dir, 'incident.json'), 'utf8')), files);
  const evidence = await gatherEvidence({ incident, treeDir: dir, repoDir: packageRoot(), rev: 'HEAD' });
  const { candidates } = await diagnose({
    incident,
    evidence,
    config,
    repoFiles: files,
    readFile: (p) => readRepoFile(dir, p),
  });
  return { dir, config, incident, candidates: await distinctCandidates(dir, 'pricing-api', candidates[0]!) };
}

/** Hostile candidates: the fix and its regression test, plus code at module level that never lets go. */
const HOSTILE: Record<string, string> = {
  'endless loop': 'while True:\n    pass',
  sleep: 'import time\ntime.sleep(3600)',
  'fork bomb':
    "if os.environ.get('SUTURE_SANDBOX'):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass",
};

/** Time to a `fail` verdict for each hostile candidate, under the default limits (60 s static per step). */
async function hostile(): Promise<string[]> {
  const { dir, config, incident } = await pricing();
  const v = VARIANTS['pricing-api']!;
  const before = readFileSync(join(dir, v.file), 'utf8');
  const fixed = before.replace(v.from, v.to[0]!);
  const { candidates } = await pricing();
  const testFile = candidates[0]!.testFile;
  const baseline = await prepareBaseline({ tree: dir, config, incident, candidates: [candidates[0]!] });
  await baseline.ready;
  const rows: string[][] = [];
  const targets: string[] = [];
  for (const [kind, code] of Object.entries(HOSTILE)) {
    const scratch = await copyTree(dir);
    await applyPatch(scratch, candidates[0]!.patch, [testFile]);
    const test = { path: testFile, after: readFileSync(join(scratch, testFile), 'utf8') };
    await removeTree(scratch);
    const patch = makeGitPatch([{ path: v.file, before, after: `import os\n${code}\n${fixed}` }, test]);
    const [ms, verdict] = await timed(() => verifyCandidate(baseline, { patch, testFile }));
    if (verdict.verdict !== 'fail') throw new Error(`hostile candidate (${kind}) passed`);
    rows.push([kind, fmt(ms), `${verdict.evidence.limits?.replay ?? '?'} s`, verdict.reasons[0] ?? '']);
    targets.push(`hostile ${kind}: fails in ${fmt(ms)} ≤ 15 s: ${ms <= 15_000 ? 'PASS' : 'FAIL'}`);
  }
  process.stdout.write('\n');
  table(['hostile candidate (pricing-api)', 'time to fail', 'its replay step limit', 'first reason'], rows);
  return targets;
}

/** n distinct healthy requests for pricing-api's /quote. */
function samples(n: number): RequestSample[] {
  return Array.from({ length: n }, (_, i) => ({
    method: 'POST',
    path: '/quote',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: [{ price: 10 + i, qty: 1 + (i % 3) }], discounts: [{ percent: 10 + i }] }),
    status: 200,
  }));
}

/**
 * What the differential costs, by number of healthy samples and of candidates (median of 3 each): the base
 * run (its primary replay of the healthy samples is part of it), the second base instance (its own
 * container, alongside the candidates), each candidate's replay of the healthy samples, and the whole.
 */
async function differentialCost(): Promise<string[]> {
  const { dir, config, incident, candidates } = await pricing();
  const rows: string[][] = [];
  const totals = new Map<string, number>();
  for (const n of [0, 2, 10]) {
    for (const c of [1, 4]) {
      const withSamples: Incident = { ...incident, healthyRequests: samples(n) };
      const chosen = candidates.slice(0, c);
      const base: number[] = [];
      const primary: number[] = [];
      const secondary: number[] = [];
      const healthy: number[] = [];
      const all: number[] = [];
      for (let rep = 0; rep < 3; rep++) {
        const [ms] = await timed(async () => {
          const baseline = await prepareBaseline({ tree: dir, config, incident: withSamples, candidates: chosen });
          const record = await baseline.record;
          const second = timed(() => baseline.complete);
          const runs = await mapLimit(chosen, availableParallelism(), (x) => runCandidate(baseline, x));
          const [secondaryMs, complete] = await second;
          if (runs.some((r) => (r.healthy?.responses.length ?? 0) !== n || r.tests?.exitCode !== 0))
            throw new Error('differential cost: a candidate did not replay every sample');
          if (n > 0 && complete.secondary?.responses.length !== n) throw new Error('differential cost: no secondary');
          base.push(record.durationMs);
          primary.push(record.primary?.durationMs ?? 0);
          secondary.push(n > 0 ? secondaryMs : 0);
          healthy.push(median(runs.map((r) => r.healthy?.durationMs ?? 0)));
        });
        all.push(ms);
      }
      totals.set(`${n}x${c}`, median(all));
      rows.push([
        String(n),
        String(c),
        fmt(median(base)),
        fmt(median(primary)),
        fmt(median(secondary)),
        fmt(median(healthy)),
        fmt(median(all)),
      ]);
    }
  }
  process.stdout.write('\n');
  table(
    [
      'healthy samples',
      'candidates',
      'base run',
      'of which the primary replay',
      'second base instance (alongside the candidates)',
      "a candidate's healthy replay",
      'verify all',
    ],
    rows,
  );
  const extra = (c: number) => ((totals.get(`2x${c}`)! - totals.get(`0x${c}`)!) / 1000).toFixed(2);
  return [`differential: 2 healthy samples add ${extra(1)} s to verifying 1 candidate, ${extra(4)} s to 4`];
}
