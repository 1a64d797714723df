/**
 * `suture serve`'s HTTP server: node:http with a tiny exact-path router, JSON in and out, a body size cap,
 * bearer-token authentication and per-route request metrics. Features plug in as route registrars
 * (`(server) => void`) so the Alertmanager receiver (POST /alerts) and anything later can be added without
 * touching this file. Every route needs the token unless it is registered `public` (only /healthz is).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import { errorMessage, SutureError } from '../errors.ts';
import { bearerCredential, isLoopbackHost, tokenMatches, tokenProblem } from './auth.ts';
import { HttpError } from './http-error.ts';

export { HttpError };

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface RouteRequest {
  method: Method;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  /** Raw body (empty for GET). */
  body: Buffer;
  /** The body parsed as JSON; throws a 400-mapped InputError when it is not JSON. */
  json(): unknown;
}

export interface RouteResponse {
  status: number;
  /** Serialised as JSON unless `text` is given. */
  json?: unknown;
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export type RouteHandler = (req: RouteRequest) => RouteResponse | Promise<RouteResponse>;

export interface RouteOptions {
  /** Served without the token (liveness probes). */
  public?: boolean;
}

export interface SutureServer {
  readonly url: string;
  readonly port: number;
  /** Registry behind GET /metrics; routes add their own metrics here. */
  readonly registry: Registry;
  route(method: Method, path: string, handler: RouteHandler, opts?: RouteOptions): void;
  /** Work to finish or stop when the server closes (e.g. running heals); run in registration order. */
  onClose(fn: () => Promise<void> | void): void;
  close(): Promise<void>;
}

/** A feature that adds routes (and metrics) to the server, e.g. registerJudgeRoute. */
export type RouteRegistrar = (server: SutureServer) => void;

export interface ServerOptions {
  port?: number;
  host?: string;
  maxBodyBytes?: number;
  routes?: RouteRegistrar[];
  /**
   * The bearer token every non-public route requires. Without one the server only listens on loopback
   * (anyone on this machine can call it) and refuses any other address.
   */
  token?: string;
}

export async function startSutureServer(opts: ServerOptions = {}): Promise<SutureServer> {
  const host = opts.host ?? '127.0.0.1';
  const token = opts.token;
  if (token !== undefined) {
    const problem = tokenProblem(token);
    if (problem) throw new SutureError('USAGE', problem);
  } else if (!isLoopbackHost(host)) {
    throw new SutureError(
      'USAGE',
      // (no `token: …` in the wording: the redactor would take what follows for a secret)
      `listening on ${host} (beyond loopback) needs a bearer token (--token-file FILE or SUTURE_TOKEN)`,
    );
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'suture_' });
  const requests = new Counter({
    name: 'suture_http_requests_total',
    help: 'HTTP requests served by suture serve, per route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'suture_requests_rejected_total',
    help: 'Requests refused with a 4xx, per route and reason (unauthorized, body_too_large, bad_input, queue_full, …).',
    labelNames: ['route', 'reason'] as const,
    registers: [registry],
  });
  const routes = new Map<string, { handler: RouteHandler; public: boolean }>();
  const closers: Array<() => Promise<void> | void> = [];
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = splitTarget(req.url ?? '/');
      const method = (req.method ?? 'GET') as Method;
      const entry = routes.get(`${method} ${url.pathname}`);
      const known = [...routes.keys()].some((k) => k.endsWith(` ${url.pathname}`));
      const routeLabel = known ? url.pathname : 'unknown';
      let out: RouteResponse;
      try {
        // Authentication comes before anything else, reading the body included: a caller without the token
        // learns nothing (not even which paths exist) and costs no buffering.
        const isPublic = entry?.public ?? [...routes].some(([k, r]) => r.public && k.endsWith(` ${url.pathname}`));
        if (token !== undefined && !isPublic && !tokenMatches(token, bearerCredential(req.headers.authorization))) {
          throw new HttpError(401, 'missing or wrong bearer token', {
            reason: 'unauthorized',
            headers: { 'www-authenticate': 'Bearer realm="suture"' },
          });
        }
        if (!entry) {
          throw known
            ? new HttpError(405, `method ${method} not allowed on ${url.pathname}`, { reason: 'method' })
            : new HttpError(404, `no route ${url.pathname}`, { reason: 'not_found' });
        }
        const body = await readBody(req, maxBody);
        out = await entry.handler({
          method,
          path: url.pathname,
          query: url.searchParams,
          headers: req.headers,
          body,
          json: () => parseJson(body),
        });
      } catch (err) {
        out = errorResponse(err);
        if (out.status < 500) rejected.labels(routeLabel, rejectionReason(err)).inc();
      }
      // Whatever of the body was not read is thrown away unbuffered (and the connection closed) so the
      // client still gets the answer.
      if (!req.complete) discard(req, maxBody, res);
      requests.labels(method, routeLabel, String(out.status)).inc();
      const payload = out.text ?? `${JSON.stringify(out.json ?? null)}\n`;
      res.writeHead(out.status, {
        ...out.headers,
        'content-type': out.contentType ?? (out.text !== undefined ? 'text/plain; charset=utf-8' : 'application/json'),
        'content-length': Buffer.byteLength(payload),
      });
      res.end(payload);
    })().catch(() => {
      // Nothing above should throw; if it does, this request fails, not the server.
      if (!res.headersSent) res.writeHead(500, { connection: 'close' });
      res.end();
    });
  });
  // Slow clients may not hold connections (and their half-read bodies) for long.
  server.headersTimeout = 20_000;
  server.requestTimeout = 60_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new SutureError('USAGE', `port ${opts.port} is already in use: pick another with --port`)
          : err,
      ),
    );
    server.listen(opts.port ?? 8080, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  let closing: Promise<void> | undefined;
  const self: SutureServer = {
    url: `http://${shown === '0.0.0.0' ? '127.0.0.1' : shown === '[::]' ? '[::1]' : shown}:${addr.port}`,
    port: addr.port,
    registry,
    route(method, path, handler, routeOpts = {}) {
      const key = `${method} ${path}`;
      if (routes.has(key)) throw new Error(`route ${key} registered twice`);
      routes.set(key, { handler, public: routeOpts.public === true });
    },
    onClose(fn) {
      closers.push(fn);
    },
    close: () => {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        for (const fn of closers) await fn();
        await stopped;
      })();
      return closing;
    },
  };
  registerCoreRoutes(self);
  for (const register of opts.routes ?? []) register(self);
  return self;
}

/** GET /healthz (public: probes carry no token) and GET /metrics (token-protected like everything else). */
function registerCoreRoutes(server: SutureServer): void {
  server.route('GET', '/healthz', () => ({ status: 200, json: { ok: true } }), { public: true });
  server.route('GET', '/metrics', async () => ({
    status: 200,
    text: await server.registry.metrics(),
    contentType: server.registry.contentType,
  }));
}

/**
 * The request target as the router sees it: the path exactly as sent (no URL resolution, so `//x`,
 * `/a/../alerts` or `/%61lerts` are simply unknown paths, and nothing in it can throw) and the query.
 */
function splitTarget(target: string): { pathname: string; searchParams: URLSearchParams } {
  const q = target.indexOf('?');
  return {
    pathname: q < 0 ? target : target.slice(0, q),
    searchParams: new URLSearchParams(q < 0 ? '' : target.slice(q + 1)),
  };
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, `body larger than ${max} bytes`, { reason: 'body_too_large' });
  if (Number(req.headers['content-length'] ?? 0) > max) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= max) return void chunks.push(c);
      // Past the cap nothing more is kept; the rest is discarded by the caller.
      req.off('data', onData);
      req.pause();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Reads and drops the rest of a body, up to 16× the cap (then hangs up), and closes the connection after. */
function discard(req: IncomingMessage, max: number, res: { setHeader(k: string, v: string): void }): void {
  res.setHeader('connection', 'close');
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > Math.max(max * 16, 1 << 20)) req.destroy();
  });
  req.on('error', () => undefined);
  req.resume();
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON', { reason: 'bad_json' });
  }
}

/** Bad input → 400, an upstream (Prometheus) failure → 502, anything else → 500; always one-line JSON. */
function errorResponse(err: unknown): RouteResponse {
  if (err instanceof HttpError) return { status: err.status, json: { error: err.message }, headers: err.headers };
  if (err instanceof SutureError) {
    return { status: err.exitCode === 2 ? 400 : 502, json: { error: errorMessage(err), code: err.code } };
  }
  return { status: 500, json: { error: `internal error: ${errorMessage(err)}` } };
}

function rejectionReason(err: unknown): string {
  return err instanceof HttpError ? err.reason : 'bad_input';
}
