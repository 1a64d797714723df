/**
 * The rollout chart of the HTML report: stable vs canary error rate over the canary's life, as inline SVG
 * (no script, no external resource), with the judge's decision marked where it was taken. The rate drawn is
 * cumulative — errors over requests since the canary started — which is what the sequential judge weighs
 * (a per-bucket rate at 0.2 canary requests/s jumps between 0 and 100 %). Pure.
 */
import type { Bucket, JudgeDecision } from '../canary/judge/index.ts';
import { type Html, html, token } from './html-markup.ts';

/** What the chart draws: the buckets the canary judged and the decision that ended it. */
export interface RolloutData {
  buckets: Bucket[];
  decision?: JudgeDecision | null;
}

/**
 * The chart's data from a heal result's `canary`: `{decision, at, reason, series: [{t, stable: {requests,
 * errors}, canary: {requests, errors}}]}` (t in seconds since the canary started; counts per bucket, not
 * cumulative). Null without a `series` array; the result's type leaves `series` to the canary stage, so it
 * is read here without trusting its shape (usableBuckets drops what is not counts).
 */
export function rolloutOf(canary: unknown): RolloutData | null {
  if (canary === null || typeof canary !== 'object') return null;
  const c = canary as { series?: unknown; decision?: unknown; at?: unknown; reason?: unknown };
  if (!Array.isArray(c.series)) return null;
  const decided = typeof c.decision === 'string' && typeof c.at === 'number';
  return {
    buckets: c.series as Bucket[],
    decision: decided
      ? { decision: c.decision as JudgeDecision['decision'], at: c.at as number, reason: String(c.reason ?? '') }
      : null,
  };
}

export interface RatePoint {
  t: number;
  /** Cumulative error rate (0..1); null before the first request of that side. */
  stable: number | null;
  canary: number | null;
}

const W = 760;
const H = 300;
const M = { left: 56, right: 20, top: 34, bottom: 46 };
/** Points drawn per line at most; longer rollouts are thinned evenly (the last point always kept). */
const MAX_POINTS = 1500;

const finiteCount = (n: unknown) => typeof n === 'number' && Number.isFinite(n) && n >= 0;

/** Buckets a chart can use: finite, non-negative counts, errors ≤ requests, in time order. */
export function usableBuckets(buckets: readonly Bucket[]): Bucket[] {
  return buckets
    .filter(
      (b) =>
        b &&
        typeof b.t === 'number' &&
        Number.isFinite(b.t) &&
        [b.stable, b.canary].every(
          (c) => c && finiteCount(c.requests) && finiteCount(c.errors) && c.errors <= c.requests,
        ),
    )
    .sort((a, b) => a.t - b.t);
}

/** Cumulative error rates per bucket. */
export function errorRateSeries(buckets: readonly Bucket[]): RatePoint[] {
  const sum = { sr: 0, se: 0, cr: 0, ce: 0 };
  return usableBuckets(buckets).map((b) => {
    sum.sr += b.stable.requests;
    sum.se += b.stable.errors;
    sum.cr += b.canary.requests;
    sum.ce += b.canary.errors;
    return { t: b.t, stable: sum.sr ? sum.se / sum.sr : null, canary: sum.cr ? sum.ce / sum.cr : null };
  });
}

/** A round axis maximum at or above `v` (1, 2, 2.5, 5 × 10^k). */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v - 1e-12) return m * p;
  return 10 * p;
}

const fmt = (n: number) => String(Math.round(n * 10) / 10);
const pct = (r: number) => `${r < 0.1 ? (Math.round(r * 1000) / 10).toString() : Math.round(r * 100).toString()} %`;

function seconds(t: number): string {
  if (t < 120) return `${fmt(t)} s`;
  return t < 7200 ? `${fmt(t / 60)} min` : `${fmt(t / 3600)} h`;
}

function thin<T>(xs: T[]): T[] {
  if (xs.length <= MAX_POINTS) return xs;
  const step = xs.length / MAX_POINTS;
  const out: T[] = [];
  for (let i = 0; i < MAX_POINTS - 1; i++) out.push(xs[Math.floor(i * step)]!);
  out.push(xs[xs.length - 1]!);
  return out;
}

/** The chart as inline SVG, or null when no bucket is usable. */
export function rolloutChart(data: RolloutData): Html | null {
  const series = errorRateSeries(data.buckets);
  if (series.length === 0) return null;
  const decision = data.decision && Number.isFinite(data.decision.at) ? data.decision : null;
  const tMax = Math.max(series[series.length - 1]!.t, decision?.at ?? 0, 1);
  const rMax = Math.max(0, ...series.flatMap((p) => [p.stable ?? 0, p.canary ?? 0]));
  const yMax = Math.min(1, niceCeil(Math.max(rMax * 1.15, 0.01)));
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const x = (t: number) => M.left + (Math.max(0, t) / tMax) * pw;
  const y = (r: number) => M.top + ph - (Math.min(r, yMax) / yMax) * ph;

  const line = (side: 'stable' | 'canary') => {
    const pts = thin(series.filter((p) => p[side] !== null)).map((p) => `${fmt(x(p.t))},${fmt(y(p[side]!))}`);
    return pts.length ? html`<polyline class="line ${side}" points="${pts.join(' ')}"/>` : null;
  };
  const yTicks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * yMax);
  const xStep = niceCeil(tMax / 6);
  const xTicks: number[] = [];
  for (let t = 0; t <= tMax + 1e-9; t += xStep) xTicks.push(t);

  const totals = usableBuckets(data.buckets).reduce(
    (s, b) => ({
      sr: s.sr + b.stable.requests,
      se: s.se + b.stable.errors,
      cr: s.cr + b.canary.requests,
      ce: s.ce + b.canary.errors,
    }),
    { sr: 0, se: 0, cr: 0, ce: 0 },
  );
  const legend = (side: 'stable' | 'canary', errors: number, requests: number, i: number) =>
    html`<g class="legend-item" transform="translate(${fmt(M.left + 10 + i * 300)},14)"><rect class="swatch ${side}" width="14" height="4" y="-2"/><text x="20" y="4">${side}: ${errors} errors / ${requests} requests${requests ? ` (${pct(errors / requests)})` : ''}</text></g>`;

  let marker: Html | null = null;
  if (decision) {
    const mx = fmt(x(decision.at));
    const label = `${decision.decision} at ${seconds(decision.at)}`;
    // Keep the label inside the plot: right of the line, or left of it near the right edge.
    const anchor = x(decision.at) > W - M.right - 170 ? 'end' : 'start';
    const lx = anchor === 'end' ? fmt(x(decision.at) - 6) : fmt(x(decision.at) + 6);
    marker = html`<g id="decision" class="decision decision-${token(decision.decision)}"><title>${decision.reason}</title><line x1="${mx}" x2="${mx}" y1="${M.top}" y2="${M.top + ph}"/><circle cx="${mx}" cy="${M.top}" r="4"/><text x="${lx}" y="${M.top + 14}" text-anchor="${anchor}">${label}</text></g>`;
  }
  return html`<svg class="chart" role="img" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" xmlns="http://www.w3.org/2000/svg" aria-labelledby="chart-title chart-desc"><title id="chart-title">Error rate, stable vs canary</title><desc id="chart-desc">Cumulative error rate of the stable and canary versions over ${seconds(tMax)}${decision ? `; ${decision.decision} at ${seconds(decision.at)}` : ''}.</desc>
<g class="grid">${yTicks.map((v) => html`<line x1="${M.left}" x2="${W - M.right}" y1="${fmt(y(v))}" y2="${fmt(y(v))}"/>`)}</g>
<g class="axis y">${yTicks.map((v) => html`<text x="${M.left - 6}" y="${fmt(y(v) + 4)}" text-anchor="end">${pct(v)}</text>`)}</g>
<g class="axis x">${xTicks.map((t) => html`<text x="${fmt(x(t))}" y="${H - M.bottom + 16}" text-anchor="middle">${seconds(t)}</text>`)}<text x="${fmt(M.left + pw / 2)}" y="${H - 8}" text-anchor="middle" class="label">time since the canary started</text></g>
<text class="label" transform="translate(14,${fmt(M.top + ph / 2)}) rotate(-90)" text-anchor="middle">cumulative error rate</text>
<rect class="frame" x="${M.left}" y="${M.top}" width="${pw}" height="${ph}"/>
${line('stable')}${line('canary')}${marker}
<g class="legend">${legend('stable', totals.se, totals.sr, 0)}${legend('canary', totals.ce, totals.cr, 1)}</g>
</svg>`;
}
