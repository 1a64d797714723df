/**
 * Real Prometheus (Debian package, started on a free loopback port with a temp data dir) scraping the
 * router's real /metrics while in-process upstreams answer 200 or 500.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Router, startRouter } from '../../src/canary/local/router.ts';
import { createPrometheusClient, PrometheusError } from '../../src/canary/prometheus/client.ts';
import {
  bucketsFromRange,
  errorIncreaseQuery,
  errorRatioQuery,
  errorTotalsQuery,
  requestIncreaseQuery,
  requestTotalsQuery,
  versionTotals,
} from '../../src/canary/prometheus/queries.ts';
import { type PrometheusServer, startPrometheus } from '../../src/canary/prometheus/server.ts';

function upstream(failEvery: number): Promise<Server> {
  let n = 0;
  const srv = createServer((_req, res) => {
    n++;
    res.writeHead(failEvery > 0 && n % failEvery === 0 ? 500 : 200).end('x');
  });
  return new Promise((r) => srv.listen(0, '127.0.0.1', () => r(srv)));
}
const portOf = (s: Server) => (s.address() as AddressInfo).port;

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('Prometheus client against a real Prometheus scraping the router', () => {
  let stableUp: Server;
  let canaryUp: Server;
  let router: Router;
  let prom: PrometheusServer;
  let trafficStart = 0;
  let trafficEnd = 0;
  const sel = { service: 'cart-api' };
  const versions = { stable: 'v1', canary: 'v2' };

  beforeAll(async () => {
    stableUp = await upstream(0);
    canaryUp = await upstream(4); // every 4th canary request fails
    router = await startRouter({
      service: 'cart-api',
      stable: { version: 'v1', port: portOf(stableUp) },
      canary: { version: 'v2', port: portOf(canaryUp) },
      weight: 20,
    });
    prom = await startPrometheus({ targets: [router.metricsTarget], scrapeInterval: '500ms' });
    const client = createPrometheusClient(prom.url);
    // Baseline scrape first, so every request below shows up as an increase.
    await until(
      () => client.instant(requestTotalsQuery(sel)),
      (s) => s.length === 2,
    );
    trafficStart = Math.floor(Date.now() / 1000);
    for (let i = 0; i < 200; i++) await (await fetch(router.url)).arrayBuffer();
    trafficEnd = Math.ceil(Date.now() / 1000);
  });

  afterAll(async () => {
    await Promise.allSettled([prom?.stop(), router?.close()]);
    stableUp?.close();
    canaryUp?.close();
  });

  it('reads exact per-version totals with instant queries', async () => {
    const client = createPrometheusClient(prom.url);
    const totals = await until(
      async () =>
        versionTotals(
          await client.instant(requestTotalsQuery(sel)),
          await client.instant(errorTotalsQuery(sel)),
          versions,
        ),
      (t) => t.stable.requests + t.canary.requests === 200,
    );
    // 20% of 200 is 40 canary requests, every 4th of which failed.
    expect(totals).toEqual({ stable: { requests: 160, errors: 0 }, canary: { requests: 40, errors: 10 } });
  });

  it('evaluates the increase and error-ratio templates', async () => {
    const client = createPrometheusClient(prom.url);
    const inc = await client.instant(requestIncreaseQuery(sel, '5m'));
    expect(inc.map((s) => s.metric.version).sort()).toEqual(['v1', 'v2']);
    const canaryInc = inc.find((s) => s.metric.version === 'v2')!.value;
    const stableInc = inc.find((s) => s.metric.version === 'v1')!.value;
    // increase() extrapolates over a short series, so only the proportions are exact: 160 vs 40.
    expect(canaryInc).toBeGreaterThanOrEqual(40);
    expect(stableInc / canaryInc).toBeCloseTo(4, 1);
    const errInc = await client.instant(errorIncreaseQuery(sel, '5m'));
    expect(errInc.find((s) => s.metric.version === 'v1')!.value).toBe(0);
    const [ratio] = await client.instant(errorRatioQuery(sel, 'v2', '5m'));
    expect(ratio!.value).toBeCloseTo(0.25, 1);
    // An unknown version has no traffic: the ratio is 0, not NaN, so Argo conditions stay simple.
    const [idle] = await client.instant(errorRatioQuery(sel, 'v9', '5m'));
    expect(idle!.value).toBe(0);
  });

  it('turns range queries of the counters into per-bucket counts that add up', async () => {
    const client = createPrometheusClient(prom.url);
    const start = trafficStart - 2;
    const end = trafficEnd + 2;
    await until(
      () => client.instant(requestTotalsQuery(sel), end),
      (s) => s.reduce((a, x) => a + x.value, 0) === 200,
    );
    const [req, err] = await Promise.all([
      client.range(requestTotalsQuery(sel), start, end, 1),
      client.range(errorTotalsQuery(sel), start, end, 1),
    ]);
    expect(req.length).toBe(2);
    const buckets = bucketsFromRange(req, err, versions, { start, end, step: 1 });
    expect(buckets.length).toBe(end - start);
    expect(buckets[0]!.t).toBe(1);
    const sum = (f: (b: (typeof buckets)[number]) => number) => buckets.reduce((a, b) => a + f(b), 0);
    expect(sum((b) => b.canary.requests)).toBe(40);
    expect(sum((b) => b.canary.errors)).toBe(10);
    expect(sum((b) => b.stable.requests)).toBe(160);
    expect(sum((b) => b.stable.errors)).toBe(0);
  });

  it('surfaces a malformed query as a bad_query error with Prometheus’ message', async () => {
    const client = createPrometheusClient(prom.url);
    const err = await client.instant('sum by (version (').catch((e) => e);
    expect(err).toBeInstanceOf(PrometheusError);
    expect(err.kind).toBe('bad_query');
    expect(err.errorType).toBe('bad_data');
    expect(err.exitCode).toBe(2);
    expect(err.message).toMatch(/parse error/);
    await expect(client.range('up', 10, 5, 1)).rejects.toMatchObject({ kind: 'bad_query' });
    await expect(client.range('up', 0, 5, 0)).rejects.toMatchObject({ kind: 'bad_query' });
  });

  it('surfaces unreachable, slow and non-Prometheus servers as typed errors', async () => {
    const dead = await upstream(0);
    const deadPort = portOf(dead);
    await new Promise((r) => dead.close(r));
    const unreachable = await createPrometheusClient(`http://127.0.0.1:${deadPort}`)
      .instant('up')
      .catch((e) => e);
    expect(unreachable).toMatchObject({ name: 'PrometheusError', kind: 'unreachable', exitCode: 1 });

    // The router's metrics port is an HTTP server that is not Prometheus: 404 with an empty body.
    const notProm = await createPrometheusClient(router.metricsUrl.replace('/metrics', ''))
      .instant('up')
      .catch((e) => e);
    expect(notProm).toMatchObject({ kind: 'server', status: 404 });

    const slow = createServer(() => {});
    await new Promise<void>((r) => slow.listen(0, '127.0.0.1', () => r()));
    try {
      const timeout = await createPrometheusClient(`http://127.0.0.1:${portOf(slow)}`, { timeoutMs: 300 })
        .instant('up')
        .catch((e) => e);
      expect(timeout).toMatchObject({ kind: 'timeout' });
    } finally {
      slow.closeAllConnections();
      slow.close();
    }
    expect(() => createPrometheusClient('ftp://x')).toThrow(PrometheusError);
    expect(() => createPrometheusClient('not a url')).toThrow(/not a Prometheus URL/);
  });
});
