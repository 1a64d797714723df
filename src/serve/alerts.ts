/**
 * POST /alerts: the Alertmanager webhook receiver. The event loop only does bounded work: a worker thread
 * validates the payload (each firing alert as `heal` will read it) and computes fold keys, in bounded time;
 * then the alerts are offered to a bounded queue and the answer is 202 — or 400 naming the bad alert, or
 * 429 when the queue is full. Off the request path, each queued alert is redacted into an owner-only
 * incident file (in another worker thread) and healed in a child process (`suture heal --json`), a few at a
 * time; finished heals' files are pruned to the retention limit. Results land where heal puts them: the
 * audit log and reports in the state dir, and the branch.
 */
import { basename, join } from 'node:path';
import { Counter, Gauge, Histogram } from 'prom-client';
import type { HealOptions } from '../pipeline/heal.ts';
import type { AlertIntake } from './alert-intake.ts';
import { type HealOutcome, type HealProcessOptions, runHealProcess } from './heal-runner.ts';
import {
  prepareIncidentDir,
  pruneIncidents,
  type Retention,
  removeStaleFiles,
  writeIncidentFile,
} from './incidents.ts';
import { type IntakeError, IntakeThread } from './intake-thread.ts';
import type { Logger } from './log.ts';
import { JobQueue } from './queue.ts';
import { HttpError, type RouteRegistrar } from './server.ts';

export interface AlertLimits {
  /** Alerts (firing or resolved) one request may carry. */
  maxAlerts: number;
  /** Alerts that may wait for a heal; past it, 429. */
  queueSize: number;
  /** Heals running at once. */
  concurrency: number;
  /** A heal still running after this is stopped. */
  healTimeoutMs: number;
  /** Validating one request's body (off the event loop) may take this long. */
  validateTimeoutMs: number;
  /** Redacting and writing one incident file may take this long. */
  writeTimeoutMs: number;
  /** Retry-After on a 429. */
  retryAfterSeconds: number;
}

export const DEFAULT_ALERT_LIMITS: AlertLimits = {
  maxAlerts: 20,
  queueSize: 20,
  concurrency: 1,
  healTimeoutMs: 30 * 60_000,
  validateTimeoutMs: 10_000,
  writeTimeoutMs: 120_000,
  retryAfterSeconds: 60,
};

export const DEFAULT_RETENTION: Retention = { keep: 50, maxAgeMs: 7 * 24 * 3600_000 };

export interface AlertsOptions {
  repo: string;
  stateDir: string;
  mode: HealOptions['mode'];
  push: boolean;
  limits?: Partial<AlertLimits>;
  retention?: Retention;
  /** The server's log; every line about one alert's heal carries its `incident` id. */
  log: Logger;
  /** Runs one heal; by default `suture heal --json` in a child process. */
  runHeal?: (opts: HealProcessOptions) => Promise<HealOutcome>;
}

/** Registers POST /alerts. Call `prepareAlerts` first to fail early on an unusable state dir. */
export function alertsRoute(opts: AlertsOptions): RouteRegistrar {
  const limits = { ...DEFAULT_ALERT_LIMITS, ...opts.limits };
  const retention = opts.retention ?? DEFAULT_RETENTION;
  const runHeal = opts.runHeal ?? runHealProcess;
  const dir = incidentDir(opts.stateDir);
  return (server) => {
    const received = new Counter({
      name: 'suture_alerts_received_total',
      help: 'Alerts received on POST /alerts, by outcome (queued, folded, resolved, rejected).',
      labelNames: ['outcome'] as const,
      registers: [server.registry],
    });
    const heals = new Counter({
      name: 'suture_heals_total',
      help: 'Heal runs started from alerts, by final status (a heal status, or bad_input, timeout, stopped, error).',
      labelNames: ['status'] as const,
      registers: [server.registry],
    });
    const queueDepth = new Gauge({
      name: 'suture_heal_queue_depth',
      help: 'Alerts waiting for a heal.',
      registers: [server.registry],
    });
    const running = new Gauge({
      name: 'suture_heals_running',
      help: 'Heals running now.',
      registers: [server.registry],
    });
    const duration = new Histogram({
      name: 'suture_heal_duration_seconds',
      help: 'Wall-clock time of heal runs started from alerts, from the start of the run to its result, by final status.',
      labelNames: ['status'] as const,
      buckets: [1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
      registers: [server.registry],
    });
    const canaryAborts = new Counter({
      name: 'suture_canary_aborts_total',
      help: 'Heals started from alerts whose canary aborted (the change was reverted).',
      registers: [server.registry],
    });
    new Gauge({
      name: 'suture_heal_queue_capacity',
      help: 'Alerts that may wait for a heal before POST /alerts answers 429.',
      registers: [server.registry],
    }).set(limits.queueSize);

    const shutdown = new AbortController();
    const files = new Set<string>();
    const heal = async (doc: unknown, key: string) => {
      const id = key.slice(0, 12);
      const log = opts.log.child({ incident: id });
      let file: string | undefined;
      let outcome: HealOutcome;
      const started = performance.now();
      log.info('heal started', { mode: opts.mode });
      try {
        await prepareIncidentDir(dir);
        file = await writeIncidentFile(dir, id, doc, { timeoutMs: limits.writeTimeoutMs, signal: shutdown.signal });
        files.add(basename(file));
        outcome = await runHeal({
          repo: opts.repo,
          incidentFile: file,
          mode: opts.mode,
          stateDir: opts.stateDir,
          push: opts.push,
          timeoutMs: limits.healTimeoutMs,
          signal: shutdown.signal,
          // The heal's progress lines, without its `[suture] ` prefix: the incident field says whose they are.
          onLine: (line) => log.info(line.replace(/^\[suture\] /, '')),
        });
      } catch (err) {
        outcome = { status: 'error', detail: err instanceof Error ? err.message : String(err) };
      }
      const seconds = (performance.now() - started) / 1000;
      heals.labels(outcome.status).inc();
      duration.labels(outcome.status).observe(seconds);
      if (outcome.status === 'aborted' || outcome.canary === 'abort') canaryAborts.inc();
      log[levelOf(outcome.status)](`heal ${outcome.status}${outcome.detail ? `: ${outcome.detail}` : ''}`, {
        status: outcome.status,
        branch: outcome.branch ?? undefined,
        durationMs: Math.round(seconds * 1000),
      });
      if (file) files.delete(basename(file));
      await pruneIncidents(dir, retention, files).catch(() => undefined);
    };
    const queue = new JobQueue<unknown>(
      { capacity: limits.queueSize, concurrency: limits.concurrency },
      (doc, key) => heal(doc, key),
      (s) => {
        queueDepth.set(s.waiting);
        running.set(s.running);
      },
    );
    server.onClose(async () => {
      queue.close();
      shutdown.abort();
      // Running heals get their SIGTERM (then SIGKILL) from the abort; wait until none is left.
      while (queue.state.running > 0) await new Promise((r) => setTimeout(r, 50));
    });

    const intake = new IntakeThread({
      timeoutMs: limits.validateTimeoutMs,
      maxPending: 16,
      retryAfterSeconds: limits.retryAfterSeconds,
    });
    server.onClose(() => intake.close());

    server.route('POST', '/alerts', async (req) => {
      let alerts: AlertIntake;
      try {
        alerts = await intake.validate(req.body, limits.maxAlerts);
      } catch (err) {
        received.labels('rejected').inc((err as IntakeError).alerts ?? 0);
        throw err;
      }
      const offer = queue.offer(alerts.firing.map((a) => ({ key: a.key, job: a.doc })));
      if (!offer.accepted) {
        received.labels('rejected').inc(alerts.firing.length);
        throw new HttpError(429, `heal queue full (${limits.queueSize} waiting, room for ${offer.free}): retry later`, {
          reason: 'queue_full',
          headers: { 'retry-after': String(limits.retryAfterSeconds) },
        });
      }
      for (const key of offer.queued) opts.log.info('alert queued', { incident: key.slice(0, 12) });
      for (const key of offer.folded)
        opts.log.info('alert folded into a waiting or running heal', { incident: key.slice(0, 12) });
      received.labels('resolved').inc(alerts.resolved);
      received.labels('queued').inc(offer.queued.length);
      received.labels('folded').inc(offer.folded.length);
      return {
        status: 202,
        json: {
          accepted: offer.queued.length,
          folded: offer.folded.length,
          incidents: offer.queued.map((k) => k.slice(0, 12)),
        },
      };
    });
  };
}

/** A failed heal run is an error; one that was refused or stopped, a warning; any heal status, info. */
function levelOf(status: string): 'info' | 'warn' | 'error' {
  if (status === 'error' || status === 'timeout') return 'error';
  return status === 'bad_input' || status === 'stopped' ? 'warn' : 'info';
}

export function incidentDir(stateDir: string): string {
  return join(stateDir, 'incidents');
}

/** Before serving: the owner-only incident directory, pruned of what earlier runs left past retention. */
export async function prepareAlerts(stateDir: string, retention: Retention = DEFAULT_RETENTION): Promise<void> {
  const dir = incidentDir(stateDir);
  await prepareIncidentDir(dir);
  await removeStaleFiles(dir);
  await pruneIncidents(dir, retention);
}
