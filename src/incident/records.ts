/**
 * One log or capture record → the HTTP request it describes and the status it was answered with. Pure,
 * never throws on garbage. Loggers and proxies spell the same facts differently, so fields are found by
 * name rather than by one logger's layout: keys compare case- and separator-insensitively, and a path
 * matches nested objects and flat dotted or underscored keys alike (`http.request.method`,
 * `{"http": {"request": {"method": …}}}`, `request_method` and `{"request": {"method": …}}` are one field).
 * Recognised, among others: a `request`/`req` object (pino, bunyan, suture's own crash logs), GCP's
 * `httpRequest`, ECS/OpenTelemetry `http.*` with `url.*`, top-level `method` + `path`/`url` + `status`
 * (structlog, python-json-logger, lograge, envoy's JSON access log), nginx's `request` line with `status`,
 * and the combined/common access-log text line.
 */
import type { RequestSample } from './types.ts';

type Json = Record<string, unknown>;

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const norm = (key: string) => key.toLowerCase().replace(/[^a-z0-9]/g, '');

/** Normalised keys, computed once per object: a record is looked up along a few dozen paths. */
const normalised = new WeakMap<Json, [string, unknown][]>();
function entriesOf(value: Json): [string, unknown][] {
  let entries = normalised.get(value);
  if (!entries) {
    entries = Object.entries(value).map(([k, v]) => [norm(k), v]);
    normalised.set(value, entries);
  }
  return entries;
}

/**
 * The value at `path` (normalised segments) in `value`; a key may span several segments
 * (`http.status_code` is ['http', 'statuscode']). The first key, in the record's order, that leads to a
 * defined value wins.
 */
export function lookup(value: unknown, path: readonly string[], depth = 0): unknown {
  if (path.length === 0) return value;
  if (!isObject(value) || depth > 8) return undefined;
  for (const [k, child] of entriesOf(value)) {
    let joined = '';
    for (let i = 0; i < path.length; i++) {
      joined += path[i];
      if (!k.startsWith(joined)) break;
      if (k !== joined) continue;
      const found = lookup(child, path.slice(i + 1), depth + 1);
      if (found !== undefined) return found;
      break;
    }
  }
  return undefined;
}

/** Where a record keeps its request, most specific first; [] is the record itself. */
const CONTAINERS: readonly (readonly string[])[] = [
  ['request'],
  ['req'],
  ['httprequest'],
  ['http', 'request'],
  ['http'],
  [],
];
const METHOD_KEYS = [['method'], ['requestmethod'], ['httpmethod'], ['verb']];
const TARGET_KEYS = [['path'], ['url'], ['requesturi'], ['uri'], ['originalurl'], ['requesturl'], ['target']];
const STATUS_PATHS: readonly (readonly string[])[] = [
  ['status'],
  ['statuscode'],
  ['responsecode'],
  ['responsestatus'],
  ['httpstatus'],
  ['http', 'statuscode'],
  ['http', 'response', 'statuscode'],
  ['response', 'status'],
  ['response', 'statuscode'],
  ['res', 'statuscode'],
  ['res', 'status'],
  ['httprequest', 'status'],
  ['request', 'status'],
  ['request', 'statuscode'],
  ['req', 'status'],
  ['req', 'statuscode'],
  // bunyan's default `res` serialiser: the raw response head, `HTTP/1.1 200 OK\r\n…`
  ['res'],
  ['response'],
];

/** Methods accepted from a record's top level, where `method` may mean something else than HTTP. */
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);
const METHOD_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,16}$/;
/** `GET /a?b=1 HTTP/1.1` (nginx `$request`, the quoted field of an access-log line). */
const REQUEST_LINE = /^([A-Za-z]{1,16}) (\S+)(?: HTTP\/\d(?:\.\d)?)?$/;

/** Absolute URLs keep only path and query: replays go to the sandboxed service, not the original host. */
export function pathOf(target: string): string | undefined {
  if (target.startsWith('/')) return target;
  if (!/^https?:\/\//i.test(target)) return undefined;
  try {
    const url = new URL(target);
    return url.pathname + url.search;
  } catch {
    return undefined;
  }
}

/** A target as a string or as ECS's `url` object ({original} or {path, query} or {full}). */
function targetOf(value: unknown): string | undefined {
  if (typeof value === 'string') return pathOf(value.trim());
  if (!isObject(value)) return undefined;
  const original = value['original'];
  if (typeof original === 'string' && pathOf(original)) return pathOf(original);
  const path = value['path'];
  if (typeof path === 'string' && path.startsWith('/')) {
    const query = value['query'];
    return typeof query === 'string' && query ? `${path}?${query.replace(/^\?/, '')}` : path;
  }
  return typeof value['full'] === 'string' ? pathOf(value['full']) : undefined;
}

export function headersOf(value: unknown): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  const put = (name: unknown, v: unknown) => {
    if (typeof name !== 'string') return;
    if (typeof v === 'string') headers[name] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') headers[name] = String(v);
    else if (Array.isArray(v)) headers[name] = v.map(String).join(', ');
  };
  if (isObject(value)) {
    for (const [name, v] of Object.entries(value)) put(name, v);
  } else if (Array.isArray(value)) {
    // HAR and some loggers: [{name, value}, …]
    for (const h of value) if (isObject(h)) put(h['name'], h['value']);
  } else {
    return undefined;
  }
  return headers;
}

export function statusOf(value: unknown): number | undefined {
  let n = value;
  if (typeof value === 'string') {
    const m = /^\s*(\d{3})\s*$/.exec(value) ?? /^HTTP\/\d(?:\.\d)? (\d{3})\b/.exec(value);
    n = m ? Number(m[1]) : undefined;
  }
  return typeof n === 'number' && Number.isInteger(n) && n >= 100 && n <= 599 ? n : undefined;
}

/** The body as sent; null when it cannot be serialised (nested past what JSON.stringify can recurse into). */
function bodyOf(value: unknown): string | undefined | null {
  if (typeof value === 'string') return value;
  if (value === undefined || value === null) return undefined;
  try {
    return JSON.stringify(value);
  } catch {
    return null;
  }
}

/** The first defined result of `fn` over `items`. */
function first<T, R>(items: readonly T[], fn: (item: T) => R | undefined): R | undefined {
  for (const item of items) {
    const r = fn(item);
    if (r !== undefined) return r;
  }
  return undefined;
}

function methodAndTarget(record: Json, container: readonly string[]): [string, string] | undefined {
  const whole = container.length ? lookup(record, container) : undefined;
  if (typeof whole === 'string') {
    const m = REQUEST_LINE.exec(whole.trim());
    const target = m ? pathOf(m[2]!) : undefined;
    return m && target ? [m[1]!, target] : undefined;
  }
  const method = first(METHOD_KEYS, (k) => {
    const v = lookup(record, [...container, ...k]);
    return typeof v === 'string' ? v.trim() : undefined;
  });
  if (!method) return undefined;
  // ECS keeps the method under http.request and the URL beside it, under url.
  const target =
    first(TARGET_KEYS, (k) => targetOf(lookup(record, [...container, ...k]))) ?? targetOf(lookup(record, ['url']));
  return target ? [method, target] : undefined;
}

/** The request a structured record describes, with its status when the record gives one. */
export function requestInRecord(record: Json): RequestSample | undefined {
  for (const container of CONTAINERS) {
    const found = methodAndTarget(record, container);
    if (!found) continue;
    const method = found[0].toUpperCase();
    if (!METHOD_TOKEN.test(method) || (container.length === 0 && !HTTP_METHODS.has(method))) continue;
    const sample: RequestSample = { method, path: found[1] };
    const headers = headersOf(lookup(record, [...container, 'headers']));
    if (headers) sample.headers = headers;
    const body = bodyOf(lookup(record, [...container, 'body']));
    // A request that cannot be written down again cannot be replayed.
    if (body === null) return undefined;
    if (body !== undefined) sample.body = body;
    const status = first(STATUS_PATHS, (p) => statusOf(lookup(record, p)));
    if (status !== undefined) sample.status = status;
    return sample;
  }
  return undefined;
}

/**
 * The combined/common access-log line (Apache, nginx's default, most proxies): `… [time] "GET /p HTTP/1.1"
 * 200 …`, anywhere in the line (a vhost or runtime prefix before it is fine). No headers, no body.
 */
const ACCESS_LINE = /\[[^\]\n]{1,64}\] "([A-Za-z]{1,16}) (\S{1,16384}) HTTP\/\d(?:\.\d)?" (\d{3})(?: |$)/;

export function requestInAccessLine(line: string): RequestSample | undefined {
  const m = ACCESS_LINE.exec(line);
  const path = m ? pathOf(m[2]!) : undefined;
  if (!m || !path) return undefined;
  return { method: m[1]!.toUpperCase(), path, status: Number(m[3]) };
}
