import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { fingerprint } from '../../src/incident/fingerprint.ts';
import { buildIncident, normaliseIncidentInput, readIncidentFile } from '../../src/incident/intake.ts';
import { buildPathIndex, innermostRepoFrame } from '../../src/incident/paths.ts';
import { SERVICES, tempDir } from '../helpers/repo.ts';

const filesOf = (svc: string) => readdirSync(join(SERVICES, svc), { recursive: true }) as string[];

describe('intake of the captured demo incidents', () => {
  it('pricing-api: Python traceback from a JSON log line, request recovered from the log', async () => {
    const raw = await readIncidentFile(join(SERVICES, 'pricing-api', 'incident.json'));
    const inc = buildIncident(raw, filesOf('pricing-api'));
    expect(inc.service).toBe('pricing-api');
    expect(inc.trace?.exceptionType).toBe('ZeroDivisionError');
    const frame = innermostRepoFrame(inc.trace!);
    expect(frame).toMatchObject({ repoPath: 'pricing.py', line: 6, function: 'average_discount' });
    expect(inc.requests).toHaveLength(1);
    expect(inc.requests[0]).toMatchObject({ method: 'POST', path: '/quote' });
    expect(JSON.parse(inc.requests[0]!.body!)).toEqual({ items: [{ price: 12.5, qty: 2 }], discounts: [] });
    expect(inc.healthyRequests).toHaveLength(2);
    expect(inc.summary).toContain('pricing.py:6 in average_discount');
    expect(inc.fingerprint).toMatch(/^[0-9a-f]{16}$/);
  });

  it('orders-api: Node ESM stack, node:internal frames external, explicit requests not duplicated', async () => {
    const raw = await readIncidentFile(join(SERVICES, 'orders-api', 'incident.json'));
    const inc = buildIncident(raw, filesOf('orders-api'));
    expect(inc.trace?.exceptionType).toBe('TypeError');
    expect(innermostRepoFrame(inc.trace!)).toMatchObject({ repoPath: 'orders.js', line: 6, function: 'shippingRate' });
    const internal = inc.trace!.frames.filter((f) => f.file.startsWith('node:'));
    expect(internal.length).toBeGreaterThan(0);
    expect(internal.every((f) => f.external && f.repoPath === undefined)).toBe(true);
    expect(inc.requests).toHaveLength(1);
  });
});

describe('Alertmanager v4 payloads', () => {
  const payload = (annotations: Record<string, string>, labels: Record<string, string> = { service: 'cart-api' }) => ({
    version: '4',
    status: 'firing',
    receiver: 'suture',
    groupLabels: {},
    commonLabels: { alertname: 'CrashLoop', severity: 'critical' },
    commonAnnotations: {},
    alerts: [{ status: 'firing', labels, annotations, startsAt: '2026-11-20T02:04:11Z' }],
  });

  it('takes service, severity and the trace from the alert', () => {
    const tb =
      'Traceback (most recent call last):\n  File "/srv/cart-api/cart.py", line 9, in total\n    return a / b\nZeroDivisionError: division by zero\n';
    const inc = buildIncident(payload({ traceback: tb, summary: 'cart-api crashes' }), ['cart.py']);
    expect(inc).toMatchObject({
      service: 'cart-api',
      signal: 'alert',
      severity: 'critical',
      summary: 'cart-api crashes',
    });
    expect(innermostRepoFrame(inc.trace!)?.repoPath).toBe('cart.py');
  });

  it('an alert without a service label is bad input', () => {
    expect(() => normaliseIncidentInput(payload({}, { alertname: 'x' }))).toThrow(/no service label/);
  });

  it('an alert without a trace still becomes an incident (escalated later)', () => {
    const inc = buildIncident(payload({ description: 'error rate above 5%' }), []);
    expect(inc.trace).toBeUndefined();
    expect(inc.summary).toBe('no stack trace in the incident');
  });
});

describe('bad input is one clear InputError', () => {
  const dir = tempDir();
  const file = (name: string, text: string) => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };

  it.each([
    ['missing file', join(dir, 'nope.json'), /not found/],
    ['empty file', file('empty.json', '  \n'), /is empty/],
    ['not JSON', file('bad.json', '{"kind": "crash",'), /is not JSON/],
  ])('%s', async (_name, path, message) => {
    await expect(readIncidentFile(path)).rejects.toThrow(message);
    await expect(readIncidentFile(path)).rejects.toBeInstanceOf(InputError);
  });

  it.each([
    ['an array', [], /must be a JSON object/],
    ['an unknown shape', { hello: 1 }, /neither a crash report/],
    ['a crash report without logs', { kind: 'crash', service: 'x' }, /crash report: logs/],
    ['a crash report with an empty service', { kind: 'crash', service: '', logs: '' }, /service/],
    [
      'a request without a leading slash',
      { kind: 'crash', service: 'x', logs: '', requests: [{ method: 'GET', path: 'x' }] },
      /requests\.0\.path/,
    ],
    ['alertmanager v3', { version: '3', alerts: [] }, /alertmanager payload: version/],
    ['alertmanager without alerts', { version: '4', status: 'firing', alerts: [] }, /alerts must not be empty/],
  ])('%s', (_name, raw, message) => {
    expect(() => normaliseIncidentInput(raw)).toThrow(message);
  });
});

describe('fingerprint', () => {
  const trace = (line: number, fn = 'average_discount', file = '/srv/pricing-api/pricing.py') =>
    `Traceback (most recent call last):\n  File "/srv/pricing-api/app.py", line ${line + 40}, in do_POST\n    x\n  File "${file}", line ${line}, in ${fn}\n    return total / len(discounts)\nZeroDivisionError: division by zero\n`;
  const fp = (logs: string, files = ['app.py', 'pricing.py', 'lib/pricing.py']) =>
    buildIncident({ kind: 'crash', service: 'pricing-api', logs }, files).fingerprint;

  it('is stable when unrelated lines move', () => {
    expect(fp(trace(6))).toBe(fp(trace(60)));
  });
  it('changes with the function, the file, the exception or the service', () => {
    const base = fp(trace(6));
    expect(fp(trace(6, 'other'))).not.toBe(base);
    expect(fp(trace(6, 'average_discount', '/srv/pricing-api/lib/pricing.py'))).not.toBe(base);
    expect(fp(trace(6).replace('ZeroDivisionError', 'TypeError'))).not.toBe(base);
    expect(buildIncident({ kind: 'crash', service: 'other', logs: trace(6) }, ['pricing.py']).fingerprint).not.toBe(
      base,
    );
  });
  it('does not depend on the container path prefix', () => {
    expect(fp(trace(6).replaceAll('/srv/pricing-api/', '/app/'))).toBe(fp(trace(6)));
  });
  it('has a defined value without a trace', () => {
    expect(fingerprint('svc', undefined)).toMatch(/^[0-9a-f]{16}$/);
  });
});

describe('container paths to repo files', () => {
  const index = buildPathIndex(['src/app/main.py', 'lib/app/main.py', 'web/server.js', 'pkg/util.py', 'util.py']);
  it.each([
    ['/srv/svc/src/app/main.py', 'src/app/main.py'],
    ['/app/lib/app/main.py', 'lib/app/main.py'],
    ['/usr/src/app/web/server.js', 'web/server.js'],
    ['file:///usr/src/app/web/server.js', 'web/server.js'],
    ['/srv/svc/pkg/util.py', 'pkg/util.py'],
  ])('%s → %s', (path, expected) => {
    expect(index.resolve(path)).toBe(expected);
  });
  it('leaves a tie unresolved instead of guessing', () => {
    expect(index.resolve('/elsewhere/main.py')).toBeUndefined();
  });
  it('never resolves parent-directory tricks or unknown files', () => {
    expect(index.resolve('/srv/svc/../../etc/passwd')).toBeUndefined();
    expect(index.resolve('/etc/passwd')).toBeUndefined();
  });
});

describe('suffix match ranking', () => {
  it('prefers the repo file that matches completely over one that disagrees on a directory', () => {
    const index = buildPathIndex(['pricing.py', 'lib/pricing.py']);
    expect(index.resolve('/srv/pricing-api/pricing.py')).toBe('pricing.py');
    expect(index.resolve('/srv/pricing-api/lib/pricing.py')).toBe('lib/pricing.py');
  });
  it('maps a short container path into a monorepo subdirectory', () => {
    expect(buildPathIndex(['services/cart/app/x.py']).resolve('/app/x.py')).toBe('services/cart/app/x.py');
  });
});
