/** The weighted router and the traffic generator, with real loopback upstreams. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/canary/local/ports.ts';
import { type Router, startRouter } from '../../src/canary/local/router.ts';
import { generateTraffic } from '../../src/canary/local/traffic.ts';

const metric = (text: string, name: string, version: string) =>
  Number(text.match(new RegExp(`^${name}\\{service="svc",version="${version}"\\} (\\d+)`, 'm'))?.[1] ?? Number.NaN);

describe('weighted router', () => {
  let stable: Server;
  let canary: Server;
  let router: Router;
  beforeAll(async () => {
    const mk = (status: number) =>
      new Promise<Server>((r) => {
        const s = createServer((req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () =>
            res.writeHead(status, { 'x-echo': `${req.method} ${req.url} ${Buffer.concat(chunks)}` }).end(),
          );
        });
        s.listen(0, '127.0.0.1', () => r(s));
      });
    stable = await mk(200);
    canary = await mk(503);
    const port = (s: Server) => (s.address() as AddressInfo).port;
    router = await startRouter({
      service: 'svc',
      stable: { version: 's1', port: port(stable) },
      canary: { version: 'c1', port: port(canary) },
      weight: 25,
    });
  });
  afterAll(async () => {
    await router.close();
    stable.close();
    canary.close();
  });

  it('splits exactly by weight, forwards method, path and body, and counts 5xx as errors', async () => {
    const versions: string[] = [];
    for (let i = 0; i < 40; i++) {
      const res = await fetch(`${router.url}/cart?i=${i}`, { method: 'POST', body: `b${i}` });
      versions.push(res.headers.get('x-suture-version')!);
      expect(res.headers.get('x-echo')).toBe(`POST /cart?i=${i} b${i}`);
    }
    expect(versions.filter((v) => v === 'c1')).toHaveLength(10);
    // Evenly spread, not bunched: every fourth request.
    expect(versions.slice(0, 8)).toEqual(['s1', 's1', 's1', 'c1', 's1', 's1', 's1', 'c1']);
    const text = await (await fetch(router.metricsUrl)).text();
    expect(metric(text, 'suture_requests_total', 's1')).toBe(30);
    expect(metric(text, 'suture_requests_total', 'c1')).toBe(10);
    expect(metric(text, 'suture_request_errors_total', 'c1')).toBe(10);
    expect(metric(text, 'suture_request_errors_total', 's1')).toBe(0);
  });

  it('weight 0 sends nothing to the canary; an unreachable backend is a 502 and an error', async () => {
    router.setWeight(0);
    for (let i = 0; i < 5; i++) expect((await fetch(router.url)).headers.get('x-suture-version')).toBe('s1');
    const dead = await freePort();
    router.setCanary({ version: 'c2', port: dead });
    router.setWeight(100);
    const res = await fetch(router.url);
    expect(res.status).toBe(502);
    expect(await res.text()).toMatch(/c2 unreachable/);
    const text = await (await fetch(router.metricsUrl)).text();
    expect(metric(text, 'suture_request_errors_total', 'c2')).toBe(1);
    expect(() => router.setWeight(101)).toThrow(RangeError);
    expect(() => router.setWeight(Number.NaN)).toThrow(RangeError);
    router.setCanary(null);
    router.setWeight(50);
    expect((await fetch(router.url)).headers.get('x-suture-version')).toBe('s1');
    expect((await fetch(`${router.metricsUrl.replace('/metrics', '/other')}`)).status).toBe(404);
  });
});

describe('traffic generator', () => {
  it('stops at its request bound and reports statuses', async () => {
    const s = createServer((_q, r) => r.writeHead(200).end());
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    try {
      const t = generateTraffic({
        url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/`,
        rps: 200,
        maxRequests: 50,
        maxSeconds: 10,
      });
      const stats = await t.done;
      expect(stats.sent).toBe(50);
      expect(stats.byStatus).toEqual({ 200: 50 });
      // 50 requests at 200 rps take about a quarter second, not the 10 s bound.
    } finally {
      s.close();
    }
  });

  it('stops at its time bound, and refuses non-loopback targets and nonsense rates', async () => {
    const t = generateTraffic({
      url: `http://127.0.0.1:${await freePort()}/`,
      rps: 20,
      maxRequests: 1000,
      maxSeconds: 0.3,
    });
    const stats = await t.done;
    expect(stats.sent).toBeLessThanOrEqual(8);
    expect(stats.failed).toBe(stats.sent);
    expect(() => generateTraffic({ url: 'http://10.0.0.1/', rps: 1, maxRequests: 1, maxSeconds: 1 })).toThrow(
      /loopback/,
    );
    expect(() => generateTraffic({ url: 'http://127.0.0.1/', rps: 0, maxRequests: 1, maxSeconds: 1 })).toThrow(
      RangeError,
    );
  });
});
