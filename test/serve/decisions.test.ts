/**
 * The pure decisions behind `suture serve`'s hardening: who counts as loopback, how a bearer header is read
 * and compared, which alerts fold together, what the queue accepts, which incident files retention removes,
 * and what a finished heal process amounts to.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, foldKey, readAlertPayload } from '../../src/serve/alert-intake.ts';
import { bearerCredential, isLoopbackHost, tokenMatches, tokenProblem } from '../../src/serve/auth.ts';
import { healOutcome, printable } from '../../src/serve/heal-runner.ts';
import { retentionPlan } from '../../src/serve/incidents.ts';
import { JobQueue } from '../../src/serve/queue.ts';
import { HttpError } from '../../src/serve/server.ts';

describe('auth decisions', () => {
  it('only literal loopback addresses count as loopback', () => {
    for (const h of ['127.0.0.1', '127.8.0.1', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', 'localhost'])
      expect(isLoopbackHost(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', '::ffff:10.0.0.1', 'suture.local', '127.1', ''])
      expect(isLoopbackHost(h), h).toBe(false);
  });

  it('reads the credential of a Bearer header, any case of the scheme, nothing else', () => {
    expect(bearerCredential('Bearer abc.def')).toBe('abc.def');
    expect(bearerCredential('bearer abc')).toBe('abc');
    for (const h of [undefined, '', 'Basic abc', 'Bearer', 'Bearer ', 'Bearer a b', 'abc', 'Token abc'])
      expect(bearerCredential(h), String(h)).toBeNull();
  });

  it('token comparison is exact (property)', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(tokenMatches(a, b)).toBe(a === b);
        expect(tokenMatches(a, a)).toBe(true);
        expect(tokenMatches(a, null)).toBe(false);
      }),
    );
  });

  it('refuses short tokens and tokens that cannot travel in a Bearer header', () => {
    expect(tokenProblem('0123456789abcdef')).toBeNull();
    expect(tokenProblem('c2VjcmV0LXRva2VuLWZvci1zdXR1cmU=')).toBeNull();
    expect(tokenProblem('short')).toMatch(/at least 16/);
    expect(tokenProblem('0123456789abcdef ghi')).toMatch(/only letters/);
    expect(tokenProblem('0123456789abcdef\nx')).toMatch(/only letters/);
  });
});

const alert = (labels: Record<string, string>, annotations: Record<string, string> = {}, extra = {}) => ({
  status: 'firing',
  labels,
  annotations,
  startsAt: '2026-11-20T02:04:11Z',
  ...extra,
});
const payload = (...alerts: unknown[]) => ({ version: '4', status: 'firing', alerts });

describe('alert intake', () => {
  it('a firing alert without a service label refuses the payload, naming the alert', () => {
    const body = payload(alert({ alertname: 'A', service: 'cart-api' }), alert({ alertname: 'NoService' }));
    const err = (() => {
      try {
        readAlertPayload(body, 20);
      } catch (e) {
        return e as HttpError;
      }
    })();
    expect(err).toBeInstanceOf(HttpError);
    expect(err!.status).toBe(400);
    // (the service check may live in the schema or in normalisation: either way the alert is named)
    expect(err!.message).toMatch(/^alerts\[1\] \(alertname "NoService"\): (labels: )?no service label/);
    expect(err!.reason).toBe('bad_alert');
    expect(() =>
      readAlertPayload(payload(alert({ service: 'cart-api' }), alert({ alertname: 'T', service: 5 as never })), 20),
    ).toThrow(/^alerts\[1\] \(alertname "T"\): labels\.service: /);
  });

  it('a resolved alert is only counted', () => {
    const r = readAlertPayload(payload(alert({ alertname: 'A', service: 'cart-api' }, {}, { status: 'resolved' })), 20);
    expect(r).toEqual({ firing: [], resolved: 1 });
  });

  it('more alerts than the limit refuse the payload', () => {
    const many = Array.from({ length: 21 }, (_, i) => alert({ service: 'cart-api', n: String(i) }));
    expect(() => readAlertPayload(payload(...many), 20)).toThrow(/21 alerts, at most 20 per request/);
    expect(readAlertPayload(payload(...many.slice(0, 20)), 20).firing).toHaveLength(20);
  });

  it('the fold key is the content, never the sender-supplied fingerprint', () => {
    const real = alert({ service: 'cart-api', alertname: 'Crash' }, { logs: 'Traceback: real' }, { fingerprint: 'f1' });
    const forged = alert({ service: 'cart-api', alertname: 'Crash' }, { logs: 'forged' }, { fingerprint: 'f1' });
    const repeat = alert(
      { alertname: 'Crash', service: 'cart-api' },
      { logs: 'Traceback: real' },
      { fingerprint: 'other', startsAt: '2026-11-21T00:00:00Z' },
    );
    const [a, b, c] = readAlertPayload(payload(real, forged, repeat), 20).firing;
    expect(a!.key).not.toBe(b!.key);
    expect(c!.key).toBe(a!.key);
    // what heals read from commonLabels counts as content too
    const viaCommon = readAlertPayload(
      { ...payload(alert({ alertname: 'Crash' }, { logs: 'Traceback: real' })), commonLabels: { service: 'cart-api' } },
      20,
    ).firing[0]!;
    expect(viaCommon.key).toBe(a!.key);
  });

  it('canonical JSON does not depend on key order (property), and equal content gives equal keys', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (obj) => {
        const reversed = Object.fromEntries(Object.entries(obj).reverse());
        expect(canonicalJson(reversed)).toBe(canonicalJson(obj));
        expect(foldKey(reversed)).toBe(foldKey(obj));
      }),
    );
  });
});

describe('the heal queue', () => {
  const tick = () => new Promise((r) => setTimeout(r, 10));
  const gate = () => {
    let open!: () => void;
    const p = new Promise<void>((r) => {
      open = r;
    });
    return { p, open };
  };

  it('is bounded, all-or-nothing per batch, folds known keys and runs at most `concurrency` at once', async () => {
    const started: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    let inFlight = 0;
    let maxInFlight = 0;
    const q = new JobQueue<string>({ capacity: 2, concurrency: 1 }, async (job) => {
      started.push(job);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const g = gate();
      gates.set(job, g);
      await g.p;
      inFlight--;
    });
    expect(q.offer([{ key: 'a', job: 'A' }])).toMatchObject({ accepted: true, queued: ['a'] });
    expect(q.state).toEqual({ waiting: 0, running: 1 });
    expect(
      q.offer([
        { key: 'a', job: 'A2' },
        { key: 'b', job: 'B' },
        { key: 'b', job: 'B2' },
      ]),
    ).toEqual({
      accepted: true,
      queued: ['b'],
      folded: ['a', 'b'],
    });
    // two new keys, one free place: nothing is taken
    expect(
      q.offer([
        { key: 'c', job: 'C' },
        { key: 'd', job: 'D' },
      ]),
    ).toEqual({ accepted: false, free: 1 });
    expect(q.state).toEqual({ waiting: 1, running: 1 });
    expect(q.offer([{ key: 'c', job: 'C' }])).toMatchObject({ accepted: true });
    expect(q.offer([{ key: 'e', job: 'E' }])).toEqual({ accepted: false, free: 0 });
    await tick();
    gates.get('A')!.open();
    await tick();
    expect(started).toEqual(['A', 'B']);
    // a finished key may come back
    expect(q.offer([{ key: 'a', job: 'A3' }])).toMatchObject({ accepted: true, queued: ['a'] });
    q.close();
    expect(q.state.waiting).toBe(0);
    gates.get('B')!.open();
    await tick();
    expect(started).toEqual(['A', 'B']);
    expect(maxInFlight).toBe(1);
  });
});

describe('incident retention', () => {
  const day = 86_400_000;
  const now = 100 * day;
  const files = [
    { name: 'a.json', mtimeMs: now - 1000 },
    { name: 'b.json', mtimeMs: now - 2000 },
    { name: 'c.json', mtimeMs: now - 3000 },
    { name: 'old.json', mtimeMs: now - 10 * day },
  ];
  it('keeps the newest `keep`, drops what is older than the age limit, never a protected file', () => {
    expect(retentionPlan(files, now, { keep: 2, maxAgeMs: 7 * day }).sort()).toEqual(['c.json', 'old.json']);
    expect(retentionPlan(files, now, { keep: 10, maxAgeMs: 7 * day })).toEqual(['old.json']);
    expect(retentionPlan(files, now, { keep: 0, maxAgeMs: 7 * day }, new Set(['b.json'])).sort()).toEqual([
      'a.json',
      'c.json',
      'old.json',
    ]);
  });
});

describe('heal process outcome', () => {
  const base = { exitCode: 0, stdout: '', lastLine: '', timeoutMs: 60_000 };
  it('reads the --json result, and names every way a heal can end without one', () => {
    expect(
      healOutcome({ ...base, stdout: JSON.stringify({ status: 'proposed', reason: 'ok', branch: 'suture/abc' }) }),
    ).toEqual({ status: 'proposed', detail: 'ok', branch: 'suture/abc', canary: null });
    // the canary's decision, for the abort counter
    expect(
      healOutcome({
        ...base,
        stdout: JSON.stringify({
          status: 'aborted',
          reason: 'r',
          branch: null,
          canary: { decision: 'abort', at: 90, reason: 'x' },
        }),
      }),
    ).toEqual({ status: 'aborted', detail: 'r', branch: null, canary: 'abort' });
    expect(healOutcome({ ...base, exitCode: 2, lastLine: 'suture: incident: bad' })).toEqual({
      status: 'bad_input',
      detail: 'incident: bad',
    });
    expect(healOutcome({ ...base, exitCode: 1 }).status).toBe('error');
    expect(healOutcome({ ...base, stdout: '{"status": "propo' }).status).toBe('error');
    expect(healOutcome({ ...base, exitCode: null, ended: 'timeout' })).toMatchObject({ status: 'timeout' });
    expect(healOutcome({ ...base, exitCode: null, ended: 'stopped' })).toMatchObject({ status: 'stopped' });
  });

  it('what a heal reports reaches the server log as one printable line', () => {
    const reason = `no fix\r[serve] alert 000: fixed\n\u001b[2Jcleared${'x'.repeat(5000)}`;
    const { detail } = healOutcome({ ...base, stdout: JSON.stringify({ status: 'no-fix', reason }) });
    expect(detail).not.toMatch(/[\u0000-\u001f]/);
    expect(detail.startsWith('no fix?[serve] alert 000: fixed??[2Jcleared')).toBe(true);
    expect(detail.length).toBeLessThanOrEqual(1000);
    expect(printable('a\tb')).toBe('a\tb');
  });
});
