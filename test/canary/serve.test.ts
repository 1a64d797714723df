/**
 * suture serve over real HTTP: /healthz, /metrics, and POST /judge in both modes — buckets given inline, and
 * counters read from a real Prometheus scraping the router — plus the malformed requests Argo or a user may send.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Router, startRouter } from '../../src/canary/local/router.ts';
import { createPrometheusClient } from '../../src/canary/prometheus/client.ts';
import { requestTotalsQuery } from '../../src/canary/prometheus/queries.ts';
import { type PrometheusServer, startPrometheus } from '../../src/canary/prometheus/server.ts';
import { judgeRoute } from '../../src/serve/judge.ts';
import { type SutureServer, startSutureServer } from '../../src/serve/server.ts';

const post = async (url: string, body: unknown, raw = false) => {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: raw ? (body as string) : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
};

const bucket = (t: number, sr: number, se: number, cr: number, ce: number) => ({
  t,
  stable: { requests: sr, errors: se },
  canary: { requests: cr, errors: ce },
});

describe('suture serve: core routes and POST /judge with inline buckets', () => {
  let server: SutureServer;
  beforeAll(async () => {
    server = await startSutureServer({ port: 0, routes: [judgeRoute()] });
  });
  afterAll(() => server.close());

  it('answers /healthz and exposes request and decision metrics on /metrics', async () => {
    const h = await fetch(`${server.url}/healthz`);
    expect(h.status).toBe(200);
    expect(await h.json()).toEqual({ ok: true });
    await post(`${server.url}/judge`, { buckets: [bucket(10, 100, 1, 100, 60)] });
    const m = await (await fetch(`${server.url}/metrics`)).text();
    expect(m).toMatch(/suture_http_requests_total\{method="GET",route="\/healthz",status="200"\} 1/);
    expect(m).toMatch(/suture_judge_decisions_total\{decision="abort"\} 1/);
    expect(m).toMatch(/suture_process_cpu_user_seconds_total/);
  });

  it('aborts a gross regression and keeps a healthy canary going, in Argo-readable fields', async () => {
    const bad = await post(`${server.url}/judge`, {
      buckets: [bucket(10, 200, 1, 50, 20), bucket(20, 200, 0, 50, 25)],
    });
    expect(bad.status).toBe(200);
    expect(bad.json).toMatchObject({ decision: 'abort', abort: true, promote: false, buckets: 2 });
    expect(typeof bad.json.reason).toBe('string');

    const good = await post(`${server.url}/judge`, { buckets: [bucket(10, 200, 1, 50, 0)] });
    expect(good.json).toMatchObject({ decision: 'continue', abort: false, promote: false, at: 10 });

    // Enough clean canary traffic, past the judge's minimums, promotes.
    const many = Array.from({ length: 30 }, (_, i) => bucket((i + 1) * 10, 400, 2, 400, 0));
    const promoted = await post(`${server.url}/judge`, { buckets: many, judge: { toleranceAbsolute: 0.01 } });
    expect(promoted.json).toMatchObject({ decision: 'promote', promote: true, abort: false });
  });

  it('rejects malformed requests with 400 and one-line errors', async () => {
    const notJson = await post(`${server.url}/judge`, '{"buckets": [', true);
    expect(notJson).toMatchObject({ status: 400, json: { error: 'body is not valid JSON' } });
    const badBucket = await post(`${server.url}/judge`, { buckets: [bucket(10, 5, 6, 1, 0)] });
    expect(badBucket.status).toBe(400);
    expect(badBucket.json.error).toMatch(/buckets\[0\]: stable.errors \(6\) exceeds stable.requests \(5\)/);
    const backwards = await post(`${server.url}/judge`, { buckets: [bucket(10, 5, 0, 1, 0), bucket(5, 5, 0, 1, 0)] });
    expect(backwards.json.error).toMatch(/buckets\[1\]: t must increase/);
    const empty = await post(`${server.url}/judge`, { buckets: [] });
    expect(empty.status).toBe(400);
    const unknownOption = await post(`${server.url}/judge`, {
      buckets: [bucket(1, 1, 0, 1, 0)],
      judge: { alhpa: 0.1 },
    });
    expect(unknownOption.status).toBe(400);
    const badOption = await post(`${server.url}/judge`, { buckets: [bucket(1, 1, 0, 1, 0)], judge: { alpha: -1 } });
    expect(badOption.status).toBe(400);
    // Prometheus mode without a configured Prometheus is refused rather than querying a caller's URL.
    const noProm = await post(`${server.url}/judge`, {
      service: 's',
      stable: 'a',
      canary: 'b',
      prometheus: 'http://127.0.0.1:1',
    });
    expect(noProm.status).toBe(400);
    expect(noProm.json.error).toMatch(/no Prometheus configured/);
  });

  it('answers 404 for unknown paths and 405 for a wrong method', async () => {
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/judge`)).status).toBe(405);
  });

  it('lets a feature register more routes and refuses duplicates', async () => {
    const s = await startSutureServer({
      port: 0,
      routes: [(srv) => srv.route('POST', '/alerts', (req) => ({ status: 202, json: { got: req.json() } }))],
    });
    try {
      const r = await post(`${s.url}/alerts`, { alerts: [] });
      expect(r).toEqual({ status: 202, json: { got: { alerts: [] } } });
      expect(() => s.route('GET', '/healthz', () => ({ status: 200 }))).toThrow(/registered twice/);
    } finally {
      await s.close();
    }
  });

  it('caps request bodies', async () => {
    const s = await startSutureServer({ port: 0, maxBodyBytes: 100, routes: [judgeRoute()] });
    try {
      const r = await post(`${s.url}/judge`, {
        buckets: Array.from({ length: 50 }, (_, i) => bucket(i + 1, 1, 0, 1, 0)),
      });
      expect(r.status).toBe(413);
    } finally {
      await s.close();
    }
  });
});

describe('POST /judge in Prometheus mode, against a real Prometheus scraping the router', () => {
  let upstreams: Server[];
  let router: Router;
  let prom: PrometheusServer;
  let server: SutureServer;
  let clock = 0;

  beforeAll(async () => {
    const mk = (failEvery: number) =>
      new Promise<Server>((resolve) => {
        let n = 0;
        const s = createServer((_q, r) => {
          n++;
          r.writeHead(failEvery && n % failEvery === 0 ? 503 : 200).end();
        });
        s.listen(0, '127.0.0.1', () => resolve(s));
      });
    upstreams = [await mk(0), await mk(2)];
    const port = (s: Server) => (s.address() as AddressInfo).port;
    router = await startRouter({
      service: 'cart-api',
      stable: { version: 'aaa111', port: port(upstreams[0]!) },
      canary: { version: 'bbb222', port: port(upstreams[1]!) },
      weight: 50,
    });
    prom = await startPrometheus({ targets: [router.metricsTarget], scrapeInterval: '500ms' });
    server = await startSutureServer({ port: 0, routes: [judgeRoute({ prometheus: [prom.url], now: () => clock })] });
    const client = createPrometheusClient(prom.url);
    for (let i = 0; i < 100; i++) {
      const s = await client.instant(requestTotalsQuery({ service: 'cart-api' }));
      if (s.length === 2) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  afterAll(async () => {
    await Promise.allSettled([server?.close(), prom?.stop(), router?.close()]);
    for (const u of upstreams ?? []) u.close();
  });

  it('first call starts the clock; later calls judge the counters since then', async () => {
    const body = { service: 'cart-api', stable: 'aaa111', canary: 'bbb222', bucketSeconds: 1 };
    clock = Math.floor(Date.now() / 1000);
    const first = await post(`${server.url}/judge`, body);
    expect(first.json).toMatchObject({ decision: 'continue', buckets: 0, since: clock });

    // 50% of 300 requests to a canary failing every other one, against a clean stable.
    for (let i = 0; i < 300; i++) await (await fetch(router.url)).arrayBuffer();
    await new Promise((r) => setTimeout(r, 1500));
    clock = Math.floor(Date.now() / 1000);
    const second = await post(`${server.url}/judge`, body);
    expect(second.status).toBe(200);
    expect(second.json).toMatchObject({ decision: 'abort', abort: true, since: first.json.since });
    // The counts are the evidence up to the deciding bucket: half the canary's requests failed, none of stable's.
    const canary = second.json.canary as { requests: number; errors: number };
    const stable = second.json.stable as { requests: number; errors: number };
    expect(canary.requests).toBeGreaterThan(0);
    expect(canary.requests).toBeLessThanOrEqual(150);
    expect(Math.abs(canary.errors * 2 - canary.requests)).toBeLessThanOrEqual(1);
    expect(stable.errors).toBe(0);
    expect(Math.abs(stable.requests - canary.requests)).toBeLessThanOrEqual(1);
    expect(second.json.at as number).toBeGreaterThanOrEqual(1);
  });

  it('refuses a Prometheus the server was not started with, and surfaces Prometheus failures as 502', async () => {
    const other = await post(`${server.url}/judge`, {
      service: 'x',
      stable: 'a',
      canary: 'b',
      prometheus: 'http://127.0.0.1:9',
    });
    expect(other.status).toBe(400);
    expect(other.json.error).toMatch(/not one this server may query/);
    const same = await post(`${server.url}/judge`, { service: 'x', stable: 'a', canary: 'a' });
    expect(same.status).toBe(400);
    const badSince = await post(`${server.url}/judge`, { service: 'x', stable: 'a', canary: 'b', since: 'yesterday' });
    expect(badSince.json.error).toMatch(/since: not a time/);

    const down = await startSutureServer({ port: 0, routes: [judgeRoute({ prometheus: ['http://127.0.0.1:9'] })] });
    try {
      const r = await post(`${down.url}/judge`, {
        service: 'x',
        stable: 'a',
        canary: 'b',
        since: Math.floor(Date.now() / 1000) - 600,
        bucketSeconds: 60,
      });
      expect(r.status).toBe(502);
      expect(r.json.error).toMatch(/cannot reach Prometheus/);
      // A window Prometheus would refuse (over 10,000 points) is the caller's to fix, not silently truncated.
      const long = await post(`${down.url}/judge`, {
        service: 'x',
        stable: 'a',
        canary: 'b',
        since: 0,
        bucketSeconds: 60,
      });
      expect(long.status).toBe(400);
      expect(long.json.error).toMatch(/use a larger bucketSeconds/);
    } finally {
      await down.close();
    }
  });
});
