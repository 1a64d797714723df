/**
 * Chooses the healthy samples differential replay compares on base and candidate. Pools come in order of
 * preference (intake: the crash report's own list, the capture file the team keeps in the repo, then the
 * logs, which anyone who can make the service log can fill). Kept: only requests answered 2xx in
 * production (a crash report's sample without a status counts as healthy: its author listed it as such),
 * cleaned by the same sanitiser and bounded by the same limits as every request on intake, never one equal
 * to a failing request, one per route (./route.ts), at most `max`. Per route the first is kept, except that
 * a later sample with a body replaces a bodiless one for a method that carries a body (a log may record a
 * POST without its body where a capture has it). Routes a failing request took come first: their healthy
 * answers exercise the code a fix changes, so the cap never drops them for unrelated routes. Pure.
 */
import { sanitiseRequest } from '../sanitise.ts';
import { LIMITS, requestSchema } from '../schema.ts';
import type { HealthySource, HealthySources, RequestSample } from '../types.ts';
import { routeKey } from './route.ts';

export interface HealthyPool {
  source: HealthySource;
  samples: RequestSample[];
  /** Records the source's parser could not use, by reason (./capture.ts). */
  skipped?: Record<string, number>;
}

export interface HealthySelection {
  samples: RequestSample[];
  sources: HealthySources;
}

const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH']);

/** For a method that carries a body, a sample with one says more than the held sample without. */
function betterThan(sample: RequestSample, held: RequestSample): boolean {
  return BODY_METHODS.has(sample.method.toUpperCase()) && held.body === undefined && sample.body !== undefined;
}

/** Same method, path and body: what replaying them would send is the same. */
export function sameRequest(a: RequestSample, b: RequestSample): boolean {
  return a.method === b.method && a.path === b.path && (a.body ?? '') === (b.body ?? '');
}

interface Kept {
  sample: RequestSample;
  source: HealthySource;
}

export function selectHealthy(pools: HealthyPool[], failing: RequestSample[], max: number): HealthySelection {
  const skipped: Record<string, number> = {};
  const skip = (reason: string, n = 1) => {
    if (n > 0) skipped[reason] = (skipped[reason] ?? 0) + n;
  };
  // Compared as replayed: sanitised (idempotent, so intake's already sanitised failing requests are unchanged).
  const failed = failing.map(sanitiseRequest);
  const crashRoutes = new Set(failed.map((f) => routeKey(f.method, f.path)));
  // Each list holds at most `max`: samples on a crash route, and the others.
  const near: Kept[] = [];
  const rest: Kept[] = [];
  const byRoute = new Map<string, Kept>();
  for (const pool of pools) {
    for (const [reason, n] of Object.entries(pool.skipped ?? {})) skip(reason, n);
    for (const raw of pool.samples) {
      if (raw.status === undefined && pool.source !== 'report') {
        skip('no-status');
        continue;
      }
      if (raw.status !== undefined && (raw.status < 200 || raw.status > 299)) {
        skip('not-2xx');
        continue;
      }
      // A repeat of a route already held, or a new route past the cap, is settled before the (costlier)
      // sanitising: logs repeat a few routes thousands of times.
      const rawRoute = routeKey(raw.method, raw.path);
      const held = byRoute.get(rawRoute);
      if (held && !betterThan(raw, held.sample)) {
        skip('same-route');
        continue;
      }
      if (!held && !crashRoutes.has(rawRoute) && rest.length >= max) {
        skip('over-cap');
        continue;
      }
      // Sizes first: the sanitiser parses JSON bodies, and a body past the limit is refused anyway.
      if (raw.path.length > LIMITS.path || (raw.body?.length ?? 0) > LIMITS.body) {
        skip('beyond-limits');
        continue;
      }
      const sample = sanitiseRequest(raw);
      if (!requestSchema.safeParse(sample).success) {
        skip('beyond-limits');
        continue;
      }
      if (failed.some((f) => sameRequest(f, sample))) {
        skip('equals-failing');
        continue;
      }
      const route = routeKey(sample.method, sample.path);
      const at = byRoute.get(route);
      if (at) {
        if (betterThan(sample, at.sample)) Object.assign(at, { sample, source: pool.source });
        skip('same-route');
        continue;
      }
      const list = crashRoutes.has(route) ? near : rest;
      if (list.length >= max) {
        skip('over-cap');
        continue;
      }
      const entry = { sample, source: pool.source };
      byRoute.set(route, entry);
      list.push(entry);
    }
  }
  const chosen = [...near, ...rest];
  skip('over-cap', chosen.length - max);
  const kept = chosen.slice(0, Math.max(0, max));
  const count = (source: HealthySource) => kept.filter((k) => k.source === source).length;
  return {
    samples: kept.map((k) => k.sample),
    sources: { kept: { report: count('report'), logs: count('logs'), capture: count('capture') }, skipped },
  };
}

const SOURCE_NAMES: Record<HealthySource, string> = {
  report: 'the crash report',
  logs: 'the logs',
  capture: 'the capture file',
};

/** One progress line: how many healthy samples came from where, and why others were not used. */
export function describeHealthy(sources: HealthySources | undefined, total: number): string {
  if (!sources) return `healthy samples: ${total}`;
  const from = (Object.keys(SOURCE_NAMES) as HealthySource[])
    .filter((s) => sources.kept[s] > 0)
    .map((s) => `${sources.kept[s]} from ${SOURCE_NAMES[s]}`);
  const skipped = Object.entries(sources.skipped)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `${n} ${reason}`);
  const head = from.length
    ? `healthy samples: ${from.join(', ')}`
    : 'no healthy samples: differential replay has nothing to compare';
  return skipped.length ? `${head} (not used: ${skipped.join(', ')})` : head;
}
