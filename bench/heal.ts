/**
 * Heal bench: `suture heal` on every crash scenario of test/fixtures/scenarios.ts that the templates fix,
 * one at a time on this machine, the sandbox image warm: per fixture one untimed heal first (it also
 * prepares a fixture's dependencies once: the repo is the same for all its runs), then SUTURE_BENCH_HEAL_RUNS
 * timed heals (default 3) in observe mode (everything but the branch), each with a fresh state dir.
 * Prints the median heal time per fixture, and per crash class the success rate and mean time per heal.
 *   npm run bench -- heal
 *   SUTURE_BENCH_HEAL_ONLY=ratings-api,split-api SUTURE_BENCH_HEAL_RUNS=5 npm run bench -- heal
 */
import {
  type CrashScenario,
  type HealOut,
  healScenario,
  mismatch,
  SCENARIOS,
  scenarioRepo,
} from '../test/fixtures/scenarios.ts';
import { cleanup, tempDir } from '../test/helpers/repo.ts';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const sec = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function table(header: string[], rows: string[][]): void {
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  for (const [i, r] of all.entries()) {
    process.stdout.write(`| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |\n`);
    if (i === 0) process.stdout.write(`|${widths.map((n) => '-'.repeat(n + 2)).join('|')}|\n`);
  }
}

interface Run {
  ms: number;
  ok: boolean;
  winner: string;
  why?: string;
}

async function healOnce(s: CrashScenario, repo: string): Promise<Run> {
  const state = tempDir('suture-bench-state-');
  try {
    const started = performance.now();
    const r = await healScenario(s, repo, state, { mode: 'observe' });
    const ms = performance.now() - started;
    let out: HealOut | undefined;
    try {
      out = JSON.parse(r.stdout) as HealOut;
    } catch {
      return { ms, ok: false, winner: '-', why: r.stderr.trim().split('\n').pop() ?? `exit ${r.exitCode}` };
    }
    const why = mismatch(s, out);
    const winner = out.candidates.find((c) => c.id === out.chosen)?.strategy ?? out.status;
    return { ms, ok: !why, winner, ...(why ? { why } : {}) };
  } finally {
    cleanup(state);
  }
}

export async function run(): Promise<void> {
  const runs = Math.max(1, Number(process.env.SUTURE_BENCH_HEAL_RUNS ?? 3) || 3);
  const only = (process.env.SUTURE_BENCH_HEAL_ONLY ?? '').split(',').filter(Boolean);
  const scenarios = SCENARIOS.filter(
    (s) =>
      s.expect.status === 'proposed' &&
      s.expect.winner.startsWith('template:') &&
      (only.length === 0 || only.includes(s.name)),
  );
  const rows: string[][] = [];
  const medians: number[] = [];
  const byClass = new Map<string, Run[]>();
  for (const s of scenarios) {
    const repo = await scenarioRepo(s);
    try {
      await healOnce(s, repo); // warm: the image, the fixture's prepared dependencies
      const timed: Run[] = [];
      for (let i = 0; i < runs; i++) timed.push(await healOnce(s, repo));
      byClass.set(s.class, [...(byClass.get(s.class) ?? []), ...timed]);
      const ms = timed.map((t) => t.ms);
      const failed = timed.find((t) => !t.ok);
      medians.push(median(ms));
      rows.push([
        s.name,
        s.class,
        s.language,
        sec(median(ms)),
        `${sec(Math.min(...ms))}–${sec(Math.max(...ms))}`,
        `${timed.filter((t) => t.ok).length}/${timed.length}`,
        failed ? `${failed.winner}: ${failed.why}` : timed[0]!.winner,
      ]);
    } finally {
      cleanup(repo);
    }
  }
  table(['fixture', 'class', 'language', 'median heal', 'range', 'as expected', 'winner'], rows);
  process.stdout.write('\n');
  const all = [...byClass.values()].flat();
  table(
    ['crash class', 'fixtures', 'heals as expected', 'mean time per heal'],
    [...byClass].map(([c, rs]) => [
      c,
      String(scenarios.filter((s) => s.class === c).length),
      `${rs.filter((r) => r.ok).length}/${rs.length}`,
      sec(mean(rs.map((r) => r.ms))),
    ]),
  );
  process.stdout.write(
    `\nall: ${all.filter((r) => r.ok).length}/${all.length} heals as expected; mean ${sec(mean(all.map((r) => r.ms)))} per heal; median of the fixtures' medians ${sec(median(medians))}\n`,
  );
}
