/**
 * POST /alerts: the Alertmanager webhook receiver. Each firing alert of a valid v4 payload becomes one
 * incident file in <state>/incidents/ and one `heal` run on the configured repo. Heals run one at a time
 * (they share the repo and the machine), alerts for a fingerprint already queued or running are folded
 * into it, and the webhook answers 202 at once, so Alertmanager never times out or retries a slow heal.
 * Results land where heal puts them: the audit log and reports in the state dir, and the branch.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Counter, Gauge } from 'prom-client';
import { InputError } from '../errors.ts';
import { alertmanagerSchema } from '../incident/schema.ts';
import type { HealOptions, HealResult } from '../pipeline/heal.ts';
import type { RouteRegistrar } from './server.ts';

export interface AlertsOptions {
  repo: string;
  stateDir: string;
  mode: HealOptions['mode'];
  push: boolean;
  heal: (opts: HealOptions) => Promise<HealResult>;
  progress: (m: string) => void;
}

export function alertsRoute(opts: AlertsOptions): RouteRegistrar {
  return (server) => {
    const received = new Counter({
      name: 'suture_alerts_received_total',
      help: 'Alerts received on POST /alerts, by outcome (queued, folded, resolved).',
      labelNames: ['outcome'] as const,
      registers: [server.registry],
    });
    const heals = new Counter({
      name: 'suture_heals_total',
      help: 'Heal runs started from alerts, by final status.',
      labelNames: ['status'] as const,
      registers: [server.registry],
    });
    const queueDepth = new Gauge({
      name: 'suture_heal_queue_depth',
      help: 'Alerts waiting for or running a heal.',
      registers: [server.registry],
    });
    const pending = new Set<string>();
    let chain: Promise<unknown> = Promise.resolve();

    server.route('POST', '/alerts', async (req) => {
      const parsed = alertmanagerSchema.safeParse(req.json());
      if (!parsed.success) {
        const issue = parsed.error.issues[0]!;
        throw new InputError(`alertmanager payload: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
      }
      const payload = parsed.data;
      const firing = payload.alerts.filter((a) => a.status === 'firing');
      received.labels('resolved').inc(payload.alerts.length - firing.length);
      const queued: string[] = [];
      for (const alert of firing) {
        // One incident per alert; the grouping key of a single alert is its own fingerprint or labels.
        const key = alert.fingerprint ?? JSON.stringify(Object.entries(alert.labels).sort());
        if (pending.has(key)) {
          received.labels('folded').inc();
          continue;
        }
        pending.add(key);
        received.labels('queued').inc();
        const dir = join(opts.stateDir, 'incidents');
        await mkdir(dir, { recursive: true });
        const file = join(dir, `${Date.now()}-${queued.length}.json`);
        await writeFile(file, JSON.stringify({ ...payload, alerts: [alert] }, null, 2));
        queued.push(file);
        queueDepth.inc();
        chain = chain.then(async () => {
          try {
            const r = await opts.heal({
              repo: opts.repo,
              incidentFile: file,
              mode: opts.mode,
              stateDir: opts.stateDir,
              push: opts.push,
              progress: opts.progress,
            });
            heals.labels(r.status).inc();
            opts.progress(`alert ${key.slice(0, 40)}: ${r.status}${r.branch ? ` (${r.branch})` : ''}`);
          } catch (err) {
            heals.labels('error').inc();
            opts.progress(
              `alert ${key.slice(0, 40)}: heal failed: ${err instanceof Error ? err.message : String(err)}`,
            );
          } finally {
            pending.delete(key);
            queueDepth.dec();
          }
        });
      }
      return { status: 202, json: { accepted: queued.length, incidents: queued } };
    });
  };
}
