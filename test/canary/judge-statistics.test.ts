/**
 * The judge's error bounds and its power, measured on deterministic seeds (same streams on every machine, so a
 * regression fails every time rather than now and then):
 *  - false aborts ≤ alpha: canaries exactly at the tolerance edge, healthy canaries from 0.02 to 20 canary
 *    requests/s, healthy canaries under shared bursts;
 *  - false promotions ≤ beta (the dangerous direction): canaries just past the tolerance, where the promotion
 *    e-process is closest to a martingale, so a weakened promotion threshold shows up as excess promotions;
 *  - no promotion during or right after a canary traffic gap;
 *  - power: gross regressions at 0.2 canary requests/s aborted within 10 minutes.
 */
import { describe, expect, it } from 'vitest';
import { type CaseName, drawSpec, generate, type StreamSpec } from '../../bench/_canary-streams.ts';
import { createSequentialJudge, DEFAULT_JUDGE_OPTIONS, type JudgeDecision } from '../../src/canary/judge/index.ts';

const { alpha, beta, maxGapSeconds } = DEFAULT_JUDGE_OPTIONS;
const tol = { absolute: DEFAULT_JUDGE_OPTIONS.toleranceAbsolute, relative: DEFAULT_JUDGE_OPTIONS.toleranceRelative };
const margin = (stableRate: number) => Math.max(tol.absolute, tol.relative * stableRate);

/** The first non-continue decision of each stream (or the last continue). */
function judgeAll(specs: StreamSpec[]): JudgeDecision[] {
  return specs.map((spec) => {
    const judge = createSequentialJudge();
    let d: JudgeDecision = { decision: 'continue', at: 0, reason: '' };
    for (const b of generate(spec)) {
      d = judge.observe(b);
      if (d.decision !== 'continue') break;
    }
    return d;
  });
}

function specs(kind: CaseName, n: number, seed: number, seconds: number, adjust: (s: StreamSpec) => void = () => {}) {
  return Array.from({ length: n }, (_, i) => {
    const s = drawSpec(kind, seed + i, tol, seconds);
    adjust(s);
    return s;
  });
}

const share = (ds: JudgeDecision[], what: JudgeDecision['decision']) =>
  ds.filter((d) => d.decision === what).length / ds.length;

/** Fixed traffic and rates on top of a drawn stream (its seed still drives the Poisson counts). */
const fixed = (canaryRps: number, weight: number, stableRate: number, canaryRate: number) => (s: StreamSpec) => {
  s.totalRps = canaryRps / weight;
  s.weight = weight;
  s.stableRate = stableRate;
  s.canaryRate = canaryRate;
};

describe('false aborts ≤ alpha', () => {
  it('canaries exactly at the tolerance edge, at usual traffic', () => {
    const edge = (s: StreamSpec) => {
      s.canaryRate = s.stableRate + margin(s.stableRate);
    };
    expect(share(judgeAll(specs('healthy', 1000, 424_242, 900, edge)), 'abort')).toBeLessThanOrEqual(alpha);
  });

  it('canaries exactly at the tolerance edge at 0.2 canary requests/s', () => {
    expect(share(judgeAll(specs('low-edge', 500, 515_151, 1800)), 'abort')).toBeLessThanOrEqual(alpha);
  });

  it.each([0.02, 0.2, 1, 5, 20])('healthy canaries at %s canary requests/s', (rps) => {
    const at = (s: StreamSpec) => fixed(rps, s.weight, s.stableRate, s.stableRate)(s);
    expect(share(judgeAll(specs('healthy', 200, 606_060, 900, at)), 'abort')).toBeLessThanOrEqual(alpha);
  });

  it('healthy canaries under shared bursts', () => {
    expect(share(judgeAll(specs('burst', 200, 424_242, 900)), 'abort')).toBeLessThanOrEqual(alpha);
  });
});

describe('false promotions ≤ beta: canaries just past the tolerance', () => {
  // 5% past the edge. Stable at 5% is the corner where both tolerances bind (1 pp = 20% of 5%): both promotion
  // e-processes then sit on their null's boundary, the nearest they come to a martingale, so their chance of
  // ever crossing 1/beta is the largest. Stable at 1% is where the absolute tolerance alone binds. Measured
  // here: 1.3–2.5% at beta = 5%; with the promotion threshold weakened four-fold (1/beta → 1/(4·beta)) the
  // same streams promote 8–12%, and this test fails.
  it.each([
    [0.5, 0.05],
    [2, 0.05],
    [2, 0.01],
  ])('at %s canary requests/s, stable failing %s', (rps, stableRate) => {
    const past = fixed(rps, 0.25, stableRate, stableRate + 1.05 * margin(stableRate));
    const ds = judgeAll(specs('healthy', 300, 77_000, 3600, past));
    expect(share(ds, 'promote')).toBeLessThanOrEqual(beta);
  });

  it('gross regressions are never promoted, even at 0.005 canary requests/s', () => {
    expect(share(judgeAll(specs('sparse-gross', 300, 88_000, 1800)), 'promote')).toBe(0);
  });
});

describe('traffic gaps', () => {
  it('never promote during a canary traffic gap, nor before maxGapSeconds of traffic after it', () => {
    const gaps = specs('gap', 150, 909_090, 1800);
    const ds = judgeAll(gaps);
    const promotedNearGap = ds.filter((d, i) => {
      const g = gaps[i]!.gap!;
      return d.decision === 'promote' && d.at > g.from && d.at < g.to + maxGapSeconds;
    });
    expect(promotedNearGap).toEqual([]);
    // Not vacuous: these canaries are healthy and many are promoted once traffic has been back long enough.
    expect(share(ds, 'promote')).toBeGreaterThan(0.2);
  });
});

describe('power', () => {
  it('aborts gross regressions at usual traffic', () => {
    expect(share(judgeAll(specs('gross', 100, 424_242, 900)), 'abort')).toBeGreaterThanOrEqual(0.99);
  });

  // The case. Before the exact block e-values: 93.9% within 10 minutes; now about 99% (bench: 2000
  // streams), and every one of them by 30 minutes.
  it('aborts 0.2 req/s canaries failing 20% (stable 0.2–2%): ≥ 98.5% within 10 minutes, all within 30', () => {
    expect(share(judgeAll(specs('low-gross', 1000, 7_000_000, 600)), 'abort')).toBeGreaterThanOrEqual(0.985);
    expect(share(judgeAll(specs('low-gross', 300, 7_100_000, 1800)), 'abort')).toBe(1);
  });

  // The acceptance population: at least 10 expected canary errors in a 30-minute run, 0.005–0.2 canary req/s.
  // Main before issue 12: 63%; now 95%. Below 20 expected errors at canary weights over 20%, even one exact look
  // at the end of the run misses 2–9% at alpha = 1% (see the bench), so 99% is held from 20 errors up.
  it('aborts sparse gross regressions: ≥ 93% with ≥ 10 expected canary errors, ≥ 99% with ≥ 20', () => {
    const drawn = specs('sparse-gross', 1500, 3_000_009, 1800);
    const errors = (s: StreamSpec) => s.totalRps * s.weight * s.durationSeconds * s.canaryRate;
    const ds = judgeAll(drawn);
    const among = (keep: (s: StreamSpec) => boolean) => ds.filter((_, i) => keep(drawn[i]!));
    expect(
      share(
        among((s) => errors(s) >= 10),
        'abort',
      ),
    ).toBeGreaterThanOrEqual(0.93);
    expect(
      share(
        among((s) => errors(s) >= 20),
        'abort',
      ),
    ).toBeGreaterThanOrEqual(0.99);
  });
});
