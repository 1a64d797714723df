/**
 * Intake of hostile incidents (issue 8, findings 1, 5, 14b, 14d): identifiers validated like suture.yaml's,
 * every field bounded with a one-line error, request samples sanitised (allow-listed headers, structurally
 * redacted bodies), and big logs reduced to a bounded excerpt that still holds the trace.
 */
import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.ts';
import { buildIncident, normaliseIncidentInput, readIncidentFile } from '../../src/incident/intake.ts';
import { EXCERPT, excerptLogs } from '../../src/incident/logs.ts';
import { sanitiseBody, sanitiseRequest } from '../../src/incident/sanitise.ts';
import { tempDir } from '../helpers/repo.ts';

const TRACE =
  'Traceback (most recent call last):\n  File "/srv/pricing-api/pricing.py", line 6, in average_discount\n    return total / len(discounts)\nZeroDivisionError: division by zero\n';
const crash = (extra: Record<string, unknown> = {}) => ({
  kind: 'crash',
  service: 'pricing-api',
  logs: TRACE,
  ...extra,
});
const alert = (labels: Record<string, string>, annotations: Record<string, string> = {}) => ({
  version: '4',
  status: 'firing',
  alerts: [{ status: 'firing', labels, annotations }],
});

/** The InputError `fn` throws, checked to be one line that does not echo `secret`. */
function inputError(fn: () => unknown, secret?: string): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    const message = (err as Error).message;
    expect(message).not.toContain('\n');
    expect(message.length).toBeLessThan(400);
    if (secret) expect(message).not.toContain(secret);
    return message;
  }
  throw new Error('expected an InputError');
}

describe('identifiers are validated on intake, like suture.yaml', () => {
  it.each([
    ['a newline', 'cart\nSuture-Fingerprint: forged'],
    ['a docstring breaker', 'x"""; import os; os.system("id"); """'],
    ['a comment breaker', 'x\n});process.exit(0);//'],
    ['a leading dash', '-rf'],
    ['a slash', '../etc'],
    ['64 characters', 'a'.repeat(64)],
    ['2.2 MB', 'a'.repeat(2_200_000)],
  ])('a crash report whose service holds %s is bad input', (_name, service) => {
    expect(inputError(() => normaliseIncidentInput(crash({ service })), service)).toMatch(
      /^crash report: service: service must be a name like cart-api/,
    );
  });

  it('the environment too', () => {
    expect(inputError(() => normaliseIncidentInput(crash({ environment: 'prod\nx' })))).toMatch(/environment/);
  });

  it.each([
    ['service', { service: 'cart\nrm -rf /' }],
    ['app', { app: 'cart api' }],
    ['job', { job: 'x'.repeat(100) }],
    ['environment', { service: 'cart', environment: 'prod\n//' }],
    ['namespace', { service: 'cart', namespace: 'a"b' }],
  ])('an Alertmanager %s label that is not a name is bad input', (label, labels) => {
    expect(inputError(() => normaliseIncidentInput(alert(labels)))).toMatch(
      new RegExp(`^alertmanager payload: alerts\\.0\\.labels\\.${label}: the (service|environment) label`),
    );
  });

  it('valid names pass, dots and underscores included', () => {
    expect(normaliseIncidentInput(crash({ service: 'cart_api.v2', environment: 'eu-west-1' })).service).toBe(
      'cart_api.v2',
    );
    expect(normaliseIncidentInput(alert({ 'app.kubernetes.io/name': 'orders', namespace: 'shop' }))).toMatchObject({
      service: 'orders',
      environment: 'shop',
    });
  });

  it('a label name with a newline cannot break the error line', () => {
    const labels: Record<string, string> = { service: 'cart', ['x\ny']: 'z'.repeat(2000) };
    expect(inputError(() => normaliseIncidentInput(alert(labels)))).toMatch(/label values are at most 1024/);
  });
});

describe('every field is bounded, with a one-line error naming it', () => {
  const req = (r: Record<string, unknown>) => crash({ requests: [{ method: 'POST', path: '/x', ...r }] });
  it.each([
    ['a long path', req({ path: `/${'a'.repeat(9000)}` }), /requests\.0\.path: request path is at most/],
    ['a path with a newline', req({ path: '/x\nHost: evil' }), /requests\.0\.path: .*no whitespace/],
    ['a big body', req({ body: 'x'.repeat(1024 * 1024 + 1) }), /requests\.0\.body: request body is at most 1024 KiB/],
    [
      'too many headers',
      req({ headers: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`x-h${i}`, 'v'])) }),
      /requests\.0\.headers: at most 64 headers/,
    ],
    ['a big header', req({ headers: { accept: 'a'.repeat(9000) } }), /header values are at most 8192/],
    ['a header value with CRLF', req({ headers: { accept: 'a\r\nX: y' } }), /no CR, LF or NUL/],
    ['a bad method', req({ method: 'GET /x' }), /method must be an HTTP method/],
    [
      'too many requests',
      crash({ requests: Array.from({ length: 51 }, () => ({ method: 'GET', path: '/' })) }),
      /requests: at most 50 requests/,
    ],
    ['a long severity', crash({ severity: 's'.repeat(200) }), /severity: at most 128/],
    [
      'too many labels',
      alert({ service: 'x', ...Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`l${i}`, 'v'])) }),
      /labels: at most 64 labels/,
    ],
    [
      'a huge annotation',
      alert({ service: 'x' }, { description: 'd'.repeat(1024 * 1024 + 1) }),
      /annotation values are at most/,
    ],
  ])('%s', (_name, raw, message) => {
    expect(inputError(() => normaliseIncidentInput(raw))).toMatch(message);
  });
});

describe('request samples are sanitised on intake', () => {
  const HEADERS = {
    'Content-Type': 'application/json; charset=utf-8',
    Accept: 'application/json, text/plain;q=0.9',
    Authorization: 'Bearer abc.def.ghi',
    Cookie: 'sid=s3cr3t-cookie',
    'x-upstream-token': 'upstream-s3cr3t-1',
    'x-amz-security-token': 'amz-s3cr3t-2',
    'private-token': 'glpat-s3cr3ts3cr3ts3cr3t3',
    'x-internal-auth': 'Basic aW50ZXJuYWw6czNjcjN0NA==',
    'api-key': 'apikey-s3cr3t-5',
    'x-request-id': 'req-123',
  };
  const BODY = JSON.stringify({
    user: 'bob',
    password: 'hunter2-s3cr3t',
    payment: { card: { number: '4111 1111 1111 1111', cvv: '123', expiry: '12/29' }, amount: 12.5 },
    cardNumber: 5500000000000004,
    pan: '5500-0000-0000-0004',
    note: 'token ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234 in text',
    forwarded: { authorization: 'Basic dXNlcjpwYXNz' },
    orderId: 0,
    items: [],
  }).replace('"orderId":0', '"orderId":12345678901234567890'); // more digits than a double holds

  it('keeps only allow-listed headers, with plainly harmless values', () => {
    const r = sanitiseRequest({ method: 'post', path: '/pay', headers: HEADERS });
    expect(r.headers).toEqual({
      'content-type': 'application/json; charset=utf-8',
      accept: 'application/json, text/plain;q=0.9',
    });
    const odd = sanitiseRequest({
      method: 'GET',
      path: '/',
      headers: { 'content-type': 'text/plain; x="ghp_R2d2C3poR2d2C3poR2d2C3poR2d2C3po1234"' },
    });
    expect(odd.headers).toEqual({ 'content-type': '[REDACTED:header]' });
    expect(sanitiseRequest({ method: 'GET', path: '/', headers: { accept: 'text/html\u2028x' } }).headers).toEqual({
      accept: '[REDACTED:header]',
    });
  });

  it('redacts JSON bodies structurally, keeping everything else exactly', () => {
    const body = JSON.parse(sanitiseBody(BODY, 'application/json'));
    expect(body).toEqual({
      user: 'bob',
      password: '[REDACTED:secret]',
      payment: { card: '[REDACTED:secret]', amount: 12.5 },
      cardNumber: '[REDACTED:secret]',
      pan: '[REDACTED:secret]',
      note: 'token [REDACTED:github-token] in text',
      forwarded: { authorization: '[REDACTED:secret]' },
      orderId: expect.anything(),
      items: [],
    });
    // Big ids keep every digit; numbers that are card numbers go, whatever their key.
    const out = sanitiseBody(BODY);
    expect(out).toContain('"orderId":12345678901234567890');
    expect(sanitiseBody('{"ref": 4111111111111111}')).toBe('{"ref":"[REDACTED:card-number]"}');
    for (const secret of ['hunter2', '4111', '5500', '"123"', 'ghp_', 'aW50', 'dXNl'])
      expect(out).not.toContain(secret);
  });

  it('leaves a body with nothing secret byte for byte as production received it', () => {
    const body = '{ "items": [{"price": 12.50, "qty": 2}],\n  "discounts": [] }';
    expect(sanitiseBody(body, 'application/json')).toBe(body);
    expect(sanitiseBody('plain text, nothing here')).toBe('plain text, nothing here');
  });

  it('redacts form-encoded bodies field by field, and any other body as text', () => {
    expect(
      sanitiseBody('user=bob&pass%77ord=hunter2&card=4111111111111111&note=hi', 'application/x-www-form-urlencoded'),
    ).toBe('user=bob&pass%77ord=[REDACTED:secret]&card=[REDACTED:secret]&note=hi');
    expect(sanitiseBody('<xml><password>x</password> 4111111111111111 Bearer abcdefgh12345</xml>')).toBe(
      '<xml><password>x</password> [REDACTED:card-number] Bearer [REDACTED:authorization]</xml>',
    );
  });

  it('applies to explicit, healthy and log-recovered requests, and to query strings', () => {
    const logLine = JSON.stringify({
      level: 'error',
      request: { method: 'POST', path: '/pay?access_token=tok-s3cr3t-9', headers: HEADERS, body: BODY },
      status: 500,
      traceback: TRACE,
    });
    const inc = buildIncident(
      crash({
        logs: logLine,
        healthyRequests: [{ method: 'POST', path: '/pay', headers: HEADERS, body: BODY, status: 200 }],
      }),
      ['pricing.py'],
    );
    expect(inc.requests).toHaveLength(1);
    expect(inc.requests[0]!.path).toBe('/pay?access_token=[REDACTED:secret]');
    const everything = JSON.stringify([inc.requests, inc.healthyRequests]);
    for (const secret of ['s3cr3t', 'hunter2', '4111', '5500', 'aW50', 'abc.def', 'req-123']) {
      expect(everything).not.toContain(secret);
    }
  });

  it('skips a log-recovered request the schema would refuse, instead of failing the incident', () => {
    const logLine = JSON.stringify({ level: 'error', request: { method: 'GET', path: `/${'a'.repeat(9000)}` } });
    expect(buildIncident(crash({ logs: `${logLine}\n${TRACE}` }), ['pricing.py']).requests).toEqual([]);
  });
});

describe('big logs', () => {
  const dir = tempDir('suture-logs-');
  const noise = (i: number) =>
    `${JSON.stringify({ ts: `2026-11-23T04:${String(i % 60).padStart(2, '0')}:00Z`, level: 'info', msg: 'GET /items 200', i })}\n`;

  it('a 50 MB crash report with the trace at the end is read and its trace found', async () => {
    const line = noise(1);
    const logs = `${line.repeat(Math.ceil((50 * 1024 * 1024) / line.length))}${TRACE}`;
    const path = join(dir, 'big.json');
    writeFileSync(path, JSON.stringify(crash({ logs })));
    const started = performance.now();
    const inc = buildIncident(await readIncidentFile(path), ['pricing.py']);
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(inc.trace?.exceptionType).toBe('ZeroDivisionError');
    expect(inc.logs.length).toBeLessThanOrEqual(EXCERPT.tail + EXCERPT.traces + 200);
  });

  it('a trace far from the end is kept from the middle of the dump', () => {
    const line = noise(2);
    const filler = line.repeat(Math.ceil((3 * EXCERPT.whole) / line.length));
    const excerpt = excerptLogs(`${filler}${TRACE}${filler}`);
    expect(excerpt.length).toBeLessThan(EXCERPT.tail + EXCERPT.traces);
    expect(excerpt).toContain(TRACE);
    expect(excerpt).toMatch(/\[suture: \d+ characters of log omitted\]/);
    const inc = buildIncident(crash({ logs: `${filler}${TRACE}${filler}` }), ['pricing.py']);
    expect(inc.trace?.frames.at(-1)?.repoPath).toBe('pricing.py');
  });

  it('logs under the limit are kept whole', () => {
    const logs = `${noise(3).repeat(100)}${TRACE}`;
    expect(excerptLogs(logs)).toBe(logs);
  });

  it('is linear: a dump made only of trace markers costs no more per byte', () => {
    const time = (n: number) => {
      const text = '    at f (/app/x.js:1:1)\n'.repeat(n);
      const t = performance.now();
      excerptLogs(text);
      return performance.now() - t;
    };
    time(1000);
    const small = time(200_000);
    const large = time(1_600_000);
    expect(large).toBeLessThan(Math.max(24 * small, 200));
  });

  it('a file over 256 MiB is refused with one line, without being read', async () => {
    const path = join(dir, 'huge.json');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 257 * 1024 * 1024);
    closeSync(fd);
    await expect(readIncidentFile(path)).rejects.toThrow(/larger than 256 MiB/);
  });

  it('a directory or a device is not an incident file', async () => {
    mkdirSync(join(dir, 'd'));
    await expect(readIncidentFile(join(dir, 'd'))).rejects.toThrow(/not a regular file/);
    await expect(readIncidentFile('/dev/zero')).rejects.toThrow(/not a regular file/);
  });

  it('a JSON error does not quote the file back', async () => {
    const path = join(dir, 'bad.json');
    writeFileSync(path, '{"kind": "crash", "logs": "password=hunter2" oops}');
    await expect(readIncidentFile(path)).rejects.toThrow(/is not JSON/);
    await expect(readIncidentFile(path)).rejects.not.toThrow(/hunter2/);
  });
});
