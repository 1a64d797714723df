/**
 * POST /alerts and the server's authentication over real HTTP, in process, with the heal itself replaced
 * by a stand-in that holds each heal until the test lets it finish: the bearer token on every route but
 * /healthz, alert validation and limits, the bounded queue, content-derived folding, and the incident
 * files (redacted, owner-only, pruned).
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { alertsRoute, prepareAlerts } from '../../src/serve/alerts.ts';
import type { HealOutcome, HealProcessOptions } from '../../src/serve/heal-runner.ts';
import { judgeRoute } from '../../src/serve/judge.ts';
import { jsonLogger } from '../../src/serve/log.ts';
import { type SutureServer, startSutureServer } from '../../src/serve/server.ts';
import { cleanup, tempDir } from '../helpers/repo.ts';
import { until } from './serve-process.ts';

const TOKEN = 'test-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };
const made: string[] = [];
afterAll(() => cleanup(...made));

/** A heal stand-in: records each call (and its incident file as it was then) and finishes on `finish()`. */
function fakeHeals() {
  const calls: Array<{ opts: HealProcessOptions; text: string; finish: (o?: HealOutcome) => void }> = [];
  const runHeal = (opts: HealProcessOptions) =>
    new Promise<HealOutcome>((resolve) => {
      const finish = (o: HealOutcome = { status: 'proposed', detail: 'fixed', branch: 'suture/x' }) => resolve(o);
      opts.signal?.addEventListener('abort', () => resolve({ status: 'stopped', detail: '' }));
      calls.push({ opts, text: readFileSync(opts.incidentFile, 'utf8'), finish });
    });
  return { calls, runHeal };
}

let server: SutureServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(opts: { limits?: object; keep?: number } = {}) {
  const state = tempDir('suture-serve-state-');
  made.push(state);
  const heals = fakeHeals();
  const log: Array<Record<string, unknown>> = [];
  const retention = { keep: opts.keep ?? 50, maxAgeMs: 86_400_000 };
  await prepareAlerts(state, retention);
  server = await startSutureServer({
    port: 0,
    token: TOKEN,
    routes: [
      judgeRoute(),
      alertsRoute({
        repo: '/nonexistent',
        stateDir: state,
        mode: 'propose',
        push: false,
        limits: { concurrency: 1, queueSize: 2, ...opts.limits },
        retention,
        log: jsonLogger({ write: (line) => void log.push(JSON.parse(line)) }),
        runHeal: heals.runHeal,
      }),
    ],
  });
  return { url: server.url, state, heals, log };
}

const alert = (labels: Record<string, string>, annotations: Record<string, string> = {}, extra = {}) => ({
  status: 'firing',
  labels: { alertname: 'ServiceCrash', ...labels },
  annotations,
  startsAt: new Date().toISOString(),
  ...extra,
});
const payload = (...alerts: unknown[]) => ({ version: '4', status: 'firing', alerts });
const postAlerts = async (url: string, body: unknown, headers: Record<string, string> = auth) => {
  const res = await fetch(`${url}/alerts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, json: (await res.json()) as Record<string, unknown> };
};
const metrics = async (url: string) => (await fetch(`${url}/metrics`, { headers: auth })).text();

describe('bearer-token authentication', () => {
  it('every route but /healthz needs the token; 401 says Bearer and reveals nothing', async () => {
    const { url, heals } = await start();
    const body = JSON.stringify(payload(alert({ service: 'cart-api' })));
    const wrong = [
      {},
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: `Basic ${TOKEN}` },
      {
        authorization: `Bearer ${TOKEN}x`,
      },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
    ];
    for (const headers of wrong) {
      for (const [method, path] of [
        ['POST', '/alerts'],
        ['POST', '/judge'],
        ['GET', '/metrics'],
        ['GET', '/nope'],
      ]) {
        const res = await fetch(`${url}${path}`, { method, headers, ...(method === 'POST' ? { body } : {}) });
        expect(res.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer\b/);
        expect(await res.json()).toEqual({ error: 'missing or wrong bearer token' });
      }
    }
    expect(heals.calls).toHaveLength(0);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    const judged = await fetch(`${url}/judge`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        buckets: [{ t: 1, stable: { requests: 1, errors: 0 }, canary: { requests: 1, errors: 0 } }],
      }),
    });
    expect(judged.status).toBe(200);
    expect((await postAlerts(url, payload(alert({ service: 'cart-api' })))).status).toBe(202);
    expect(await metrics(url)).toMatch(/suture_requests_rejected_total\{route="\/alerts",reason="unauthorized"\} 5/);
  });

  it('odd request targets are unknown paths: no crash, no way around the token', async () => {
    const { url, heals } = await start();
    const port = Number(new URL(url).port);
    const send = (path: string, method = 'GET') =>
      new Promise<number>((resolve, reject) => {
        const r = request(
          { host: '127.0.0.1', port, path, method, headers: { 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        r.on('error', reject);
        r.end(method === 'POST' ? JSON.stringify(payload(alert({ service: 'cart-api' }))) : undefined);
      });
    for (const path of ['//[', '/%', 'http://x:99999/', '//healthz/../alerts', '/healthz/../alerts', '/%61lerts'])
      expect(await send(path, path.includes('alerts') ? 'POST' : 'GET'), path).toBe(401);
    expect(await send('/healthz?x=1')).toBe(200);
    expect(heals.calls).toHaveLength(0);
  });

  it('an unauthenticated body is not read: a large one gets 401, not 413', async () => {
    const { url } = await start();
    const res = await fetch(`${url}/alerts`, { method: 'POST', body: 'x'.repeat(8 * 1024 * 1024) });
    expect(res.status).toBe(401);
  });

  it('refuses to listen beyond loopback without a token, and refuses a weak token', async () => {
    await expect(startSutureServer({ port: 0, host: '0.0.0.0' })).rejects.toThrow(/beyond loopback.*token/);
    await expect(startSutureServer({ port: 0, host: '::' })).rejects.toMatchObject({ exitCode: 2 });
    await expect(startSutureServer({ port: 0, token: 'short' })).rejects.toThrow(/at least 16/);
  });
});

describe('POST /alerts limits and queue', () => {
  it('400 names a firing alert without a service label; nothing of the payload is queued', async () => {
    const { url, heals } = await start();
    const r = await postAlerts(url, payload(alert({ service: 'cart-api' }), alert({ alertname: 'Orphan' })));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/^alerts\[1\] \(alertname "Orphan"\): (labels: )?no service label/);
    await new Promise((res) => setTimeout(res, 100));
    expect(heals.calls).toHaveLength(0);
    expect(await metrics(url)).toMatch(/suture_requests_rejected_total\{route="\/alerts",reason="bad_alert"\} 1/);
  });

  it('validating a costly payload does not hold up the event loop', async () => {
    // 20 alerts sharing 1 MiB of common annotations: every alert is normalised with them (~0.8 s of CPU)
    const { url } = await start({ limits: { queueSize: 20 } });
    const many = Array.from({ length: 20 }, (_, i) => alert({ service: 'cart-api', n: String(i) }));
    const body = { ...payload(...many), commonAnnotations: { logs: 'a.b-'.repeat(250_000) } };
    await postAlerts(url, payload(alert({ service: 'cart-api', n: 'warm-up' })));
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const t0 = performance.now();
    const r = await postAlerts(url, body);
    const took = performance.now() - t0;
    delay.disable();
    expect(r.status).toBe(202);
    const worstMs = delay.max / 1e6;
    console.log(`costly payload: answered in ${took.toFixed(0)} ms, worst event-loop delay ${worstMs.toFixed(0)} ms`);
    expect(worstMs).toBeLessThan(250);
  });

  it('a payload that takes too long to validate is refused, and the next one is served', async () => {
    const { url, heals } = await start({ limits: { queueSize: 20, validateTimeoutMs: 100 } });
    const many = Array.from({ length: 20 }, (_, i) => alert({ service: 'cart-api', n: String(i) }));
    const slow = await postAlerts(url, { ...payload(...many), commonAnnotations: { logs: 'a.b-'.repeat(250_000) } });
    expect(slow.status).toBe(400);
    expect(slow.json.error).toMatch(/took longer than 0.1 s to validate/);
    expect((await postAlerts(url, payload(alert({ service: 'cart-api' })))).status).toBe(202);
    await until('the heal', async () => (heals.calls.length === 1 ? true : undefined));
    expect(await metrics(url)).toMatch(/suture_requests_rejected_total\{route="\/alerts",reason="intake_timeout"\} 1/);
  });

  it('the red team’s 200-alert request is refused whole: no files, no heals', async () => {
    const { url, state, heals } = await start();
    const many = Array.from({ length: 200 }, (_, i) =>
      alert({ service: 'cart-api', pod: `p${i}` }, { logs: 'x'.repeat(2000) }),
    );
    const r = await postAlerts(url, payload(...many));
    expect(r.status).toBe(400);
    expect(r.json.error).toMatch(/200 alerts, at most 20 per request/);
    await new Promise((res) => setTimeout(res, 100));
    expect(heals.calls).toHaveLength(0);
    expect(readdirSync(join(state, 'incidents'))).toEqual([]);
  });

  it('a full queue answers 429 with Retry-After; room frees as heals finish', async () => {
    const { url, heals } = await start({ limits: { queueSize: 2, concurrency: 1, retryAfterSeconds: 30 } });
    for (const n of ['1', '2', '3'])
      expect((await postAlerts(url, payload(alert({ service: 'cart-api', n })))).status).toBe(202);
    await until('the first heal', async () => (heals.calls.length === 1 ? true : undefined));
    const full = await postAlerts(url, payload(alert({ service: 'cart-api', n: '4' })));
    expect(full.status).toBe(429);
    expect(full.headers.get('retry-after')).toBe('30');
    expect(full.json.error).toMatch(/queue full/);
    const m = await metrics(url);
    expect(m).toMatch(/suture_heal_queue_depth 2/);
    expect(m).toMatch(/suture_heals_running 1/);
    expect(m).toMatch(/suture_requests_rejected_total\{route="\/alerts",reason="queue_full"\} 1/);
    heals.calls[0]!.finish();
    await until('the second heal', async () => (heals.calls.length === 2 ? true : undefined));
    expect((await postAlerts(url, payload(alert({ service: 'cart-api', n: '4' })))).status).toBe(202);
    // one heal at a time: the third has not started while the second runs
    await new Promise((res) => setTimeout(res, 100));
    expect(heals.calls).toHaveLength(2);
  });

  it('folds by content: a forged alert with a real alert’s fingerprint does not swallow it', async () => {
    const { url, heals } = await start({ limits: { queueSize: 5 } });
    const real = alert(
      { service: 'cart-api' },
      { logs: 'Traceback (most recent call last): real' },
      { fingerprint: 'abc' },
    );
    const forged = alert({ service: 'cart-api' }, { logs: 'nothing here' }, { fingerprint: 'abc' });
    const first = await postAlerts(url, payload(forged));
    expect(first.json).toMatchObject({ accepted: 1, folded: 0 });
    const second = await postAlerts(url, payload(real, { ...real, fingerprint: 'zzz' }));
    expect(second.json).toMatchObject({ accepted: 1, folded: 1 });
    // Alertmanager's repeat of the same alert, while it waits, folds too
    expect((await postAlerts(url, payload(real))).json).toMatchObject({ accepted: 0, folded: 1 });
    await until('the first heal', async () => (heals.calls.length === 1 ? true : undefined));
    heals.calls[0]!.finish();
    await until('the real alert’s heal', async () => (heals.calls.length === 2 ? true : undefined));
    expect(heals.calls[1]!.text).toContain('Traceback (most recent call last): real');
    expect(await metrics(url)).toMatch(/suture_alerts_received_total\{outcome="folded"\} 2/);
  });
});

describe('what a heal leaves in /metrics and the log', () => {
  it('times each heal by status, counts canary aborts, and logs every line of a heal with its incident id', async () => {
    const { url, heals, log } = await start({ limits: { queueSize: 5 } });
    const accepted = await postAlerts(
      url,
      payload(alert({ service: 'cart-api', n: '1' }), alert({ service: 'cart-api', n: '2' })),
    );
    const [first, second] = accepted.json.incidents as string[];
    await until('the first heal', async () => (heals.calls.length === 1 ? true : undefined));
    // one heal running, the other waiting
    const during = await metrics(url);
    expect(during).toMatch(/^suture_heal_queue_depth 1$/m);
    expect(during).toMatch(/^suture_heals_running 1$/m);
    heals.calls[0]!.opts.onLine?.('[suture] incident abc: KeyError password=hunter2-Secret-99');
    heals.calls[0]!.finish({ status: 'aborted', detail: 'the canary aborted', branch: 'suture/a', canary: 'abort' });
    await until('the second heal', async () => (heals.calls.length === 2 ? true : undefined));
    heals.calls[1]!.finish({ status: 'proposed', detail: 'ok', branch: 'suture/b', canary: null });
    const m = await until('both heals in /metrics', async () => {
      const text = await metrics(url);
      return /suture_heal_duration_seconds_count\{status="proposed"\} 1/.test(text) ? text : undefined;
    });
    expect(m).toMatch(/suture_heal_duration_seconds_count\{status="aborted"\} 1/);
    expect(m).toMatch(/suture_heal_duration_seconds_bucket\{le="1",status="aborted"\} 1/);
    expect(m).toMatch(/suture_canary_aborts_total 1/);
    expect(m).toMatch(/suture_heals_total\{status="aborted"\} 1/);
    // the five the issue names: incidents received, heals by status, heal duration, canary aborts, queue depth
    expect(m).toMatch(/^suture_alerts_received_total\{outcome="queued"\} 2$/m);
    expect(m).toMatch(/^suture_heals_total\{status="proposed"\} 1$/m);
    expect(m).toMatch(/^suture_heal_queue_depth 0$/m);
    expect(m).toMatch(/^# TYPE suture_heal_duration_seconds histogram$/m);

    // pino's shape on every line; the heal's own progress line without its prefix, redacted
    for (const l of log)
      expect(l).toMatchObject({ level: expect.any(String), time: expect.any(Number), msg: expect.any(String) });
    const lines = (id: string) => log.filter((l) => l.incident === id).map((l) => l.msg);
    expect(lines(first!)).toEqual([
      'alert queued',
      'heal started',
      'incident abc: KeyError password=[REDACTED:secret]',
      'heal aborted: the canary aborted',
    ]);
    expect(lines(second!)).toEqual(['alert queued', 'heal started', 'heal proposed: ok']);
    expect(log.filter((l) => !l.incident)).toEqual([]);
    expect(log.find((l) => l.msg === 'heal aborted: the canary aborted')).toMatchObject({
      level: 'info',
      status: 'aborted',
      branch: 'suture/a',
      durationMs: expect.any(Number),
    });
  });
});

describe('incident files', () => {
  const secrets = {
    password: 'hunter2-Secret-99',
    github: `ghp_${'A1b2C3d4E5'.repeat(4)}`,
    bearer: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMzQ1In0.c2lnbmF0dXJlLXNpZ25hdHVyZQ',
  };
  const leaky = alert(
    { service: 'cart-api' },
    {
      summary: `login failed for password=${secrets.password}`,
      logs: `Traceback (most recent call last):\nRuntimeError: token ${secrets.github}\nAuthorization: Bearer ${secrets.bearer}`,
    },
  );

  it('are redacted, owner-only in an owner-only directory, and pruned to the retention limit', async () => {
    const { url, state, heals } = await start({ keep: 1, limits: { queueSize: 5 } });
    expect((await postAlerts(url, payload(leaky))).status).toBe(202);
    await until('the heal', async () => (heals.calls.length === 1 ? true : undefined));
    const { opts, text } = heals.calls[0]!;
    for (const s of Object.values(secrets)) expect(text).not.toContain(s);
    expect(text).toContain('[REDACTED');
    expect(text).toContain('cart-api');
    expect(statSync(opts.incidentFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, 'incidents')).mode & 0o777).toBe(0o700);

    // keep 1: each finished heal's file is pruned once a newer one exists, and a running one never is
    for (const n of ['2', '3'])
      expect((await postAlerts(url, payload(alert({ service: 'cart-api', n })))).status).toBe(202);
    heals.calls[0]!.finish();
    await until('heal 2', async () => (heals.calls.length === 2 ? true : undefined));
    heals.calls[1]!.finish();
    await until('heal 3', async () => (heals.calls.length === 3 ? true : undefined));
    const running = heals.calls[2]!.opts.incidentFile;
    heals.calls[2]!.finish();
    await until('pruning', async () => {
      const left = readdirSync(join(state, 'incidents'));
      return left.length === 1 ? left : undefined;
    });
    expect(readdirSync(join(state, 'incidents'))).toEqual([running.split('/').at(-1)]);
  });

  it('at start, the directory is made owner-only and what earlier versions left unredacted is removed', async () => {
    const state = tempDir('suture-serve-state-');
    made.push(state);
    const dir = join(state, 'incidents');
    mkdirSync(dir, { mode: 0o755 });
    writeFileSync(join(dir, '1763600000000-0.json'), '{"annotations": {"logs": "password=hunter2"}}', { mode: 0o644 });
    writeFileSync(join(dir, '1763600000001-0123456789ab-0badcafe.json'), '{}', { mode: 0o644 });
    writeFileSync(join(dir, '1763600000001-0123456789ab-0badcafe.json.out'), '{}');
    await prepareAlerts(state);
    expect(readdirSync(dir)).toEqual(['1763600000001-0123456789ab-0badcafe.json']);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, '1763600000001-0123456789ab-0badcafe.json')).mode & 0o777).toBe(0o600);
  });

  it('shutting the server down stops the running heal and drops what waits', async () => {
    const { url, heals } = await start({ limits: { queueSize: 5 } });
    for (const n of ['1', '2']) await postAlerts(url, payload(alert({ service: 'cart-api', n })));
    await until('the first heal', async () => (heals.calls.length === 1 ? true : undefined));
    const signal = heals.calls[0]!.opts.signal!;
    await server!.close();
    server = undefined;
    expect(signal.aborted).toBe(true);
    await new Promise((res) => setTimeout(res, 100));
    expect(heals.calls).toHaveLength(1);
  });
});
