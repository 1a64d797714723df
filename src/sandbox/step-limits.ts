/**
 * Candidate time limits that scale with the base run: each candidate step's wall clock is bounded by
 * `max(floor, factor × the same step on base)`, and never more than the static `limits.stepTimeoutSec`.
 * A candidate that loops, sleeps or fork-bombs then fails in seconds instead of at the static limit, while a
 * slow test suite keeps the time it takes on base. Pure.
 */
import type { BaseRecord, CandidateLimits, StepLimit } from './records.ts';

export interface ScaleOptions {
  /** k: how many times the base step's duration a candidate step may take. */
  factor: number;
  /** The least a candidate step gets, however quick the base step was (jitter, a cold cache). */
  floorSec: number;
  /** The static limit: what a step gets when base has no reference, and never less than a scaled one. */
  ceilingSec: number;
}

export function scaledLimit(baseMs: number | null | undefined, o: ScaleOptions): StepLimit {
  if (baseMs === null || baseMs === undefined) return { sec: o.ceilingSec, baseMs: null };
  const sec = Math.min(o.ceilingSec, Math.max(o.floorSec, (o.factor * baseMs) / 1000));
  return { sec: Math.round(sec * 10) / 10, baseMs };
}

/** A serve step's references: only a base service that came up gives one. */
function serveLimits(serve: BaseRecord['replay'], o: ScaleOptions): CandidateLimits['replay'] {
  const ok = serve?.healthy === true;
  const step = scaledLimit(ok ? serve.durationMs : null, o);
  const startup = scaledLimit(ok ? (serve.startupMs ?? null) : null, o);
  return { step, startup: startup.sec > step.sec ? step : startup };
}

export function candidateLimits(base: BaseRecord, o: ScaleOptions): CandidateLimits {
  const tests = scaledLimit(base.tests?.durationMs, o);
  const own = Math.max(base.tests?.durationMs ?? -1, ...base.regressionBefore.map((r) => r?.durationMs ?? -1));
  return {
    replay: serveLimits(base.replay, o),
    healthy: serveLimits(base.primary, o),
    tests,
    ownTests: scaledLimit(own < 0 ? null : own, o),
  };
}

/** "the 5 s limit (5 × 0.4 s on base, at least 5 s)" */
export function describeLimit(limit: StepLimit, o: Pick<ScaleOptions, 'factor' | 'floorSec'>): string {
  if (limit.baseMs === null) return `the ${limit.sec} s limit (limits.stepTimeoutSec)`;
  return `the ${limit.sec} s limit (${o.factor} × ${(limit.baseMs / 1000).toFixed(1)} s on base, at least ${o.floorSec} s)`;
}
