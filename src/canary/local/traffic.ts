/**
 * A bounded loopback traffic generator for rehearsals and tests: paced requests at `rps` (GET `url`, or the
 * `samples` replayed in random order: method, path, headers, body, against `url`'s origin), stopping at
 * `maxRequests`, after `maxSeconds`, or on stop(), whichever comes first. Only 127.0.0.1 targets are allowed.
 */
import type { RequestSample } from '../../incident/types.ts';

/** Headers fetch() sets itself (or refuses): a sample's copy is dropped, not replayed. */
const NOT_REPLAYED = new Set(['host', 'content-length', 'connection', 'transfer-encoding', 'keep-alive', 'expect']);

export interface TrafficOptions {
  url: string;
  /** Requests replayed (in random order) instead of GET `url` (the incident's healthy samples, its crashing requests). */
  samples?: RequestSample[];
  /** Every answer (status, or 'error' for no answer), with the sample it answered; for checks on the side. */
  onAnswer?: (status: number | 'error', sample: RequestSample | null) => void;
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

  const samples = o.samples ?? [];
  const one = async (sample: RequestSample | null) => {
    inFlight++;
    try {
      const res = await fetch(sample ? sampleUrl(sample, target) : target, {
        signal: AbortSignal.timeout(5000),
        ...(sample ? replayInit(sample) : {}),
      });
      await res.arrayBuffer();
      o.onAnswer?.(res.status, sample);
      stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
      const v = res.headers.get('x-suture-version') ?? 'unknown';
      stats.byVersion[v] = (stats.byVersion[v] ?? 0) + 1;
      if (res.status < 500) stats.ok++;
      else stats.failed++;
    } catch {
      o.onAnswer?.('error', sample);
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
        // At random, not in turn: the router splits by a deterministic credit counter, and samples in turn
        // would alias with it (at weight 50, every other request: one sample always to stable, one to canary).
        const sample = samples.length ? samples[Math.floor(Math.random() * samples.length)]! : null;
        stats.sent++;
        const p = one(sample);
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

/** A sample's path on the target's origin; a path that would leave it (`//host/…`, a full URL) is refused. */
export function sampleUrl(sample: RequestSample, target: URL): URL {
  const url = new URL(sample.path.startsWith('/') ? sample.path : `/${sample.path}`, target.origin);
  if (url.origin !== target.origin)
    throw new RangeError(`sample path ${sample.path.slice(0, 80)} leaves ${target.origin}`);
  return url;
}

/** fetch() options replaying a sample: its method, its headers (but those fetch owns) and its body. */
export function replayInit(sample: RequestSample): RequestInit {
  const method = sample.method.toUpperCase();
  const headers = Object.fromEntries(
    Object.entries(sample.headers ?? {}).filter(([k]) => !NOT_REPLAYED.has(k.toLowerCase())),
  );
  const body = method === 'GET' || method === 'HEAD' ? undefined : (sample.body ?? '');
  return { method, headers, ...(body !== undefined ? { body } : {}) };
}
