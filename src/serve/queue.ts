/**
 * The heal queue behind POST /alerts: bounded (a full queue refuses new work instead of growing), at most
 * `concurrency` jobs running, and jobs with the same key folded while one is waiting or running. Knows
 * nothing about heals: `run` does the work.
 */

export interface QueueLimits {
  /** Jobs that may wait (running ones not counted). */
  capacity: number;
  /** Jobs that may run at once. */
  concurrency: number;
}

export type Offer = { accepted: true; queued: string[]; folded: string[] } | { accepted: false; free: number };

export interface QueueState {
  waiting: number;
  running: number;
}

export class JobQueue<J> {
  private readonly waiting: Array<{ key: string; job: J }> = [];
  private readonly keys = new Set<string>();
  private running = 0;
  private closed = false;
  private readonly limits: QueueLimits;
  private readonly run: (job: J, key: string) => Promise<void>;
  private readonly onChange: (state: QueueState) => void;

  constructor(
    limits: QueueLimits,
    run: (job: J, key: string) => Promise<void>,
    onChange: (state: QueueState) => void = () => undefined,
  ) {
    this.limits = limits;
    this.run = run;
    this.onChange = onChange;
  }

  get state(): QueueState {
    return { waiting: this.waiting.length, running: this.running };
  }

  /**
   * Offers a batch all-or-nothing: every new key is queued, or (not enough room) none is, so a refused
   * sender can retry the same batch as a whole. Keys already waiting or running, or repeated within the
   * batch, fold and take no room.
   */
  offer(batch: Array<{ key: string; job: J }>): Offer {
    if (this.closed) return { accepted: false, free: 0 };
    const fresh = new Map<string, J>();
    const folded: string[] = [];
    for (const { key, job } of batch) {
      if (this.keys.has(key) || fresh.has(key)) folded.push(key);
      else fresh.set(key, job);
    }
    const free = this.limits.capacity - this.waiting.length;
    if (fresh.size > free) return { accepted: false, free };
    for (const [key, job] of fresh) {
      this.keys.add(key);
      this.waiting.push({ key, job });
    }
    this.pump();
    return { accepted: true, queued: [...fresh.keys()], folded };
  }

  /** Drops what waits and starts nothing more; running jobs are the caller's to stop. */
  close(): void {
    this.closed = true;
    for (const { key } of this.waiting.splice(0)) this.keys.delete(key);
    this.onChange(this.state);
  }

  private pump(): void {
    while (!this.closed && this.running < this.limits.concurrency && this.waiting.length > 0) {
      const { key, job } = this.waiting.shift()!;
      this.running++;
      void Promise.resolve()
        .then(() => this.run(job, key))
        .catch(() => undefined)
        .finally(() => {
          this.running--;
          this.keys.delete(key);
          this.pump();
          this.onChange(this.state);
        });
    }
    this.onChange(this.state);
  }
}
