/**
 * Judges a canary from Prometheus history: one range query per counter over [since, now] at `bucketSeconds`
 * resolution, turned into buckets and replayed through a fresh sequential judge. Stateless apart from
 * `since`, so any replica of `suture serve` gives the same answer, a restart loses nothing, and repeated
 * calls (Argo's measurement interval) agree with each other because judge decisions are sticky.
 */
import { InputError } from '../../errors.ts';
import { createSequentialJudge, type JudgeDecision, type JudgeOptions } from '../judge/index.ts';
import type { PrometheusClient } from './client.ts';
import { bucketsFromRange, type CounterSelector, errorTotalsQuery, requestTotalsQuery } from './queries.ts';

export interface PrometheusJudgeInput {
  client: PrometheusClient;
  selector: CounterSelector;
  versions: { stable: string; canary: string };
  /** Unix seconds when the canary started taking traffic. */
  since: number;
  /** Unix seconds; default now. */
  until?: number;
  bucketSeconds: number;
  judge?: Partial<JudgeOptions>;
}

export interface PrometheusJudgeResult extends JudgeDecision {
  buckets: number;
  canary: { requests: number; errors: number };
  stable: { requests: number; errors: number };
}

/** Prometheus refuses range queries over 11,000 points per series; stay well below. */
const MAX_POINTS = 10_000;

export async function judgeFromPrometheus(input: PrometheusJudgeInput): Promise<PrometheusJudgeResult> {
  const step = input.bucketSeconds;
  const until = input.until ?? Date.now() / 1000;
  // Buckets end on whole steps after `since`; the unfinished last step waits for the next call.
  const n = Math.floor((until - input.since) / step);
  if (n >= MAX_POINTS) {
    throw new InputError(
      `canary window of ${n} buckets is longer than Prometheus allows (${MAX_POINTS}): use a larger bucketSeconds`,
    );
  }
  const totals = { canary: { requests: 0, errors: 0 }, stable: { requests: 0, errors: 0 } };
  if (n < 1) {
    return { decision: 'continue', at: 0, reason: `no complete ${step} s bucket yet`, buckets: 0, ...totals };
  }
  const end = input.since + n * step;
  const [req, err] = await Promise.all([
    input.client.range(requestTotalsQuery(input.selector), input.since, end, step),
    input.client.range(errorTotalsQuery(input.selector), input.since, end, step),
  ]);
  const label = input.selector.versionLabel ?? 'version';
  const buckets = bucketsFromRange(req, err, input.versions, { start: input.since, end, step, label });
  const judge = createSequentialJudge(input.judge);
  let last: JudgeDecision = { decision: 'continue', at: 0, reason: 'no buckets' };
  for (const b of buckets) {
    for (const side of ['canary', 'stable'] as const) {
      totals[side].requests += b[side].requests;
      totals[side].errors += b[side].errors;
    }
    last = judge.observe(b);
    if (last.decision !== 'continue') break;
  }
  return { ...last, buckets: buckets.length, ...totals };
}
