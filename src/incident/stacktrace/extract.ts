/**
 * Finds stack traces and failing requests in raw log text: plain-text tracebacks between log lines, and
 * traces embedded (escaped) in JSON log lines under any field (`traceback`, `exception`, `exc_info`,
 * `stack`, `err.stack`, a `message` holding a trace, …). Never throws on garbage.
 */
import type { ParsedTrace, RequestSample } from '../types.ts';
import { findNodeTraces } from './node.ts';
import { type FoundTrace, findPythonTraces } from './python.ts';

/** Every trace in the log, in order of appearance; the language is detected per trace. */
export function extractTraces(logText: string): ParsedTrace[] {
  const out: ParsedTrace[] = [];
  let plain: string[] = [];
  const flushPlain = () => {
    if (plain.length) out.push(...tracesInText(plain.join('\n')));
    plain = [];
  };
  for (const raw of splitLines(logText)) {
    const line = raw.replace(RUNTIME_PREFIX, '');
    const record = parseJsonLine(line);
    if (record !== undefined) {
      flushPlain();
      out.push(...dedupe(stringsIn(record).flatMap(tracesInText)));
    } else if (ESCAPED_TRACE.test(line)) {
      // logfmt and friends: `error="Traceback (most recent call last):\n  File …"` on one line.
      flushPlain();
      const quoted = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!).filter((q) => ESCAPED_TRACE.test(q));
      out.push(...(quoted.length ? quoted : [line]).flatMap((q) => tracesInText(unescapeValue(q))));
    } else {
      plain.push(line);
    }
  }
  flushPlain();
  return out;
}

/** Timestamps that container runtimes put before every line (`kubectl logs --timestamps`, CRI `stderr F`). */
const RUNTIME_PREFIX = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d) (?:(?:stdout|stderr) [FP] )?/;
const ESCAPED_TRACE = /Traceback \(most recent call last\):\\n|\\n\s*at /;

function unescapeValue(line: string): string {
  return line.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_m, c: string) => {
    if (c.length > 1) return String.fromCharCode(Number.parseInt(c.slice(1), 16));
    return c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '' : c;
  });
}

/** Failing requests (5xx, or an error line without a status) carried as a `request`/`req` object in JSON lines. */
export function extractRequests(logText: string): RequestSample[] {
  const out: RequestSample[] = [];
  const seen = new Set<string>();
  for (const line of splitLines(logText)) {
    const record = parseJsonLine(line);
    if (!isObject(record)) continue;
    const sample = requestFrom(record);
    if (!sample) continue;
    if (sample.status !== undefined ? sample.status < 500 : !looksLikeError(record)) continue;
    const key = JSON.stringify([sample.method, sample.path, sample.body ?? null]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(sample);
  }
  return out;
}

/** Python and Node traces in a block of plain text, ordered by where they start. */
function tracesInText(text: string): ParsedTrace[] {
  if (!/Traceback \(most recent call last\)|\n\s*at\s/.test(text)) return [];
  const python = findPythonTraces(text);
  const taken = new Set<number>();
  for (const f of python) for (let l = f.start; l < f.end; l++) taken.add(l);
  const node = findNodeTraces(text, (l) => taken.has(l));
  return [...python, ...node].sort((a: FoundTrace, b: FoundTrace) => a.start - b.start).map((f) => f.trace);
}

function splitLines(text: unknown): string[] {
  return typeof text === 'string' ? text.split(/\r?\n/) : [];
}

/** A JSON object on one line, possibly after a prefix such as a timestamp or `stdout F` (container runtimes). */
function parseJsonLine(line: string): unknown {
  const brace = line.indexOf('{');
  if (brace < 0 || !line.trimEnd().endsWith('}')) return undefined;
  try {
    const value: unknown = JSON.parse(line.slice(brace));
    return isObject(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** All string values in a JSON value, depth first in key order; strings that are JSON objects are opened. */
function stringsIn(value: unknown, depth = 0): string[] {
  if (depth > 20) return [];
  if (typeof value === 'string') {
    const nested = value.trimStart().startsWith('{') ? parseJsonLine(value.trim()) : undefined;
    return nested === undefined ? [value] : stringsIn(nested, depth + 1);
  }
  if (Array.isArray(value)) {
    // python-json-logger and others sometimes log a traceback as a list of lines.
    if (value.length > 1 && value.every((v) => typeof v === 'string')) return [value.join('')];
    return value.flatMap((v) => stringsIn(v, depth + 1));
  }
  if (isObject(value)) return Object.values(value).flatMap((v) => stringsIn(v, depth + 1));
  return [];
}

/** The same trace under two fields of one record (e.g. `message` and `exc_info`) counts once. */
function dedupe(traces: ParsedTrace[]): ParsedTrace[] {
  const seen = new Set<string>();
  return traces.filter((t) => {
    const key = JSON.stringify(t);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function requestFrom(record: Record<string, unknown>): RequestSample | undefined {
  const req = record['request'] ?? record['req'];
  if (!isObject(req)) return undefined;
  const method = req['method'];
  const target = req['path'] ?? req['url'];
  if (typeof method !== 'string' || !method.trim() || typeof target !== 'string' || !target.trim()) return undefined;
  const sample: RequestSample = { method: method.trim().toUpperCase(), path: pathOf(target.trim()) };
  const headers = headersOf(req['headers']);
  if (headers) sample.headers = headers;
  const body = req['body'];
  if (typeof body === 'string') sample.body = body;
  else if (body !== undefined && body !== null) sample.body = JSON.stringify(body);
  const status = statusOf(record, req);
  if (status !== undefined) sample.status = status;
  return sample;
}

/** Absolute URLs keep only path and query: replays go to the sandboxed service, not the original host. */
function pathOf(target: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return target;
  try {
    const url = new URL(target);
    return url.pathname + url.search;
  } catch {
    return target;
  }
}

function headersOf(value: unknown): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, v] of Object.entries(value)) {
    if (typeof v === 'string') headers[name] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') headers[name] = String(v);
    else if (Array.isArray(v)) headers[name] = v.map(String).join(', ');
  }
  return headers;
}

function statusOf(record: Record<string, unknown>, req: Record<string, unknown>): number | undefined {
  const response = record['response'] ?? record['res'];
  const candidates = [
    record['status'],
    record['statusCode'],
    record['status_code'],
    isObject(response) ? response['status'] : undefined,
    isObject(response) ? response['statusCode'] : undefined,
    req['status'],
    req['statusCode'],
  ];
  for (const c of candidates) {
    const n = typeof c === 'string' && /^\d{3}$/.test(c) ? Number(c) : c;
    if (typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599) return n;
  }
  return undefined;
}

/** pino levels ≥ 50, level names error/critical/fatal, or a record that carries an error or trace. */
function looksLikeError(record: Record<string, unknown>): boolean {
  const level = record['level'] ?? record['levelname'] ?? record['severity'] ?? record['log.level'];
  if (typeof level === 'number' && level >= 50) return true;
  if (typeof level === 'string' && /^(?:error|err|critical|crit|fatal|alert|emerg(?:ency)?)$/i.test(level)) return true;
  return ['err', 'error', 'exception', 'exc_info', 'traceback', 'stack', 'stack_trace'].some(
    (k) => record[k] !== undefined && record[k] !== null && record[k] !== false,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
