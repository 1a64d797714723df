/**
 * The demo's production traffic: healthy requests (the service's captured ones) with a share of crashing
 * ones mixed in, evenly spread, at a steady rate against a loopback address. Records when the first 5xx
 * came back: the start of the MTTR.
 */

export interface DemoRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface Mix {
  healthy: DemoRequest[];
  crashing: DemoRequest[];
  /** Fraction of requests drawn from `crashing`, 0–1. */
  crashShare: number;
}

/** The i-th request of a mix (pure): crashing ones spread evenly by a running credit, like the canary image. */
export function pick(mix: Mix, i: number): DemoRequest {
  const crash = mix.crashing.length > 0 && Math.floor((i + 1) * mix.crashShare) > Math.floor(i * mix.crashShare);
  const list = crash ? mix.crashing : mix.healthy;
  return list[i % list.length]!;
}

export interface DemoTraffic {
  /** Switches the mix (a new scenario) and forgets the first 5xx seen. */
  setMix(mix: Mix): void;
  /** performance.now() of the first 5xx under the current mix, or null. */
  firstErrorAt(): number | null;
  counts(): { sent: number; errors: number };
  stop(): Promise<void>;
}

export function startDemoTraffic(base: string, mix: Mix, rps: number): DemoTraffic {
  if (!/^http:\/\/127\.0\.0\.1:[0-9]+$/.test(base)) throw new RangeError(`traffic only goes to loopback, not ${base}`);
  let current = mix;
  let firstError: number | null = null;
  let sent = 0;
  let errors = 0;
  let stopped = false;
  const pending = new Set<Promise<void>>();
  const one = async (r: DemoRequest) => {
    try {
      const res = await fetch(`${base}${r.path}`, {
        method: r.method,
        headers: r.headers ?? {},
        ...(r.body !== undefined && r.method !== 'GET' ? { body: r.body } : {}),
        signal: AbortSignal.timeout(5000),
      });
      await res.arrayBuffer();
      if (res.status >= 500) {
        errors++;
        firstError ??= performance.now();
      }
    } catch {
      // The service is being replaced (a deploy): not an answer of the service.
    }
  };
  const timer = setInterval(() => {
    if (stopped || pending.size > 64) return;
    const p = one(pick(current, sent++));
    pending.add(p);
    void p.finally(() => pending.delete(p));
  }, 1000 / rps);
  return {
    setMix(m) {
      current = m;
      firstError = null;
    },
    firstErrorAt: () => firstError,
    counts: () => ({ sent, errors }),
    async stop() {
      stopped = true;
      clearInterval(timer);
      await Promise.all(pending);
    },
  };
}
