/**
 * A small client for the Prometheus HTTP API (`/api/v1/query`, `/api/v1/query_range`). Every failure comes
 * back as a PrometheusError whose `kind` says what to fix: the server is unreachable or slow, the query is
 * wrong (Prometheus' own `bad_data` message is kept), or the answer is not what the API documents.
 */
import { SutureError } from '../../errors.ts';

export type PrometheusErrorKind = 'unreachable' | 'timeout' | 'bad_query' | 'server' | 'bad_response';

export class PrometheusError extends SutureError {
  readonly kind: PrometheusErrorKind;
  /** Prometheus' `errorType` (bad_data, execution, timeout, ...) when it sent one. */
  readonly errorType: string | undefined;
  readonly status: number | undefined;

  constructor(
    kind: PrometheusErrorKind,
    message: string,
    extra: { errorType?: string; status?: number; cause?: unknown } = {},
  ) {
    // A bad query is the caller's input to fix (exit 2); everything else is the server or the network.
    super(kind === 'bad_query' ? 'BAD_INPUT' : 'INTERNAL', message, { cause: extra.cause });
    this.name = 'PrometheusError';
    this.kind = kind;
    this.errorType = extra.errorType;
    this.status = extra.status;
  }
}

export interface Sample {
  metric: Record<string, string>;
  /** Unix seconds. */
  t: number;
  value: number;
}

export interface Series {
  metric: Record<string, string>;
  points: Array<{ t: number; value: number }>;
}

export interface PrometheusClient {
  readonly url: string;
  /** Instant query at `time` (unix seconds; default: the server's now). Vectors and scalars become samples. */
  instant(query: string, time?: number): Promise<Sample[]>;
  /** Range query over [start, end] (unix seconds) with `step` seconds between points. */
  range(query: string, start: number, end: number, step: number): Promise<Series[]>;
}

export interface PrometheusClientOptions {
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export function createPrometheusClient(url: string, opts: PrometheusClientOptions = {}): PrometheusClient {
  let base: URL;
  try {
    base = new URL(url.endsWith('/') ? url : `${url}/`);
  } catch (err) {
    throw new PrometheusError('bad_query', `not a Prometheus URL: ${url}`, { cause: err });
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new PrometheusError('bad_query', `Prometheus URL must be http(s): ${url}`);
  }
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const call = (path: string, params: Record<string, string>) =>
    callApi(new URL(path, base), params, timeoutMs, opts.headers ?? {});

  return {
    url: base.href.replace(/\/$/, ''),
    async instant(query, time) {
      const params: Record<string, string> = { query };
      if (time !== undefined) params.time = String(time);
      const data = await call('api/v1/query', params);
      return parseInstant(data);
    },
    async range(query, start, end, step) {
      if (!(step > 0)) throw new PrometheusError('bad_query', `range query step must be > 0 (got ${step})`);
      if (!(end >= start)) throw new PrometheusError('bad_query', `range query end ${end} is before start ${start}`);
      const data = await call('api/v1/query_range', {
        query,
        start: String(start),
        end: String(end),
        step: String(step),
      });
      return parseMatrix(data);
    },
  };
}

async function callApi(
  url: URL,
  params: Record<string, string>,
  timeoutMs: number,
  headers: Record<string, string>,
): Promise<unknown> {
  let res: Response;
  try {
    // POST with a form body: long PromQL does not hit URL length limits.
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    const name = err instanceof Error ? err.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') {
      throw new PrometheusError('timeout', `Prometheus at ${url.origin} did not answer within ${timeoutMs} ms`, {
        cause: err,
      });
    }
    throw new PrometheusError('unreachable', `cannot reach Prometheus at ${url.origin}: ${causeText(err)}`, {
      cause: err,
    });
  }
  const text = await res.text();
  let body: { status?: string; data?: unknown; errorType?: string; error?: string };
  try {
    body = JSON.parse(text);
  } catch {
    throw new PrometheusError(
      res.ok ? 'bad_response' : 'server',
      `Prometheus at ${url.origin} answered HTTP ${res.status} with non-JSON: ${text.slice(0, 120).trim()}`,
      { status: res.status },
    );
  }
  if (body.status !== 'success') {
    const errorType = body.errorType ?? 'unknown';
    const kind: PrometheusErrorKind =
      errorType === 'bad_data' ? 'bad_query' : errorType === 'timeout' ? 'timeout' : 'server';
    throw new PrometheusError(kind, `Prometheus ${errorType}: ${body.error ?? `HTTP ${res.status}`}`, {
      errorType,
      status: res.status,
    });
  }
  return body.data;
}

function causeText(err: unknown): string {
  const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

function num(v: unknown): number {
  // Prometheus encodes sample values as strings ("NaN", "+Inf" included).
  if (typeof v !== 'string' && typeof v !== 'number')
    throw new PrometheusError('bad_response', 'sample value is not a string');
  const n = Number(v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : v);
  if (Number.isNaN(n) && v !== 'NaN')
    throw new PrometheusError('bad_response', `sample value ${String(v)} is not a number`);
  return n;
}

function pair(v: unknown): { t: number; value: number } {
  if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'number') {
    throw new PrometheusError('bad_response', 'sample is not a [time, value] pair');
  }
  return { t: v[0], value: num(v[1]) };
}

function parseInstant(data: unknown): Sample[] {
  const d = data as { resultType?: string; result?: unknown };
  if (d?.resultType === 'scalar') return [{ metric: {}, ...pair(d.result) }];
  if (d?.resultType !== 'vector' || !Array.isArray(d.result)) {
    throw new PrometheusError('bad_response', `expected a vector or scalar result, got ${String(d?.resultType)}`);
  }
  return d.result.map((r: { metric?: Record<string, string>; value?: unknown }) => ({
    metric: r.metric ?? {},
    ...pair(r.value),
  }));
}

function parseMatrix(data: unknown): Series[] {
  const d = data as { resultType?: string; result?: unknown };
  if (d?.resultType !== 'matrix' || !Array.isArray(d.result)) {
    throw new PrometheusError('bad_response', `expected a matrix result, got ${String(d?.resultType)}`);
  }
  return d.result.map((r: { metric?: Record<string, string>; values?: unknown }) => {
    if (!Array.isArray(r.values)) throw new PrometheusError('bad_response', 'matrix series has no values');
    return { metric: r.metric ?? {}, points: r.values.map(pair) };
  });
}
