/**
 * The local rollout backend (the embedded default): stable and canary run as containers on loopback ports
 * behind the weighted router; a private Prometheus scrapes the router; every `bucketSeconds` the per-version
 * counter increases become one judge bucket. The steps come from the service's Argo Rollouts manifest:
 *   setWeight  → the router's canary share
 *   pause      → wait that long (an indefinite pause waits for the judge, like a human promoting would)
 *   analysis   → wait until the judge promotes or aborts (capped by analysisTimeoutSeconds → abort)
 * The judge runs in the background across all steps, like Argo's background analysis: an abort at any point
 * sets the weight to 0 and stops the canary. When every step has passed, the canary becomes stable (the
 * router sends it all traffic under its own version and the old stable container is stopped).
 */
import { randomBytes } from 'node:crypto';
import { SutureError } from '../../errors.ts';
import {
  imageInfo,
  LABEL_ROLLOUT,
  removeContainers,
  removeWhere,
  type ServiceContainer,
  startServiceContainer,
  sweepStale,
} from '../../sandbox/docker.ts';
import { type Bucket, createSequentialJudge, type JudgeDecision, type JudgeOptions } from '../judge/index.ts';
import { createPrometheusClient } from '../prometheus/client.ts';
import {
  type CounterSelector,
  createCounterDiff,
  errorTotalsQuery,
  requestTotalsQuery,
  versionTotals,
} from '../prometheus/queries.ts';
import { type PrometheusServer, startPrometheus } from '../prometheus/server.ts';
import { freePort, waitForHttp } from './ports.ts';
import { type Router, startRouter } from './router.ts';
import type { RolloutPlan, RolloutStep } from './steps.ts';

export interface ServiceVersion {
  image: string;
  /** The `version` label value (an image tag, a commit). Stable and canary must differ. */
  version: string;
  /** Loopback port; a free one when absent. */
  port?: number;
  env?: Record<string, string>;
  command?: string[];
  /** Health path polled before traffic is sent; default /healthz. */
  health?: string;
}

export interface LocalRolloutOptions {
  service: string;
  plan: RolloutPlan;
  stable: ServiceVersion;
  canary: ServiceVersion;
  /** Judge bucket width; default 10 s. The scrape interval is a fifth of it (at least 1 s). */
  bucketSeconds?: number;
  judge?: Partial<JudgeOptions>;
  /** Longest wait for an analysis step or an indefinite pause before aborting as inconclusive; default 600 s. */
  analysisTimeoutSeconds?: number;
  routerPort?: number;
  startTimeoutMs?: number;
  onEvent?: (e: RolloutEvent) => void;
}

export type RolloutEvent =
  | { type: 'ready'; routerUrl: string; prometheusUrl: string }
  | { type: 'step'; index: number; step: RolloutStep; t: number }
  | { type: 'bucket'; bucket: Bucket; decision: JudgeDecision }
  | { type: 'done'; result: LocalRolloutResult };

export interface LocalRolloutResult {
  outcome: 'promoted' | 'aborted';
  /** Seconds since the canary started taking traffic. */
  at: number;
  reason: string;
  /** The judge's final word (null when it never left `continue`). */
  decision: JudgeDecision | null;
  /** Index of the step that was running when the rollout ended (steps.length when all passed). */
  stepIndex: number;
  buckets: number;
  stableVersion: string;
  canaryTotals: { requests: number; errors: number };
  stableTotals: { requests: number; errors: number };
}

export interface LocalRollout {
  id: string;
  routerUrl: string;
  prometheusUrl: string;
  result: Promise<LocalRolloutResult>;
  /**
   * Aborts from outside the judge (a check the caller runs beside the rollout failed): the rollout ends
   * `aborted` with `reason` at the next moment it looks, as on the judge's abort. No effect once it ended.
   */
  abort(reason: string): void;
  /** Stops the router, Prometheus and every container of this rollout. Safe to call twice. */
  cleanup(): Promise<void>;
}

/** Starts everything, waits until both versions are healthy, then runs the steps in the background. */
export async function startLocalRollout(o: LocalRolloutOptions): Promise<LocalRollout> {
  if (o.stable.version === o.canary.version)
    throw new SutureError('BAD_CONFIG', 'stable and canary versions must differ');
  const bucketSeconds = o.bucketSeconds ?? 10;
  if (!(bucketSeconds >= 1)) throw new SutureError('BAD_CONFIG', `bucketSeconds must be >= 1, got ${bucketSeconds}`);
  const id = `${o.service.replace(/[^a-zA-Z0-9_.-]/g, '-')}-${randomBytes(4).toString('hex')}`;
  const emit = o.onEvent ?? (() => {});
  // Fail on bad judge options or missing images before anything starts.
  createSequentialJudge(o.judge);
  for (const v of [o.stable, o.canary]) {
    if (!(await imageInfo(v.image))) {
      throw new SutureError(
        'BAD_CONFIG',
        `image ${v.image} is not available locally: build it first (no registry here)`,
      );
    }
  }
  const containers: string[] = [];
  let router: Router | null = null;
  let prom: PrometheusServer | null = null;
  let cleaned = false;
  const cleanup = async () => {
    if (cleaned) return;
    cleaned = true;
    await Promise.allSettled([router?.close(), prom?.stop(), removeContainers(containers)]);
    await removeWhere(`${LABEL_ROLLOUT}=${id}`).catch(() => 0);
  };
  // Leftovers of rollouts (or verifications) whose suture process died: one sweep for every role.
  await sweepStale().catch(() => 0);

  try {
    const stablePort = o.stable.port ?? (await freePort());
    const canaryPort = o.canary.port ?? (await freePort());
    const start = async (v: ServiceVersion, role: string, port: number) => {
      const service: ServiceContainer = await startServiceContainer({
        image: v.image,
        name: `suture-${id}-${role}`,
        port,
        labels: { [LABEL_ROLLOUT]: id },
        env: { VERSION: v.version, ...(v.env ?? {}) },
        ...(v.command ? { command: v.command } : {}),
      });
      const cid = service.id;
      containers.push(cid);
      try {
        await waitForHttp(`http://127.0.0.1:${port}${v.health ?? '/healthz'}`, o.startTimeoutMs ?? 20_000);
      } catch (err) {
        const logs = await service.logs(5);
        throw new SutureError(
          'SANDBOX',
          `${role} ${v.image} did not become healthy: ${(err as Error).message} ${logs}`,
        );
      }
      return cid;
    };
    // Router and Prometheus come up while the containers start: Prometheus applies new scrape targets only
    // every 5 s, so starting it first hides most of that delay.
    router = await startRouter({
      service: o.service,
      stable: { version: o.stable.version, port: stablePort },
      canary: { version: o.canary.version, port: canaryPort },
      weight: 0,
      port: o.routerPort ?? 0,
    });
    const scrape = Math.max(1, Math.floor(bucketSeconds / 5));
    const promStarted = startPrometheus({ targets: [router.metricsTarget], scrapeInterval: `${scrape}s` }).then((p) => {
      prom = p;
      return p;
    });
    // allSettled: a failed container start must not leave a Prometheus starting behind the cleanup.
    const started = await Promise.allSettled([
      start(o.stable, 'stable', stablePort),
      start(o.canary, 'canary', canaryPort),
      promStarted,
    ]);
    for (const r of started) if (r.status === 'rejected') throw r.reason;
    const [stableId, canaryId, promServer] = started.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
      string,
      string,
      PrometheusServer,
    ];
    // Shift no traffic before Prometheus has scraped the router once (it applies new targets every 5 s).
    await firstScrape(promServer.url, o.service, o.canary.version, o.startTimeoutMs ?? 20_000);
    emit({ type: 'ready', routerUrl: router.url, prometheusUrl: promServer.url });
    const external: ExternalAbort = { reason: null, wake: () => {} };
    const result = drive(o, { router, prom: promServer, bucketSeconds, stableId, canaryId, emit, external }).then(
      async (r) => {
        emit({ type: 'done', result: r });
        return r;
      },
    );
    // Unhandled rejections would crash the process before the caller awaits `result`.
    result.catch(() => {});
    const abort = (reason: string) => {
      external.reason ??= reason;
      external.wake();
    };
    return { id, routerUrl: router.url, prometheusUrl: promServer.url, result, abort, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** Runs a whole rollout and cleans up afterwards; `beforeSteps` may start traffic against the router. */
export async function runLocalRollout(
  o: LocalRolloutOptions,
  beforeSteps?: (routerUrl: string) => void | Promise<void>,
): Promise<LocalRolloutResult> {
  const r = await startLocalRollout(o);
  try {
    await beforeSteps?.(r.routerUrl);
    return await r.result;
  } finally {
    await r.cleanup();
  }
}

interface ExternalAbort {
  reason: string | null;
  wake: () => void;
}

interface DriveContext {
  external: ExternalAbort;
  router: Router;
  prom: PrometheusServer;
  bucketSeconds: number;
  stableId: string;
  canaryId: string;
  emit: (e: RolloutEvent) => void;
}

async function drive(o: LocalRolloutOptions, c: DriveContext): Promise<LocalRolloutResult> {
  const client = createPrometheusClient(c.prom.url);
  const sel: CounterSelector = { service: o.service };
  const versions = { stable: o.stable.version, canary: o.canary.version };
  const judge = createSequentialJudge(o.judge);
  const diff = createCounterDiff();
  const totals = { stable: { requests: 0, errors: 0 }, canary: { requests: 0, errors: 0 } };
  const read = async () => {
    const [req, err] = await Promise.all([
      client.instant(requestTotalsQuery(sel)),
      client.instant(errorTotalsQuery(sel)),
    ]);
    return versionTotals(req, err, versions);
  };

  // The router is new, so every counter starts at 0: that is the baseline, with no wait for a first scrape.
  diff.next({ stable: { requests: 0, errors: 0 }, canary: { requests: 0, errors: 0 } });
  const started = Date.now();
  const now = () => Math.round((Date.now() - started) / 1000);

  let final: JudgeDecision | null = null;
  let buckets = 0;
  const wake: { fn: (() => void) | null } = { fn: null };
  let tickError: unknown = null;
  let stopped = false;
  // One bucket per tick, sequentially, so t strictly increases even when a query is slow.
  const ticker = (async () => {
    for (let tick = 1; !stopped && !final; tick++) {
      const due = started + tick * c.bucketSeconds * 1000;
      await sleep(Math.max(0, due - Date.now()));
      if (stopped) return;
      try {
        const t = await read();
        if (stopped) return;
        const d = diff.next(t);
        for (const side of ['stable', 'canary'] as const) {
          totals[side].requests += d[side].requests;
          totals[side].errors += d[side].errors;
        }
        const bucket: Bucket = { t: tick * c.bucketSeconds, stable: d.stable, canary: d.canary };
        const decision = judge.observe(bucket);
        buckets++;
        c.emit({ type: 'bucket', bucket, decision });
        if (decision.decision !== 'continue') final = decision;
      } catch (err) {
        tickError = err;
      }
      if (final || tickError) {
        wake.fn?.();
        return;
      }
    }
  })();

  // Resolves after `seconds` (or never, for null) or as soon as the judge decides / a tick fails.
  c.external.wake = () => wake.fn?.();
  const wait = (seconds: number | null) =>
    new Promise<void>((resolve) => {
      if (final || tickError || c.external.reason) return resolve();
      const timer = seconds === null ? null : setTimeout(done, seconds * 1000);
      function done() {
        if (timer) clearTimeout(timer);
        wake.fn = null;
        resolve();
      }
      wake.fn = done;
    });
  const timeout = o.analysisTimeoutSeconds ?? 600;

  const finish = async (outcome: 'promoted' | 'aborted', reason: string, stepIndex: number) => {
    stopped = true;
    wake.fn?.();
    void ticker;
    if (outcome === 'aborted') {
      c.router.setWeight(0);
      c.router.setCanary(null);
      await removeContainers([c.canaryId]);
    } else {
      c.router.setStable({ version: o.canary.version, port: c.router.canary()!.port });
      c.router.setCanary(null);
      c.router.setWeight(0);
      await removeContainers([c.stableId]);
    }
    return {
      outcome,
      at: final?.decision === 'abort' ? final.at : now(),
      reason,
      decision: final,
      stepIndex,
      buckets,
      stableVersion: outcome === 'promoted' ? o.canary.version : o.stable.version,
      canaryTotals: { ...totals.canary },
      stableTotals: { ...totals.stable },
    } satisfies LocalRolloutResult;
  };

  const steps = o.plan.steps;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i]!;
    c.emit({ type: 'step', index: i, step, t: now() });
    if (step.kind === 'setWeight') c.router.setWeight(step.weight);
    else if (step.kind === 'pause' && step.seconds !== null) await wait(step.seconds);
    else if (step.kind === 'pause' || step.kind === 'analysis') {
      if (!final) await wait(timeout);
      if (!final && !tickError && !c.external.reason) {
        return finish(
          'aborted',
          `analysis inconclusive after ${timeout} s at step ${i}: not enough evidence to promote`,
          i,
        );
      }
    }
    if (c.external.reason) return finish('aborted', c.external.reason, i);
    if (tickError) {
      // No data is no evidence: fail safe, as Argo does after consecutiveErrorLimit measurement errors.
      return finish('aborted', `judge could not read Prometheus: ${(tickError as Error).message}`, i);
    }
    const decided = final as JudgeDecision | null;
    if (decided?.decision === 'abort') return finish('aborted', decided.reason, i);
  }
  if (c.external.reason) return finish('aborted', c.external.reason, steps.length);
  const decided = final as JudgeDecision | null;
  return finish(
    'promoted',
    decided?.decision === 'promote' ? decided.reason : 'all rollout steps passed without an abort',
    steps.length,
  );
}

async function firstScrape(url: string, service: string, canaryVersion: string, timeoutMs: number): Promise<void> {
  const client = createPrometheusClient(url);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const req = await client.instant(requestTotalsQuery({ service }));
    if (req.some((s) => s.metric.version === canaryVersion)) return;
    await sleep(200);
  }
  throw new SutureError('INTERNAL', `Prometheus did not scrape the router within ${timeoutMs} ms`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
