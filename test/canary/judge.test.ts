import { describe, expect, it } from 'vitest';
import { type Bucket, createSequentialJudge, type JudgeDecision } from '../../src/canary/judge/index.ts';
import { InputError } from '../../src/errors.ts';

/** A 5 s bucket at time t with the given [requests, errors] per version. */
function bucket(t: number, stable: [number, number], canary: [number, number]): Bucket {
  return { t, stable: { requests: stable[0], errors: stable[1] }, canary: { requests: canary[0], errors: canary[1] } };
}

/** Feeds buckets until the first non-continue decision; returns it (or the last continue) and all decisions. */
function run(buckets: Bucket[], opts = {}): { final: JudgeDecision; all: JudgeDecision[] } {
  const judge = createSequentialJudge(opts);
  const all: JudgeDecision[] = [];
  for (const b of buckets) {
    const d = judge.observe(b);
    all.push(d);
    if (d.decision !== 'continue') break;
  }
  return { final: all.at(-1)!, all };
}

const times = (n: number, from = 5) => Array.from({ length: n }, (_, i) => from + 5 * i);

describe('sequential judge on crafted streams', () => {
  it('aborts a gross regression within a few buckets', () => {
    // Stable 1% errors, canary 40%: 8 of 20 canary requests fail in every bucket.
    const { final } = run(times(60).map((t) => bucket(t, [100, 1], [20, 8])));
    expect(final.decision).toBe('abort');
    expect(final.at).toBeLessThanOrEqual(15);
    expect(final.reason).toMatch(/regression beyond tolerance/);
  });

  it('promotes a healthy canary, but not before the minimum time and canary volume', () => {
    // Both versions at ~1%: stable 200 req / 2 errors, canary 50 req with an error every other bucket.
    const { final, all } = run(times(400).map((t, i) => bucket(t, [200, 2], [50, i % 2])));
    expect(final.decision).toBe('promote');
    expect(final.at).toBeGreaterThanOrEqual(60);
    expect(final.reason).toMatch(/not worse than stable \+ tolerance/);
    expect(all.slice(0, -1).every((d) => d.decision === 'continue')).toBe(true);
  });

  it('does not abort on a burst both versions share, but does when only the canary fails', () => {
    // 10 buckets healthy, 12 buckets where a downstream outage fails half of all requests, then healthy.
    const shared = times(200).map((t, i) => {
      const burst = i >= 10 && i < 22;
      return bucket(t, burst ? [200, 100] : [200, 2], burst ? [50, 25] : [50, i % 2]);
    });
    expect(run(shared).all.some((d) => d.decision === 'abort')).toBe(false);
    // The same canary numbers against a stable that is fine: that is a regression and must abort.
    const canaryOnly = shared.map((b) => ({ ...b, stable: { requests: 200, errors: 2 } }));
    expect(run(canaryOnly).final.decision).toBe('abort');
  });

  it('follows weight steps: a burst while the canary holds 50% does not count against it', () => {
    // setWeight 5 → 25 → 50 (200 req per bucket in total, 1% errors), and an outage failing 40% of everything
    // in the 50% phase, when the canary's share of all errors is far above its average share of the run.
    const stream = times(240).map((t) => {
      const w = t <= 300 ? 0.05 : t <= 600 ? 0.25 : 0.5;
      const rate = t > 620 && t <= 800 ? 0.4 : 0.01;
      const c = Math.round(200 * w);
      return bucket(t, [200 - c, Math.round((200 - c) * rate)], [c, Math.round(c * rate)]);
    });
    expect(run(stream).all.some((d) => d.decision === 'abort')).toBe(false);
  });

  it('does not promote on an outage that masks the canary (both versions failing alike)', () => {
    // Canary at twice stable's rate (2% vs 1%, the tolerance edge), then 20 min of a downstream outage that
    // fails 90% of every request on both versions: in those buckets the canary looks exactly like stable.
    const stream = times(360).map((t, i) => {
      const outage = t > 60 && t <= 1260;
      return bucket(t, outage ? [100, 90] : [100, 1], outage ? [25, 23] : [25, i % 2]);
    });
    const { all } = run(stream);
    expect(all.some((d) => d.decision === 'promote' && d.at <= 1260)).toBe(false);
    expect(all[150]!.reason).toMatch(/error burst hits both versions/);
  });

  it('never promotes during a canary traffic gap, even when evidence was already strong', () => {
    // 55 s of heavy, clean canary traffic (strong evidence, but before minSeconds), then 30 min without canary.
    const before = times(11).map((t) => bucket(t, [400, 4], [400, 2]));
    const gap = times(360, 60).map((t) => bucket(t, [800, 8], [0, 0]));
    const { all } = run([...before, ...gap]);
    expect(all.every((d) => d.decision === 'continue')).toBe(true);
    expect(all.at(-1)!.reason).toMatch(/no canary traffic for \d+/);
  });

  it('after a long gap waits maxGapSeconds of live canary traffic before promoting', () => {
    const before = times(11).map((t) => bucket(t, [400, 4], [400, 2]));
    const gap = times(60, 60).map((t) => bucket(t, [800, 8], [0, 0])); // t = 60 … 355
    const after = times(100, 360).map((t) => bucket(t, [400, 4], [400, 2]));
    const { final } = run([...before, ...gap, ...after], { maxGapSeconds: 120 });
    expect(final.decision).toBe('promote');
    expect(final.at).toBeGreaterThanOrEqual(360 + 120);
  });

  it('neither aborts nor promotes a canary within tolerance', () => {
    // Stable 1%, canary 1.5%: inside the default 1 pp absolute tolerance, but not good enough to promote fast.
    const { all } = run(times(120).map((t, i) => bucket(t, [200, 2], [40, i % 5 < 3 ? 1 : 0])));
    expect(all.some((d) => d.decision === 'abort')).toBe(false);
  });

  it('keeps its decision once made', () => {
    const judge = createSequentialJudge();
    let first: JudgeDecision | undefined;
    for (const t of times(10)) {
      const d = judge.observe(bucket(t, [100, 0], [20, 15]));
      if (d.decision !== 'continue') {
        first = d;
        break;
      }
    }
    expect(first?.decision).toBe('abort');
    const later = judge.observe(bucket(500, [100, 0], [100, 0]));
    expect(later).toEqual(first);
  });

  it('tolerances shape the verdict: a +2 pp canary aborts at 1 pp tolerance but not at 5 pp', () => {
    const stream = times(300).map((t, i) => bucket(t, [500, 5], [200, i % 2 === 0 ? 6 : 4])); // 1% vs 2.5%
    expect(run(stream, { toleranceAbsolute: 0.01 }).final.decision).toBe('abort');
    expect(run(stream, { toleranceAbsolute: 0.05 }).all.some((d) => d.decision === 'abort')).toBe(false);
  });
});

describe('sequential judge input validation', () => {
  const ok = bucket(5, [10, 1], [5, 0]);
  it.each([
    ['errors above requests', bucket(5, [10, 11], [5, 0]), /stable.errors \(11\) exceeds stable.requests \(10\)/],
    ['negative count', bucket(5, [10, 1], [-1, 0]), /canary.requests must be a number ≥ 0/],
    ['NaN count', bucket(5, [10, 1], [Number.NaN, 0]), /canary.requests must be a number ≥ 0/],
    ['negative t', bucket(-1, [10, 1], [5, 0]), /t must be a number ≥ 0/],
    ['missing side', { t: 5, stable: { requests: 1, errors: 0 } } as unknown as Bucket, /canary must be an object/],
  ])('rejects %s', (_name, b, message) => {
    const judge = createSequentialJudge();
    expect(() => judge.observe(b)).toThrow(InputError);
    expect(() => judge.observe(b)).toThrow(message);
  });

  it('rejects a bucket whose t does not increase, also after a decision', () => {
    const judge = createSequentialJudge();
    judge.observe(ok);
    expect(() => judge.observe(ok)).toThrow(/t must increase: 5 after 5/);
  });

  it('rejects out-of-range options', () => {
    expect(() => createSequentialJudge({ alpha: 0 })).toThrow(/alpha must be between 0 and 1/);
    expect(() => createSequentialJudge({ maxGapSeconds: -1 })).toThrow(/maxGapSeconds/);
  });
});
