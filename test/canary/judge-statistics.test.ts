/**
 * The judge's false-abort bound, measured: canaries exactly at the tolerance edge (the hardest null case)
 * and healthy canaries hit by shared bursts, judged for 15 minutes each on deterministic seeds.
 */
import { describe, expect, it } from 'vitest';
import { type CaseName, drawSpec, generate, type StreamSpec } from '../../bench/_canary-streams.ts';
import { createSequentialJudge, DEFAULT_JUDGE_OPTIONS } from '../../src/canary/judge/index.ts';

const tol = { absolute: DEFAULT_JUDGE_OPTIONS.toleranceAbsolute, relative: DEFAULT_JUDGE_OPTIONS.toleranceRelative };

function abortShare(kind: CaseName, n: number, adjust: (s: StreamSpec) => void = () => {}): number {
  let aborts = 0;
  for (let i = 0; i < n; i++) {
    const spec = drawSpec(kind, 424_242 + i, tol, 900);
    adjust(spec);
    const judge = createSequentialJudge();
    for (const b of generate(spec)) {
      const d = judge.observe(b);
      if (d.decision === 'abort') aborts++;
      if (d.decision !== 'continue') break;
    }
  }
  return aborts / n;
}

describe('false-abort bound (alpha = 1%)', () => {
  it('holds for canaries exactly at the tolerance edge', () => {
    const edge = (s: StreamSpec) => {
      s.canaryRate = s.stableRate + Math.max(tol.absolute, tol.relative * s.stableRate);
    };
    expect(abortShare('healthy', 1000, edge)).toBeLessThanOrEqual(DEFAULT_JUDGE_OPTIONS.alpha);
  });

  it('holds for healthy canaries under shared bursts', () => {
    expect(abortShare('burst', 200)).toBeLessThanOrEqual(DEFAULT_JUDGE_OPTIONS.alpha);
  });

  it('is not bought with blindness: the same harness aborts gross regressions', () => {
    expect(abortShare('gross', 100)).toBeGreaterThanOrEqual(0.99);
  });
});
