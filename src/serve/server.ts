/**
 * `suture serve`'s HTTP server: node:http with a tiny exact-path router, JSON in and out, a body size cap,
 * and per-route request metrics. Features plug in as route registrars (`(server) => void`) so the Alertmanager
 * receiver (POST /alerts) and anything later can be added without touching this file.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, collectDefaultMetrics, Registry } from 'prom-client';
import { errorMessage, SutureError } from '../errors.ts';

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
}

export type RouteHandler = (req: RouteRequest) => RouteResponse | Promise<RouteResponse>;

export interface SutureServer {
  readonly url: string;
  readonly port: number;
  /** Registry behind GET /metrics; routes add their own metrics here. */
  readonly registry: Registry;
  route(method: Method, path: string, handler: RouteHandler): void;
  close(): Promise<void>;
}

/** A feature that adds routes (and metrics) to the server, e.g. registerJudgeRoute. */
export type RouteRegistrar = (server: SutureServer) => void;

export interface ServerOptions {
  port?: number;
  host?: string;
  maxBodyBytes?: number;
  routes?: RouteRegistrar[];
}

export async function startSutureServer(opts: ServerOptions = {}): Promise<SutureServer> {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'suture_' });
  const requests = new Counter({
    name: 'suture_http_requests_total',
    help: 'HTTP requests served by suture serve, per route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const routes = new Map<string, RouteHandler>();
  const maxBody = opts.maxBodyBytes ?? 1024 * 1024;

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://suture.invalid');
      const method = (req.method ?? 'GET') as Method;
      const handler = routes.get(`${method} ${url.pathname}`);
      let out: RouteResponse;
      let routeLabel = url.pathname;
      if (!handler) {
        const known = [...routes.keys()].some((k) => k.endsWith(` ${url.pathname}`));
        routeLabel = known ? url.pathname : 'unknown';
        out = known
          ? { status: 405, json: { error: `method ${method} not allowed on ${url.pathname}` } }
          : { status: 404, json: { error: `no route ${url.pathname}` } };
        req.resume();
      } else {
        try {
          const body = await readBody(req, maxBody);
          out = await handler({
            method,
            path: url.pathname,
            query: url.searchParams,
            headers: req.headers,
            body,
            json: () => parseJson(body),
          });
        } catch (err) {
          out = errorResponse(err);
        }
      }
      requests.labels(method, routeLabel, String(out.status)).inc();
      const payload = out.text ?? `${JSON.stringify(out.json ?? null)}\n`;
      res.writeHead(out.status, {
        'content-type': out.contentType ?? (out.text !== undefined ? 'text/plain; charset=utf-8' : 'application/json'),
        'content-length': Buffer.byteLength(payload),
      });
      res.end(payload);
    })();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new SutureError('USAGE', `port ${opts.port} is already in use: pick another with --port`)
          : err,
      ),
    );
    server.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const self: SutureServer = {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${addr.port}`,
    port: addr.port,
    registry,
    route(method, path, handler) {
      const key = `${method} ${path}`;
      if (routes.has(key)) throw new Error(`route ${key} registered twice`);
      routes.set(key, handler);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  registerCoreRoutes(self);
  for (const register of opts.routes ?? []) register(self);
  return self;
}

/** GET /healthz and GET /metrics. */
function registerCoreRoutes(server: SutureServer): void {
  server.route('GET', '/healthz', () => ({ status: 200, json: { ok: true } }));
  server.route('GET', '/metrics', async () => ({
    status: 200,
    text: await server.registry.metrics(),
    contentType: server.registry.contentType,
  }));
}

/** An error with the HTTP status to answer; handlers may throw it too. */
export class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Past the cap the rest is drained, not kept, so the client still gets its 413; far past it, hang up.
      if (size <= max) chunks.push(c);
      else if (size > Math.max(max * 16, 1 << 20)) req.destroy();
    });
    req.on('end', () =>
      size > max ? reject(new HttpError(413, `body larger than ${max} bytes`)) : resolve(Buffer.concat(chunks)),
    );
    req.on('error', reject);
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'body is not valid JSON');
  }
}

/** Bad input → 400, an upstream (Prometheus) failure → 502, anything else → 500; always one-line JSON. */
function errorResponse(err: unknown): RouteResponse {
  if (err instanceof HttpError) return { status: err.status, json: { error: err.message } };
  if (err instanceof SutureError) {
    return { status: err.exitCode === 2 ? 400 : 502, json: { error: errorMessage(err), code: err.code } };
  }
  return { status: 500, json: { error: `internal error: ${errorMessage(err)}` } };
}
