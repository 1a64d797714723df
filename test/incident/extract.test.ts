import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { extractRequests, extractTraces } from '../../src/incident/stacktrace/index.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/traces', name), 'utf8');

describe('extractTraces', () => {
  it('finds Python traces escaped in structlog (`exception`) and python-json-logger (`exc_info`) lines', () => {
    const traces = extractTraces(fixture('structlog-pricing-api.log'));
    expect(traces.map((t) => [t.language, t.exceptionType, t.message])).toEqual([
      ['python', 'ZeroDivisionError', 'division by zero'],
      ['python', 'ValueError', "bad request body: '{not json'"],
    ]);
    expect(traces[0]!.frames.at(-1)).toEqual({
      file: '/srv/pricing-api/pricing.py',
      line: 6,
      function: 'average_discount',
      code: 'return round(total / len(discounts), 2)',
      external: false,
    });
    expect(traces[1]!.cause?.exceptionType).toBe('json.decoder.JSONDecodeError');
    expect(traces[1]!.cause?.frames.filter((f) => f.external)).toHaveLength(3);
  });

  it('finds Node stacks in pino `err.stack`, with `caused by:` chains', () => {
    const traces = extractTraces(fixture('pino-orders-api.log'));
    expect(traces).toHaveLength(2);
    expect(traces[0]).toMatchObject({ language: 'node', exceptionType: 'TypeError' });
    expect(traces[0]!.frames.map((f) => [f.function, f.async ?? false])).toEqual([
      ['<anonymous>', true],
      ['handle', true],
      ['price', false],
    ]);
    expect(traces[0]!.frames.at(-1)).toMatchObject({ file: '/app/server.mjs', line: 4, column: 73 });
    expect(traces[1]!.message).toBe('payment gateway failed');
    expect(traces[1]!.cause).toMatchObject({
      exceptionType: 'TypeError',
      message: "Cannot read properties of null (reading 'id')",
    });
    expect(traces[1]!.cause?.frames.at(-1)).toMatchObject({ line: 10, column: 60 });
  });

  it('finds plain-text and JSON-embedded traces of both languages in order', () => {
    const traces = extractTraces(fixture('mixed-plain.log'));
    expect(traces.map((t) => `${t.language}:${t.exceptionType}`)).toEqual([
      'python:ZeroDivisionError',
      'node:Error',
      'node:TypeError',
      'python:KeyError',
    ]);
    expect(traces[0]!.message).toBe('division by zero');
    expect(traces[2]!.message).toBe("Cannot read properties of undefined (reading 'collection')");
    expect(traces[2]!.frames.at(-1)).toMatchObject({ function: 'new Repo', line: 2 });
    expect(traces[3]!.message).toBe("'default'");
    expect(traces[3]!.cause?.exceptionType).toBe('FileNotFoundError');
  });

  it('reads nested fields, `message`/`msg` holding a trace, line lists, prefixes and JSON-in-JSON', () => {
    const py =
      'Traceback (most recent call last):\n  File "/srv/a/app.py", line 3, in f\n    g()\nOSError: disk full\n';
    const node = 'TypeError: x is not a function\n    at run (/app/run.js:7:3)\n    at /app/run.js:9:1';
    const lines = [
      JSON.stringify({ level: 'error', error: { kind: 'TypeError', stack: node } }),
      JSON.stringify({ msg: py }),
      `2026-11-23T04:00:00.000000000Z stderr F ${JSON.stringify({ stack_trace: node.replace('run.js:7', 'run.js:8') })}`,
      JSON.stringify({ exc_info: py.split(/(?<=\n)/) }),
      JSON.stringify({ log: JSON.stringify({ traceback: py.replace('disk full', 'quota') }) }),
      JSON.stringify({ message: py, traceback: py }),
    ];
    const traces = extractTraces(lines.join('\n'));
    expect(traces.map((t) => [t.exceptionType, t.message, t.frames.at(-1)?.line])).toEqual([
      ['TypeError', 'x is not a function', 7],
      ['OSError', 'disk full', 3],
      ['TypeError', 'x is not a function', 8],
      ['OSError', 'disk full', 3],
      ['OSError', 'quota', 3],
      // The same trace under two fields of one record counts once.
      ['OSError', 'disk full', 3],
    ]);
  });

  it('strips container runtime timestamps from every line, and unescapes traces in logfmt values', () => {
    const stamped = fixture('py311-chained-context.txt')
      .trimEnd()
      .split('\n')
      .map((l, i) => `2026-11-23T04:10:0${i % 10}.${100 + i}456789Z stderr F ${l}`)
      .join('\n');
    const logfmt =
      'time=2026-11-23T04:10:09Z level=error msg="unhandled" error="Traceback (most recent call last):\\n  File \\"/srv/a/app.py\\", line 3, in f\\n    g()\\nOSError: disk full\\n" path=/x';
    const traces = extractTraces(`${stamped}\n${logfmt}`);
    expect(traces.map((t) => [t.exceptionType, t.message, t.frames.at(-1)?.file])).toEqual([
      ['KeyError', "'default'", '/srv/pricing-api/pricing.py'],
      ['OSError', 'disk full', '/srv/a/app.py'],
    ]);
    expect(traces[0]!.cause?.frames[0]?.code).toBe('with open(path) as fh:');
  });

  it('reads CRLF logs', () => {
    const text = `${fixture('py311-chained-cause.txt')}\n${fixture('node20-async-new.txt')}`.replaceAll('\n', '\r\n');
    const traces = extractTraces(text);
    expect(traces.map((t) => [t.exceptionType, t.frames.length, t.cause?.exceptionType])).toEqual([
      ['ValueError', 2, 'json.decoder.JSONDecodeError'],
      ['TypeError', 3, undefined],
    ]);
    expect(traces[0]!.message).toBe("bad request body: '{not json'");
  });

  it('returns nothing for logs without traces and never throws on garbage', () => {
    expect(extractTraces('')).toEqual([]);
    expect(extractTraces('{"level":"info","msg":"ok"}\nplain line\n{broken json at all\n[1,2]\nnull')).toEqual([]);
    expect(extractTraces('{"a":' + '['.repeat(5000) + '}')).toEqual([]);
    expect(extractTraces(undefined as unknown as string)).toEqual([]);
    const deep = { stack: 'Error: deep\n    at f (/app/f.js:1:1)' } as Record<string, unknown>;
    let nested: Record<string, unknown> = deep;
    for (let i = 0; i < 100; i++) nested = { inner: nested };
    expect(extractTraces(JSON.stringify(nested))).toEqual([]);
    expect(extractTraces(JSON.stringify({ inner: deep }))).toHaveLength(1);
  });
});

describe('extractRequests', () => {
  it('recovers the failing request from structlog lines: object body serialized, absolute URL reduced', () => {
    expect(extractRequests(fixture('structlog-pricing-api.log'))).toEqual([
      {
        method: 'POST',
        path: '/quote',
        headers: { 'Content-Type': 'application/json' },
        body: '{"items":[1],"discounts":[]}',
        status: 500,
      },
      { method: 'PUT', path: '/rates/eu?dry_run=1', body: '{not json', status: 500 },
    ]);
  });

  it('recovers pino `request` and `req` objects with `status` / `res.statusCode`, skipping 2xx', () => {
    const requests = extractRequests(fixture('pino-orders-api.log'));
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({
      method: 'POST',
      path: '/orders',
      body: '{"sku":"A-1","qty":2,"customer":{}}',
      status: 500,
    });
    expect(requests[0]!.headers?.['content-type']).toBe('application/json');
    expect(requests[1]).toEqual({ method: 'GET', path: '/orders/17/pay?retry=1', status: 502 });
  });

  it('reads status from response.status and statusCode, and coerces headers to strings', () => {
    const lines = [
      {
        request: { method: 'post', url: '/a', headers: { 'x-retry': 2, accept: ['a', 'b'], bad: {} } },
        response: { status: 503 },
      },
      { request: { method: 'GET', path: '/b' }, statusCode: '500' },
      { request: { method: 'GET', path: '/c', status: 504 } },
    ].map((o) => JSON.stringify(o));
    expect(extractRequests(lines.join('\n'))).toEqual([
      { method: 'POST', path: '/a', headers: { 'x-retry': '2', accept: 'a, b' }, status: 503 },
      { method: 'GET', path: '/b', status: 500 },
      { method: 'GET', path: '/c', status: 504 },
    ]);
  });

  it('keeps a request without status only when its line is an error, and drops duplicates', () => {
    const lines = [
      { level: 'info', msg: 'request received', request: { method: 'GET', path: '/info' } },
      { level: 'error', msg: 'boom', request: { method: 'GET', path: '/err' } },
      { level: 50, request: { method: 'GET', path: '/pino' } },
      { msg: 'crash', traceback: 'Traceback …', request: { method: 'GET', path: '/tb' } },
      { level: 'error', status: 404, request: { method: 'GET', path: '/missing' } },
      { level: 'error', status: 500, request: { method: 'GET', path: '/err' } },
    ].map((o) => JSON.stringify(o));
    expect(extractRequests(lines.join('\n')).map((r) => r.path)).toEqual(['/err', '/pino', '/tb']);
  });

  it('ignores malformed request objects and garbage', () => {
    const lines = [
      'not json',
      '{"request": "GET /x"}',
      '{"request": {"path": "/no-method"}, "status": 500}',
      '{"request": {"method": "GET"}, "status": 500}',
      '{"request": {"method": 7, "path": "/x"}, "status": 500}',
      '{"request": null, "status": 500}',
      '{"request": {"method": "GET", "path": "/ok"}, "status": 99999}',
      '{truncated',
    ];
    expect(extractRequests(lines.join('\n'))).toEqual([]);
    expect(extractRequests('')).toEqual([]);
  });
});
