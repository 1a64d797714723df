/**
 * The main-thread side of intake-worker.ts: one long-lived worker (loading intake and zod once) that
 * answers in order; each body bounded in time — one that takes longer to validate is refused and the
 * worker replaced — and a bounded number of bodies waiting.
 */
import { Worker } from 'node:worker_threads';
import type { AlertIntake } from './alert-intake.ts';
import { HttpError } from './http-error.ts';
import { siblingModule } from './modules.ts';

const ENTRY = siblingModule(import.meta.url, './intake-worker');

export interface IntakeThreadOptions {
  /** Per body; past it the worker is stopped and the bodies it holds are refused. */
  timeoutMs: number;
  /** Bodies waiting or being validated; past it, 429. */
  maxPending: number;
  retryAfterSeconds: number;
}

type Reply =
  | { id: number; ok: AlertIntake }
  | { id: number; error: { status: number; message: string; reason: string }; alerts: number };

/** An HttpError from validation, with how many alerts the refused body carried (for the metrics). */
export type IntakeError = HttpError & { alerts?: number };

export class IntakeThread {
  private worker: Worker | undefined;
  private ready: Promise<void> | undefined;
  private readonly waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: unknown) => void }>();
  private nextId = 0;
  private pending = 0;
  private readonly opts: IntakeThreadOptions;

  constructor(opts: IntakeThreadOptions) {
    this.opts = opts;
  }

  /** Validates a body: the intake, or an IntakeError to answer with. */
  async validate(body: Buffer, maxAlerts: number): Promise<AlertIntake> {
    if (this.pending >= this.opts.maxPending) {
      throw new HttpError(429, `too many alert payloads being validated (${this.opts.maxPending}): retry later`, {
        reason: 'intake_busy',
        headers: { 'retry-after': String(this.opts.retryAfterSeconds) },
      });
    }
    this.pending++;
    try {
      const { worker, ready } = this.start();
      await ready;
      if (this.worker !== worker) throw retry('alert validation restarted');
      const id = this.nextId++;
      let timer: NodeJS.Timeout | undefined;
      const reply = await new Promise<Reply>((resolve, reject) => {
        this.waiting.set(id, { resolve, reject });
        timer = setTimeout(() => {
          const s = this.opts.timeoutMs / 1000;
          reject(new HttpError(400, `payload took longer than ${s} s to validate`, { reason: 'intake_timeout' }));
          // Bodies queued behind it were not at fault: they get a 503, which Alertmanager retries.
          this.fail(worker, retry('an earlier payload took too long to validate'));
        }, this.opts.timeoutMs);
        worker.postMessage({ id, body, maxAlerts });
      }).finally(() => {
        clearTimeout(timer);
        this.waiting.delete(id);
      });
      if ('ok' in reply) return reply.ok;
      const err: IntakeError = new HttpError(reply.error.status, reply.error.message, { reason: reply.error.reason });
      err.alerts = reply.alerts;
      throw err;
    } finally {
      this.pending--;
    }
  }

  close(): void {
    if (this.worker) this.fail(this.worker, retry('the server is shutting down'));
  }

  private start(): { worker: Worker; ready: Promise<void> } {
    if (this.worker) return { worker: this.worker, ready: this.ready! };
    const worker = new Worker(ENTRY, { resourceLimits: { maxOldGenerationSizeMb: 512 } });
    worker.unref();
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (r: Reply | { ready: true }) => {
        if ('ready' in r) resolve();
        else this.waiting.get(r.id)?.resolve(r);
      });
      const stopped = (message: string) => {
        const err = new HttpError(500, message, { reason: 'internal' });
        reject(err);
        this.fail(worker, err);
      };
      worker.on('error', (err) => stopped(`alert validation failed: ${err.message}`));
      worker.on('exit', () => stopped('alert validation stopped'));
    });
    ready.catch(() => undefined);
    this.worker = worker;
    this.ready = ready;
    return { worker, ready };
  }

  /** Refuses every body waiting on `worker` and drops it; the next body starts a fresh one. */
  private fail(worker: Worker, err: HttpError): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    this.ready = undefined;
    void worker.terminate();
    for (const { reject } of this.waiting.values()) reject(err);
  }
}

const retry = (why: string) =>
  new HttpError(503, `${why}: retry`, { reason: 'unavailable', headers: { 'retry-after': '5' } });
