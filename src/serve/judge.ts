/**
 * POST /judge — the sequential canary judge over HTTP, shaped for Argo Rollouts' `web` metric provider (an
 * AnalysisTemplate measurement POSTs a JSON body and evaluates `result.*`; see src/canary/README.md).
 *
 * Two request shapes:
 *   Prometheus mode  {"service", "stable", "canary", "prometheus"?, "labels"?, "versionLabel"?,
 *                     "bucketSeconds"?, "since"?, "judge"?}
 *     The server reads suture_requests_total / suture_request_errors_total per version from Prometheus
 *     since `since` (default: the first time it was asked about this service + versions) and replays them
 *     through a fresh judge. `prometheus` must be one of the URLs the server was started with (no SSRF).
 *   Buckets mode     {"buckets": [{t, stable:{requests,errors}, canary:{requests,errors}}, ...], "judge"?}
 * Answer (HTTP 200 whatever the decision): {decision, at, reason, abort, promote, buckets, since?, canary?, stable?}
 * Bad input is 400 {error}; a Prometheus failure is 502 {error} (an Argo measurement Error, not a Failure).
 */
import { Counter } from 'prom-client';
import { z } from 'zod';
import { type Bucket, bucketProblem, createSequentialJudge, type JudgeDecision } from '../canary/judge/index.ts';
import { createPrometheusClient } from '../canary/prometheus/client.ts';
import { judgeFromPrometheus } from '../canary/prometheus/evaluate.ts';
import { InputError } from '../errors.ts';
import type { RouteRegistrar, SutureServer } from './server.ts';

const judgeOptions = z
  .object({
    toleranceAbsolute: z.number(),
    toleranceRelative: z.number(),
    alpha: z.number(),
    beta: z.number(),
    minCanaryRequests: z.number(),
    minSeconds: z.number(),
    maxGapSeconds: z.number(),
  })
  .partial()
  .strict();

const bucketsBody = z
  .object({ buckets: z.array(z.unknown()).min(1).max(1_000_000), judge: judgeOptions.optional() })
  .strict();

const promBody = z
  .object({
    service: z.string().min(1).max(253),
    stable: z.string().min(1).max(253),
    canary: z.string().min(1).max(253),
    prometheus: z.string().optional(),
    labels: z.record(z.string(), z.string()).optional(),
    versionLabel: z.string().optional(),
    bucketSeconds: z.number().int().min(1).max(3600).optional(),
    /** Unix seconds or an RFC 3339 time. */
    since: z.union([z.number().nonnegative(), z.string()]).optional(),
    judge: judgeOptions.optional(),
  })
  .strict();

export interface JudgeRouteOptions {
  /** Prometheus URLs the server may query; the first is the default. Empty: Prometheus mode is refused. */
  prometheus?: string[];
  /** Default bucket width for Prometheus mode; 30 s. */
  bucketSeconds?: number;
  /** Clock (unix seconds), for tests. */
  now?: () => number;
}

export interface JudgeAnswer extends JudgeDecision {
  abort: boolean;
  promote: boolean;
  buckets: number;
  since?: number;
  canary?: { requests: number; errors: number };
  stable?: { requests: number; errors: number };
}

/** Registers POST /judge. */
export function judgeRoute(opts: JudgeRouteOptions = {}): RouteRegistrar {
  return (server: SutureServer) => {
    const decisions = new Counter({
      name: 'suture_judge_decisions_total',
      help: 'Answers of POST /judge, per decision.',
      labelNames: ['decision'] as const,
      registers: [server.registry],
    });
    const firstSeen = new Map<string, number>();
    const now = opts.now ?? (() => Date.now() / 1000);
    server.route('POST', '/judge', async (req) => {
      const body = req.json();
      const answer =
        typeof body === 'object' && body !== null && 'buckets' in body
          ? judgeBuckets(body)
          : await judgePrometheus(body, opts, firstSeen, now);
      decisions.labels(answer.decision).inc();
      return { status: 200, json: answer };
    });
  };
}

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    throw new InputError(`${issue.path.join('.') || 'body'}: ${issue.message}`);
  }
  return r.data;
}

function answerOf(d: JudgeDecision, extra: Omit<JudgeAnswer, keyof JudgeDecision | 'abort' | 'promote'>): JudgeAnswer {
  return { ...d, abort: d.decision === 'abort', promote: d.decision === 'promote', ...extra };
}

function judgeBuckets(body: unknown): JudgeAnswer {
  const b = parse(bucketsBody, body);
  const judge = createSequentialJudge(b.judge);
  let prevT: number | null = null;
  let last: JudgeDecision = { decision: 'continue', at: 0, reason: 'no buckets' };
  for (const [i, raw] of b.buckets.entries()) {
    const problem = bucketProblem(raw as Bucket, prevT);
    if (problem) throw new InputError(`buckets[${i}]: ${problem}`);
    prevT = (raw as Bucket).t;
    last = judge.observe(raw as Bucket);
  }
  return answerOf(last, { buckets: b.buckets.length });
}

async function judgePrometheus(
  body: unknown,
  opts: JudgeRouteOptions,
  firstSeen: Map<string, number>,
  now: () => number,
): Promise<JudgeAnswer> {
  const b = parse(promBody, body);
  const allowed = opts.prometheus ?? [];
  if (allowed.length === 0)
    throw new InputError('this server has no Prometheus configured (start it with --prometheus URL)');
  const url = b.prometheus ?? allowed[0]!;
  if (!allowed.includes(url)) throw new InputError(`prometheus ${url} is not one this server may query`);
  if (b.stable === b.canary) throw new InputError('stable and canary must be different versions');
  const key = JSON.stringify([url, b.service, b.stable, b.canary, b.labels ?? {}, b.versionLabel ?? 'version']);
  const since = b.since !== undefined ? toUnix(b.since) : remember(firstSeen, key, now());
  const bucketSeconds = b.bucketSeconds ?? opts.bucketSeconds ?? 30;
  const r = await judgeFromPrometheus({
    client: createPrometheusClient(url),
    selector: { service: b.service, labels: b.labels, versionLabel: b.versionLabel },
    versions: { stable: b.stable, canary: b.canary },
    since,
    until: now(),
    bucketSeconds,
    judge: b.judge,
  });
  const { buckets, canary, stable, ...decision } = r;
  return answerOf(decision, { buckets, since, canary, stable });
}

function toUnix(v: number | string): number {
  if (typeof v === 'number') return v;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new InputError(`since: not a time: ${v}`);
  return ms / 1000;
}

/** First-seen times per canary, bounded: the oldest are forgotten first. */
function remember(map: Map<string, number>, key: string, t: number): number {
  const seen = map.get(key);
  if (seen !== undefined) return seen;
  if (map.size >= 10_000) map.delete(map.keys().next().value!);
  map.set(key, Math.floor(t));
  return Math.floor(t);
}
