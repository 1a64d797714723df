/**
 * PromQL for the per-version counters that suture's router exports (and that a service can export itself):
 *   suture_requests_total{service, version}        every proxied request
 *   suture_request_errors_total{service, version}  5xx answers and failed upstream connections
 * and the conversion of those cumulative counters into the judge's per-bucket counts.
 */
import type { Sample, Series } from './client.ts';

export const REQUESTS_METRIC = 'suture_requests_total';
export const ERRORS_METRIC = 'suture_request_errors_total';

export interface Counts {
  requests: number;
  errors: number;
}

export interface VersionCounts {
  stable: Counts;
  canary: Counts;
}

export interface CounterSelector {
  service: string;
  /** Extra label matchers, exact match (e.g. { namespace: 'shop' }). */
  labels?: Record<string, string>;
  /** The label that tells versions apart; default `version`. */
  versionLabel?: string;
}

/** Escapes a value for a double-quoted PromQL string literal. */
export function promString(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const DURATION = /^([0-9]+(ms|s|m|h|d|w|y))+$/;

function matchers(sel: CounterSelector): string {
  const labels: Record<string, string> = { service: sel.service, ...(sel.labels ?? {}) };
  return Object.entries(labels)
    .map(([k, v]) => {
      if (!LABEL_NAME.test(k)) throw new TypeError(`not a Prometheus label name: ${k}`);
      return `${k}=${promString(v)}`;
    })
    .join(',');
}

function versionLabel(sel: CounterSelector): string {
  const l = sel.versionLabel ?? 'version';
  if (!LABEL_NAME.test(l)) throw new TypeError(`not a Prometheus label name: ${l}`);
  return l;
}

function checkWindow(window: string): string {
  if (!DURATION.test(window)) throw new TypeError(`not a PromQL duration: ${window}`);
  return window;
}

/** Cumulative request counter per version: `sum by (version) (suture_requests_total{service="x"})`. */
export function requestTotalsQuery(sel: CounterSelector): string {
  return `sum by (${versionLabel(sel)}) (${REQUESTS_METRIC}{${matchers(sel)}})`;
}

/** Cumulative error counter per version. */
export function errorTotalsQuery(sel: CounterSelector): string {
  return `sum by (${versionLabel(sel)}) (${ERRORS_METRIC}{${matchers(sel)}})`;
}

/** Requests per version over a window: `sum by (version) (increase(suture_requests_total{...}[1m]))`. */
export function requestIncreaseQuery(sel: CounterSelector, window: string): string {
  return `sum by (${versionLabel(sel)}) (increase(${REQUESTS_METRIC}{${matchers(sel)}}[${checkWindow(window)}]))`;
}

/** Errors per version over a window. */
export function errorIncreaseQuery(sel: CounterSelector, window: string): string {
  return `sum by (${versionLabel(sel)}) (increase(${ERRORS_METRIC}{${matchers(sel)}}[${checkWindow(window)}]))`;
}

/**
 * Error ratio of one version over a window; 0 (not NaN) when it served nothing, so an Argo successCondition
 * such as `result[0] <= 0.05` never trips on an idle canary.
 */
export function errorRatioQuery(sel: CounterSelector, version: string, window: string): string {
  const m = `${matchers(sel)},${versionLabel(sel)}=${promString(version)}`;
  const w = checkWindow(window);
  return (
    `(sum(increase(${ERRORS_METRIC}{${m}}[${w}])) or vector(0))` +
    ` / clamp_min(sum(increase(${REQUESTS_METRIC}{${m}}[${w}])) or vector(0), 1)`
  );
}

/** Picks the stable and canary totals out of two `sum by (version)` instant vectors. Absent = 0. */
export function versionTotals(
  requests: Sample[],
  errors: Sample[],
  versions: { stable: string; canary: string },
  label = 'version',
): VersionCounts {
  const pick = (samples: Sample[], v: string) =>
    samples.filter((s) => s.metric[label] === v).reduce((acc, s) => acc + (Number.isFinite(s.value) ? s.value : 0), 0);
  return {
    stable: { requests: pick(requests, versions.stable), errors: pick(errors, versions.stable) },
    canary: { requests: pick(requests, versions.canary), errors: pick(errors, versions.canary) },
  };
}

/**
 * Turns successive cumulative totals into per-bucket counts. A counter that went down was reset (a process
 * restart), so its new value is the increase; errors never exceed requests in a bucket.
 */
export function createCounterDiff(): { next(totals: VersionCounts): VersionCounts } {
  let prev: VersionCounts | null = null;
  const delta = (now: number, before: number | undefined) =>
    before === undefined ? 0 : Math.round(now >= before ? now - before : now);
  const side = (now: Counts, before: Counts | undefined): Counts => {
    const requests = delta(now.requests, before?.requests);
    return { requests, errors: Math.min(requests, delta(now.errors, before?.errors)) };
  };
  return {
    next(totals) {
      const out = { stable: side(totals.stable, prev?.stable), canary: side(totals.canary, prev?.canary) };
      prev = totals;
      return out;
    },
  };
}

export interface RangeBucket extends VersionCounts {
  /** Seconds since `origin`. */
  t: number;
}

/**
 * Per-bucket counts from range queries of the cumulative counters (requestTotalsQuery / errorTotalsQuery)
 * evaluated at `start, start+step, …`. The first point is the baseline; a series that has no point yet counts
 * as 0 (it appears with its first request), one that stopped (a stopped canary) keeps its last value.
 */
export function bucketsFromRange(
  requests: Series[],
  errors: Series[],
  versions: { stable: string; canary: string },
  opts: { start: number; end: number; step: number; origin?: number; label?: string },
): RangeBucket[] {
  const label = opts.label ?? 'version';
  const origin = opts.origin ?? opts.start;
  const lookup = (series: Series[], v: string) => {
    const points = new Map<number, number>();
    for (const s of series)
      if (s.metric[label] === v) for (const p of s.points) points.set(p.t, (points.get(p.t) ?? 0) + p.value);
    let last = 0;
    return (t: number) => {
      const v2 = points.get(t);
      if (v2 !== undefined) last = v2;
      return last;
    };
  };
  const get = {
    sr: lookup(requests, versions.stable),
    se: lookup(errors, versions.stable),
    cr: lookup(requests, versions.canary),
    ce: lookup(errors, versions.canary),
  };
  const diff = createCounterDiff();
  const out: RangeBucket[] = [];
  const n = Math.floor((opts.end - opts.start) / opts.step + 1e-9);
  for (let i = 0; i <= n; i++) {
    // Prometheus returns timestamps as start + i*step, rounded to milliseconds.
    const t = Math.round((opts.start + i * opts.step) * 1000) / 1000;
    const d = diff.next({
      stable: { requests: get.sr(t), errors: get.se(t) },
      canary: { requests: get.cr(t), errors: get.ce(t) },
    });
    if (i > 0) out.push({ t: Math.round(t - origin), ...d });
  }
  return out;
}
