/**
 * A bounded loopback traffic generator for rehearsals and tests: paced GET requests at `rps`, stopping at
 * `maxRequests`, after `maxSeconds`, or on stop(), whichever comes first. Only 127.0.0.1 targets are allowed.
 */
export interface TrafficOptions {
  url: string;
  rps: number;
  maxRequests: number;
  maxSeconds: number;
  /** In-flight cap, so a hung upstream cannot pile up sockets. */
  concurrency?: number;
}

export interface TrafficStats {
  sent: number;
  ok: number;
  failed: number;
  byStatus: Record<string, number>;
  byVersion: Record<string, number>;
}

export interface Traffic {
  stats: TrafficStats;
  stop(): void;
  done: Promise<TrafficStats>;
}

export function generateTraffic(o: TrafficOptions): Traffic {
  const target = new URL(o.url);
  if (target.hostname !== '127.0.0.1' && target.hostname !== 'localhost') {
    throw new RangeError(`traffic only goes to loopback, not ${target.hostname}`);
  }
  if (!(o.rps > 0 && o.maxRequests >= 0 && o.maxSeconds > 0))
    throw new RangeError('rps, maxRequests and maxSeconds must be positive');
  const stats: TrafficStats = { sent: 0, ok: 0, failed: 0, byStatus: {}, byVersion: {} };
  const concurrency = o.concurrency ?? 32;
  const started = performance.now();
  let stopped = false;
  let inFlight = 0;
  const pending = new Set<Promise<void>>();

  const one = async () => {
    inFlight++;
    try {
      const res = await fetch(target, { signal: AbortSignal.timeout(5000) });
      await res.arrayBuffer();
      stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
      const v = res.headers.get('x-suture-version') ?? 'unknown';
      stats.byVersion[v] = (stats.byVersion[v] ?? 0) + 1;
      if (res.status < 500) stats.ok++;
      else stats.failed++;
    } catch {
      stats.failed++;
      stats.byStatus.error = (stats.byStatus.error ?? 0) + 1;
    } finally {
      inFlight--;
    }
  };

  const run = async () => {
    while (!stopped && stats.sent < o.maxRequests) {
      const elapsed = (performance.now() - started) / 1000;
      if (elapsed >= o.maxSeconds) break;
      // Pace against the clock, not per request, so slow answers do not lower the rate.
      const due = Math.floor(elapsed * o.rps) + 1;
      if (stats.sent < due && inFlight < concurrency) {
        stats.sent++;
        const p = one();
        pending.add(p);
        void p.finally(() => pending.delete(p));
        continue;
      }
      await new Promise((r) => setTimeout(r, Math.max(1, Math.min(50, 1000 / o.rps))));
    }
    await Promise.all(pending);
    return stats;
  };

  return {
    stats,
    stop: () => {
      stopped = true;
    },
    done: run(),
  };
}
