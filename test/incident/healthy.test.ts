/**
 * Healthy traffic for differential replay without anyone writing it (issue 9, item 2): 2xx requests from
 * the common structured-log shapes and access logs, capture files (HAR, JSON lines, access log), and the
 * selection every source goes through (2xx only, sanitised and bounded like any request on intake, never
 * a failing request, one per route, capped).
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SutureError } from '../../src/errors.ts';
import {
  describeHealthy,
  healthyOptions,
  parseCapture,
  readCapture,
  routeKey,
  selectHealthy,
} from '../../src/incident/healthy/index.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { LIMITS } from '../../src/incident/schema.ts';
import { extractHealthyRequests, extractRequests } from '../../src/incident/stacktrace/index.ts';
import type { RequestSample } from '../../src/incident/types.ts';
import { tempDir } from '../helpers/repo.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/healthy');
const fixture = (name: string) => readFileSync(join(FIXTURES, name), 'utf8');
const brief = (r: RequestSample) => `${r.method} ${r.path} ${r.status ?? '-'}`;

describe('extractHealthyRequests: 2xx requests from the log shapes services and proxies write', () => {
  it('pino-http: req {method, url, headers} with res.statusCode; absolute URLs reduced, 4xx/5xx left out', () => {
    const found = extractHealthyRequests(fixture('pino-http.log'));
    expect(found.map(brief)).toEqual([
      'GET /orders/17?expand=items 200',
      'GET /orders/18?expand=items 200',
      'POST /orders 201',
    ]);
    expect(found[0]!.headers?.['accept']).toBe('application/json');
  });

  it('bunyan: res.statusCode, and a raw response head as `res`', () => {
    expect(extractHealthyRequests(fixture('bunyan.log')).map(brief)).toEqual([
      'GET /products?page=2&size=20 200',
      'GET /products/3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b 204',
    ]);
  });

  it('structlog / python-json-logger: top-level method, path, status or status_code, body objects serialised', () => {
    const found = extractHealthyRequests(fixture('structlog.log'));
    expect(found.map(brief)).toEqual(['POST /quote 200', 'GET /rates/eu 200']);
    expect(JSON.parse(found[0]!.body!)).toEqual({ items: [{ price: 10, qty: 3 }], discounts: [{ percent: 10 }] });
  });

  it('nginx JSON access logs: the `request` line or request_method/request_uri, string statuses, request_body', () => {
    const found = extractHealthyRequests(fixture('nginx-json.log'));
    expect(found.map(brief)).toEqual(['GET /static/app.js?v=3 200', 'PUT /cart/42/items/7 204']);
    expect(found[1]!.body).toBe('{"qty": 2}');
  });

  it('envoy JSON access logs: method, path, response_code', () => {
    expect(extractHealthyRequests(fixture('envoy.log')).map(brief)).toEqual([
      'GET /v1/items/abc123def4567890?fields=name,price 200',
    ]);
  });

  it('ECS nested http/url objects, OpenTelemetry dotted keys, GCP httpRequest, Docker-wrapped JSON lines', () => {
    expect(extractHealthyRequests(fixture('otel-ecs-gcp.log')).map(brief)).toEqual([
      'GET /search?q=shoes&page=1 200',
      'GET /cart/42?currency=EUR 200',
      'POST /cart/42/checkout 200',
      'GET /wrapped 200',
    ]);
  });

  it('combined/common access-log text lines, also behind a container runtime prefix', () => {
    expect(extractHealthyRequests(fixture('access.log')).map(brief)).toEqual([
      'GET /orders/17 200',
      'POST /orders 201',
      'GET /orders/18 200',
    ]);
  });

  it('needs an HTTP method and a path at the top level: a config path or a job `method` is not a request', () => {
    const lines = [
      { event: 'config reloaded', path: '/etc/app.yaml', status: 200 },
      { event: 'job', method: 'batch', path: '/jobs/nightly', status: 200 },
      { method: 'GET', path: 'relative/path', status: 200 },
      { method: 'GET', path: '/no-status' },
      { method: 'GET', path: '/bad-status', status: 'ok' },
    ].map((o) => JSON.stringify(o));
    expect(extractHealthyRequests(lines.join('\n'))).toEqual([]);
  });

  it('the same general shapes also recover failing requests (5xx), as before only from JSON lines', () => {
    expect(extractRequests(fixture('nginx-json.log')).map(brief)).toEqual(['POST /checkout 502']);
    expect(extractRequests(fixture('envoy.log')).map(brief)).toEqual(['DELETE /v1/items/abc123def4567890 503']);
    expect(extractRequests(fixture('pino-http.log')).map(brief)).toEqual(['POST /orders 500']);
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json().map((j) => `${j}\n${j}`),
        ),
        (text) => {
          expect(Array.isArray(extractHealthyRequests(text))).toBe(true);
          expect(Array.isArray(extractRequests(text))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
    // A body nested deeper than JSON.stringify can recurse: the record is skipped, nothing throws.
    const deep = `{"method":"POST","path":"/x","status":200,"body":${'['.repeat(1e6)}${']'.repeat(1e6)}}`;
    expect(extractHealthyRequests(deep)).toEqual([]);
    expect(extractRequests(deep.replace('200', '500'))).toEqual([]);
    expect(parseCapture(deep).ok).toBe(false);
    expect(
      extractHealthyRequests(JSON.stringify({ req: { method: 'GET', url: '/x' }, res: { statusCode: {} } })),
    ).toEqual([]);
  });
});

describe('routeKey', () => {
  it.each([
    ['GET', '/orders/17', 'GET /orders/:id'],
    ['get', '/orders/42?expand=1', 'GET /orders/:id?expand='],
    ['GET', '/orders/42?b=2&a=1&a=3', 'GET /orders/:id?a=&b='],
    ['GET', '/products/3f2a9c1e-5b7d-4e8f-9a0b-1c2d3e4f5a6b', 'GET /products/:id'],
    ['GET', '/blobs/507f1f77bcf86cd799439011/raw', 'GET /blobs/:id/raw'],
    ['GET', '/commits/9f88d9b', 'GET /commits/:id'],
    ['GET', '/prices/12.50', 'GET /prices/:id'],
    // words made of hex letters and short version segments are part of the route
    ['GET', '/cafe/added', 'GET /cafe/added'],
    ['GET', '/v1/items', 'GET /v1/items'],
    ['POST', '/quote', 'POST /quote'],
  ])('%s %s → %s', (method, path, key) => {
    expect(routeKey(method, path)).toBe(key);
  });
});

describe('parseCapture', () => {
  it('HAR 1.2: request method/url/headers/postData (text, base64, form params), response.status', () => {
    const r = parseCapture(fixture('capture.har'));
    if (!r.ok) throw new Error(r.problem);
    expect(r.format).toBe('har');
    expect(r.samples.map(brief)).toEqual([
      'POST /quote 200',
      'GET /healthz 200',
      'POST /login 302',
      'GET /blocked -', // status 0: the browser got no answer
      'PUT /rates/eu?dry_run=1 204',
    ]);
    expect(r.samples[0]!.body).toContain('"percent": 20');
    expect(r.samples[2]!.body).toBe('user=bob&password=hunter2');
    expect(r.samples[4]!.body).toBe('{"rate": 0.2}');
    expect(r.skipped).toEqual({ 'no-request': 1 });
  });

  it('JSON lines (path or url, string statuses) mixed with access-log lines; bad lines are counted, not fatal', () => {
    const r = parseCapture(fixture('capture.jsonl'));
    if (!r.ok) throw new Error(r.problem);
    expect(r.samples.map(brief)).toEqual([
      'POST /quote 200',
      'GET /healthz 200',
      'GET /rates/eu 200',
      'GET /rates/us -',
      'GET /rates/jp 200',
    ]);
    expect(r.skipped).toEqual({ 'no-request': 1, unparseable: 1 });
  });

  it('a combined access log, a JSON array of records, and a single record', () => {
    const log = parseCapture(fixture('access.log'));
    expect(log.ok && log.samples.map(brief)).toEqual([
      'GET /orders/17 200',
      'POST /orders 201',
      'GET /orders/18 200',
      'GET /missing 404',
    ]);
    expect(log.ok && log.skipped).toEqual({ unrecognised: 2 });
    const array = parseCapture(JSON.stringify([{ method: 'GET', path: '/a', status: 200 }, 7]));
    expect(array.ok && [array.format, array.samples.map(brief), array.skipped]).toEqual([
      'json',
      ['GET /a 200'],
      { 'no-request': 1 },
    ]);
    const one = parseCapture('{"method":"GET","path":"/one","status":200}');
    expect(one.ok && one.samples.map(brief)).toEqual(['GET /one 200']);
    expect(parseCapture('\n\n')).toEqual({ ok: true, format: 'lines', samples: [], skipped: {} });
  });

  it('a file with no request in a known format, or a HAR without entries, is one clear problem', () => {
    expect(parseCapture('id,method,path\n1,GET,/a\n')).toEqual({
      ok: false,
      problem: expect.stringMatching(/holds no request in a format suture reads \(HAR 1.2, JSON lines/),
    });
    expect(parseCapture('{"log": {"version": "1.2"}}')).toEqual({
      ok: false,
      problem: 'looks like HAR but has no log.entries list',
    });
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.anything().map((v) => JSON.stringify({ log: { entries: [v, { request: v, response: v }] } }) ?? ''),
        ),
        (text) => {
          expect(typeof parseCapture(text).ok).toBe('boolean');
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('selectHealthy', () => {
  const get = (path: string, status?: number, extra: Partial<RequestSample> = {}): RequestSample => ({
    method: 'GET',
    path,
    ...(status !== undefined ? { status } : {}),
    ...extra,
  });

  it('keeps only 2xx (a report sample without status counts as healthy), one per route, in source order', () => {
    const r = selectHealthy(
      [
        { source: 'report', samples: [get('/a'), get('/b', 500)] },
        {
          source: 'logs',
          samples: [get('/orders/1', 200), get('/orders/2', 200), get('/c', 404), get('/d'), get('/a', 200)],
        },
        { source: 'capture', samples: [get('/e', 204)], skipped: { unrecognised: 3 } },
      ],
      [],
      20,
    );
    expect(r.samples.map((s) => s.path)).toEqual(['/a', '/orders/1', '/e']);
    expect(r.sources).toEqual({
      kept: { report: 1, logs: 1, capture: 1 },
      skipped: { 'not-2xx': 2, 'no-status': 1, 'same-route': 2, unrecognised: 3 },
    });
  });

  it('never keeps a request equal to a failing one; the same route with another body is a healthy sample', () => {
    const body = '{"items": [], "discounts": []}';
    const failing = [{ method: 'POST', path: '/quote', body, status: 500 }];
    const r = selectHealthy(
      [
        {
          source: 'logs',
          samples: [
            { method: 'POST', path: '/quote', body, status: 200 },
            { method: 'POST', path: '/quote', body: '{"items": [], "discounts": [{"percent": 5}]}', status: 200 },
          ],
        },
      ],
      failing,
      20,
    );
    expect(r.samples.map((s) => s.body)).toEqual(['{"items": [], "discounts": [{"percent": 5}]}']);
    expect(r.sources.skipped).toEqual({ 'equals-failing': 1 });
  });

  it('per route prefers a sample with a body for methods that carry one', () => {
    const r = selectHealthy(
      [
        { source: 'logs', samples: [{ method: 'POST', path: '/orders', status: 201 }] },
        { source: 'capture', samples: [{ method: 'POST', path: '/orders', body: '{"sku":"A"}', status: 201 }] },
      ],
      [],
      20,
    );
    expect(r.samples).toEqual([{ method: 'POST', path: '/orders', body: '{"sku":"A"}', status: 201 }]);
    expect(r.sources.kept).toEqual({ report: 0, logs: 0, capture: 1 });
  });

  it('healthy samples on a route a failing request took come first, so the cap never drops them', () => {
    const failing = [{ method: 'POST', path: '/orders/7/pay', body: '{"card": null}', status: 500 }];
    const others = Array.from({ length: 5 }, (_, i) => get(`/other-${i}`, 200));
    const r = selectHealthy(
      [
        { source: 'capture', samples: others },
        { source: 'logs', samples: [{ method: 'POST', path: '/orders/9/pay', body: '{"card": "visa"}', status: 200 }] },
      ],
      failing,
      3,
    );
    expect(r.samples.map((s) => s.path)).toEqual(['/orders/9/pay', '/other-0', '/other-1']);
    expect(r.sources).toEqual({ kept: { report: 0, logs: 1, capture: 2 }, skipped: { 'over-cap': 3 } });
  });

  it('caps the samples (0 keeps none) and counts what it left out', () => {
    const many = Array.from({ length: 30 }, (_, i) => get(`/route-${i}`, 200));
    const capped = selectHealthy([{ source: 'logs', samples: many }], [], 20);
    expect(capped.samples).toHaveLength(20);
    expect(capped.sources.skipped).toEqual({ 'over-cap': 10 });
    expect(selectHealthy([{ source: 'logs', samples: many }], [], 0).samples).toEqual([]);
  });

  it('sanitises every sample like intake does and drops one beyond the request limits', () => {
    const r = selectHealthy(
      [
        {
          source: 'capture',
          samples: [
            {
              method: 'post',
              path: '/pay?access_token=tok-s3cr3t-9',
              headers: { ':authority': 'x', Authorization: 'Bearer abc.def.ghi', 'content-type': 'application/json' },
              body: '{"card": "4111111111111111", "amount": 5}',
              status: 200,
            },
            get(`/${'a'.repeat(LIMITS.path + 1)}`, 200),
            { method: 'GET', path: '/big', body: 'x'.repeat(LIMITS.body + 1), status: 200 },
          ],
        },
      ],
      [],
      20,
    );
    expect(r.samples).toEqual([
      {
        method: 'POST',
        path: '/pay?access_token=[REDACTED:secret]',
        headers: { 'content-type': 'application/json' },
        body: '{"card":"[REDACTED:secret]","amount":5}',
        status: 200,
      },
    ]);
    expect(r.sources.skipped).toEqual({ 'beyond-limits': 2 });
  });

  it('whatever the input: at most max, all 2xx, one per route, none equal to a failing one, all within limits', () => {
    const sample = fc.record(
      {
        method: fc.constantFrom('GET', 'POST', 'put', 'DELETE'),
        path: fc.oneof(
          fc.constantFrom('/a', '/a/1', '/a/2', '/b?x=1', '/b?x=2', '/c/deadbeef1'),
          fc.string().map((s) => `/${s}`),
        ),
        body: fc.oneof(fc.constant(undefined), fc.constantFrom('{}', '{"a":1}'), fc.string()),
        status: fc.oneof(fc.constant(undefined), fc.constantFrom(200, 201, 204, 301, 404, 500), fc.integer()),
      },
      { requiredKeys: ['method', 'path'] },
    );
    const source = fc.constantFrom('report' as const, 'logs' as const, 'capture' as const);
    fc.assert(
      fc.property(
        fc.array(fc.record({ source, samples: fc.array(sample, { maxLength: 15 }) }), { maxLength: 4 }),
        fc.array(sample, { maxLength: 3 }),
        fc.integer({ min: 0, max: 8 }),
        (pools, failingRaw, max) => {
          const clean = (r: (typeof failingRaw)[number]) => JSON.parse(JSON.stringify(r)) as RequestSample;
          const failing = failingRaw.map(clean);
          const { samples, sources } = selectHealthy(
            pools.map((p) => ({ source: p.source, samples: p.samples.map(clean) })),
            failing,
            max,
          );
          expect(samples.length).toBeLessThanOrEqual(max);
          expect(sources.kept.report + sources.kept.logs + sources.kept.capture).toBe(samples.length);
          const routes = samples.map((s) => routeKey(s.method, s.path));
          expect(new Set(routes).size).toBe(routes.length);
          for (const s of samples) {
            if (s.status !== undefined) expect(s.status >= 200 && s.status < 300).toBe(true);
            expect(
              failing.some(
                (f) => f.method.toUpperCase() === s.method && f.path === s.path && (f.body ?? '') === (s.body ?? ''),
              ),
            ).toBe(false);
            expect(s.method).toBe(s.method.toUpperCase());
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('describes where the samples came from in one line', () => {
    expect(
      describeHealthy({ kept: { report: 0, logs: 3, capture: 2 }, skipped: { 'same-route': 40, 'not-2xx': 2 } }, 5),
    ).toBe('healthy samples: 3 from the logs, 2 from the capture file (not used: 2 not-2xx, 40 same-route)');
    expect(describeHealthy({ kept: { report: 0, logs: 0, capture: 0 }, skipped: {} }, 0)).toBe(
      'no healthy samples: differential replay has nothing to compare',
    );
  });
});

describe('intake gathers healthy samples', () => {
  const TRACE =
    'Traceback (most recent call last):\n  File "/srv/pricing-api/pricing.py", line 6, in average_discount\n    return total / len(discounts)\nZeroDivisionError: division by zero\n';
  const failingLine = JSON.stringify({
    level: 'error',
    request: {
      method: 'POST',
      path: '/quote',
      headers: { 'content-type': 'application/json' },
      body: '{"discounts": []}',
    },
    status: 500,
    traceback: TRACE,
  });
  const alert = (logs: string) => ({
    version: '4',
    status: 'firing',
    alerts: [{ status: 'firing', labels: { service: 'pricing-api', alertname: 'Crash' }, annotations: { logs } }],
  });

  it('an Alertmanager incident (no healthyRequests field) gets the 2xx requests its logs carry', () => {
    const logs = [
      failingLine,
      // the failing request also answered 200 once: still never a healthy sample
      JSON.stringify({
        level: 'info',
        request: { method: 'POST', path: '/quote', body: '{"discounts": []}' },
        status: 200,
      }),
      JSON.stringify({
        event: 'request',
        method: 'POST',
        path: '/quote',
        body: '{"discounts": [{"percent": 10}]}',
        status: 200,
      }),
      JSON.stringify({ level: 30, req: { method: 'GET', url: '/healthz' }, res: { statusCode: 200 } }),
      JSON.stringify({ level: 30, req: { method: 'GET', url: '/healthz' }, res: { statusCode: 200 } }),
    ].join('\n');
    const inc = buildIncident(alert(logs), ['pricing.py']);
    expect(inc.signal).toBe('alert');
    expect(inc.requests.map(brief)).toEqual(['POST /quote 500']);
    expect(inc.healthyRequests.map((r) => [r.method, r.path, r.body])).toEqual([
      ['POST', '/quote', '{"discounts": [{"percent": 10}]}'],
      ['GET', '/healthz', undefined],
    ]);
    expect(inc.healthySources).toEqual({
      kept: { report: 0, logs: 2, capture: 0 },
      skipped: { 'equals-failing': 1, 'same-route': 1 },
    });
  });

  it('the crash report samples first, then the capture, then the logs; the cap comes from suture.yaml', () => {
    const report = {
      kind: 'crash',
      service: 'pricing-api',
      logs: `${failingLine}\n${JSON.stringify({ method: 'GET', path: '/rates/eu', status: 200 })}`,
      healthyRequests: [{ method: 'GET', path: '/healthz', status: 200 }],
    };
    const capture = {
      source: 'capture' as const,
      samples: [
        { method: 'GET', path: '/healthz', status: 200 },
        { method: 'GET', path: '/rates/us', status: 200 },
      ],
    };
    const all = buildIncident(report, ['pricing.py'], { maxHealthy: 20, capture });
    expect(all.healthyRequests.map((r) => r.path)).toEqual(['/healthz', '/rates/us', '/rates/eu']);
    expect(all.healthySources?.kept).toEqual({ report: 1, logs: 1, capture: 1 });
    expect(all.healthySources?.skipped).toEqual({ 'same-route': 1 });
    const two = buildIncident(report, ['pricing.py'], { maxHealthy: 1 });
    expect(two.healthyRequests.map((r) => r.path)).toEqual(['/healthz']);
    // without options: the default cap, and no capture
    expect(buildIncident(report, ['pricing.py']).healthyRequests).toHaveLength(2);
  });
});

describe('the capture file is repo content: read confined and size-capped', () => {
  const repoWith = (files: Record<string, string | Buffer>) => {
    const d = tempDir('suture-capture-');
    for (const [name, data] of Object.entries(files)) {
      mkdirSync(join(d, name, '..'), { recursive: true });
      writeFileSync(join(d, name), data);
    }
    return d;
  };
  const configError = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(SutureError);
      expect((err as SutureError).exitCode).toBe(2);
      expect((err as Error).message).not.toContain('\n');
      return (err as Error).message;
    }
    throw new Error('expected a config error');
  };

  it('reads a HAR at the path suture.yaml names', () => {
    const tree = repoWith({ 'captures/traffic.har': fixture('capture.har') });
    const pool = readCapture(tree, 'captures/traffic.har');
    expect(pool.source).toBe('capture');
    expect(pool.samples).toHaveLength(5);
    expect(healthyOptions(tree, { samples: 'captures/traffic.har', maxSamples: 3, ignore: [] })).toMatchObject({
      maxHealthy: 3,
      capture: { source: 'capture' },
    });
    expect(healthyOptions(tree, undefined)).toEqual({ maxHealthy: 20 });
  });

  it('a symlink (even to a real capture), a FIFO-like special file, a missing or oversized file: one line, exit 2', () => {
    const outside = repoWith({ 'secret.log': '10.0.0.1 - - [x] "GET /host-secret HTTP/1.1" 200 1\n' });
    const tree = repoWith({ 'ok.jsonl': '{"method":"GET","path":"/a","status":200}\n' });
    symlinkSync(join(outside, 'secret.log'), join(tree, 'link.log'));
    mkdirSync(join(tree, 'dir.har'));
    expect(configError(() => readCapture(tree, 'link.log'))).toMatch(
      /^suture.yaml: differential.samples: link.log is a symbolic link/,
    );
    expect(configError(() => readCapture(tree, 'dir.har'))).toMatch(/not a regular file/);
    expect(configError(() => readCapture(tree, 'missing.har'))).toMatch(/missing.har does not exist/);
    expect(configError(() => readCapture(tree, 'ok.jsonl', 8))).toMatch(/larger than 8 bytes/);
    expect(readCapture(tree, 'ok.jsonl').samples).toHaveLength(1);
  });

  it('a compressed or unreadable capture: one line naming the formats', () => {
    const tree = repoWith({
      'traffic.har.gz': gzipSync(fixture('capture.har')),
      'traffic.csv': 'id,method,path\n1,GET,/a\n',
    });
    expect(configError(() => readCapture(tree, 'traffic.har.gz'))).toMatch(/gzip-compressed/);
    expect(configError(() => readCapture(tree, 'traffic.csv'))).toMatch(/holds no request in a format suture reads/);
  });
});
