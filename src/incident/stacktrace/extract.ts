/**
 * Finds stack traces and failing requests in raw log text: plain-text tracebacks between log lines, and
 * traces embedded (escaped) in JSON log lines under any field (`traceback`, `exception`, `exc_info`,
 * `stack`, `err.stack`, a `message` holding a trace, …). Never throws on garbage.
 */
import { isObject, requestInAccessLine, requestInRecord } from '../records.ts';
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

/** Failing requests (5xx, or an error line without a status) carried by JSON log lines (../records.ts). */
export function extractRequests(logText: string): RequestSample[] {
  const out: RequestSample[] = [];
  const seen = new Set<string>();
  for (const line of splitLines(logText)) {
    if (!MAY_HOLD_REQUEST.test(line)) continue;
    const found = requestOfLine(parseJsonLine(line));
    if (!found) continue;
    const [record, sample] = found;
    if (sample.status !== undefined ? sample.status < 500 : !looksLikeError(record)) continue;
    const key = JSON.stringify([sample.method, sample.path, sample.body ?? null]);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(sample);
  }
  return out;
}

/**
 * Requests answered 2xx in production, from JSON log lines (pino/bunyan `req`/`res`, structlog-style
 * `method`/`path`/`status`, nginx/envoy JSON access logs, …: ../records.ts) and combined/common
 * access-log lines, in log order. Raw: intake's selection sanitises, bounds and de-duplicates them.
 */
export function extractHealthyRequests(logText: string): RequestSample[] {
  const out: RequestSample[] = [];
  for (const raw of splitLines(logText)) {
    const line = raw.replace(RUNTIME_PREFIX, '');
    const record = MAY_HOLD_REQUEST.test(line) ? parseJsonLine(line) : undefined;
    const sample = record === undefined ? requestInAccessLine(line) : requestOfLine(record)?.[1];
    if (sample?.status !== undefined && sample.status >= 200 && sample.status < 300) out.push(sample);
  }
  return out;
}

/** Every request shape ../records.ts reads names a method, a verb or a req(uest): most log lines are skipped unparsed. */
const MAY_HOLD_REQUEST = /method|verb|req/i;

/** The request in a JSON line, or in a JSON object held as a string field (Docker's `{"log": "{…}\n"}`). */
function requestOfLine(record: unknown, depth = 0): [Record<string, unknown>, RequestSample] | undefined {
  if (!isObject(record)) return undefined;
  const sample = requestInRecord(record);
  if (sample) return [record, sample];
  if (depth > 1) return undefined;
  for (const value of Object.values(record)) {
    const inner =
      typeof value === 'string' && value.trimStart().startsWith('{') ? parseJsonLine(value.trim()) : undefined;
    const found = inner === undefined ? undefined : requestOfLine(inner, depth + 1);
    if (found) return found;
  }
  return undefined;
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

/** pino levels ≥ 50, level names error/critical/fatal, or a record that carries an error or trace. */
function looksLikeError(record: Record<string, unknown>): boolean {
  const level = record['level'] ?? record['levelname'] ?? record['severity'] ?? record['log.level'];
  if (typeof level === 'number' && level >= 50) return true;
  if (typeof level === 'string' && /^(?:error|err|critical|crit|fatal|alert|emerg(?:ency)?)$/i.test(level)) return true;
  return ['err', 'error', 'exception', 'exc_info', 'traceback', 'stack', 'stack_trace'].some(
    (k) => record[k] !== undefined && record[k] !== null && record[k] !== false,
  );
}
