/**
 * The local backend's traffic splitter: an in-process HTTP proxy that sends `weight`% of requests to the
 * canary and the rest to stable, and exports per-version counters (suture_requests_total,
 * suture_request_errors_total) on a separate metrics port for Prometheus to scrape. A 5xx answer or a failed
 * upstream connection counts as an error. The split is deterministic (a credit counter, not a coin flip) so
 * a canary at 10% gets exactly every tenth request and quiet services still see the configured share.
 */
import { Agent, createServer, type IncomingMessage, request, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Registry } from 'prom-client';
import { ERRORS_METRIC, REQUESTS_METRIC } from '../prometheus/queries.ts';

export interface Backend {
  /** Value of the `version` label, e.g. an image tag or pod-template hash. */
  version: string;
  port: number;
  host?: string;
}

export interface RouterOptions {
  service: string;
  stable: Backend;
  canary?: Backend | null;
  /** Percent of traffic to the canary, 0–100. */
  weight?: number;
  /** Listen ports on 127.0.0.1; 0 or absent = any free port. */
  port?: number;
  metricsPort?: number;
  upstreamTimeoutMs?: number;
}

export interface Router {
  readonly url: string;
  readonly port: number;
  readonly metricsUrl: string;
  /** host:port of the metrics endpoint, as a Prometheus scrape target. */
  readonly metricsTarget: string;
  readonly registry: Registry;
  weight(): number;
  setWeight(percent: number): void;
  stable(): Backend;
  canary(): Backend | null;
  setStable(b: Backend): void;
  setCanary(b: Backend | null): void;
  close(): Promise<void>;
}

export async function startRouter(opts: RouterOptions): Promise<Router> {
  checkWeight(opts.weight ?? 0);
  const registry = new Registry();
  const requests = new Counter({
    name: REQUESTS_METRIC,
    help: 'Requests proxied by the suture router, per service version.',
    labelNames: ['service', 'version'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: ERRORS_METRIC,
    help: 'Requests answered 5xx or failed upstream, per service version.',
    labelNames: ['service', 'version'] as const,
    registers: [registry],
  });
  // Series exist from the start at 0, so the first scrape is a baseline and no request is lost to it.
  const announce = (b: Backend) => {
    requests.labels(opts.service, b.version).inc(0);
    errors.labels(opts.service, b.version).inc(0);
  };
  let stable = opts.stable;
  let canary = opts.canary ?? null;
  let weight = opts.weight ?? 0;
  let credit = 0;
  announce(stable);
  if (canary) announce(canary);

  const pick = (): Backend => {
    if (!canary || weight <= 0) return stable;
    credit += weight;
    if (credit >= 100) {
      credit -= 100;
      return canary;
    }
    return stable;
  };

  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const timeout = opts.upstreamTimeoutMs ?? 10_000;
  const proxy = (req: IncomingMessage, res: ServerResponse) => {
    const target = pick();
    const count = (failed: boolean) => {
      requests.labels(opts.service, target.version).inc();
      if (failed) errors.labels(opts.service, target.version).inc();
    };
    const up = request(
      {
        host: target.host ?? '127.0.0.1',
        port: target.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, 'x-suture-version': target.version },
        agent,
        timeout,
      },
      (upRes) => {
        count((upRes.statusCode ?? 502) >= 500);
        res.writeHead(upRes.statusCode ?? 502, { ...upRes.headers, 'x-suture-version': target.version });
        upRes.pipe(res);
      },
    );
    up.on('timeout', () => up.destroy(new Error('upstream timeout')));
    up.on('error', (err) => {
      if (res.headersSent) {
        res.destroy(err);
        return;
      }
      count(true);
      res.writeHead(502, { 'content-type': 'text/plain', 'x-suture-version': target.version });
      res.end(`suture router: ${target.version} unreachable: ${err.message}\n`);
    });
    req.pipe(up);
  };

  const metrics = async (req: IncomingMessage, res: ServerResponse) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': registry.contentType });
    res.end(await registry.metrics());
  };

  const proxyServer = await listen(createServer(proxy), opts.port ?? 0);
  const metricsServer = await listen(
    createServer((req, res) => void metrics(req, res)),
    opts.metricsPort ?? 0,
  );
  const port = (proxyServer.address() as AddressInfo).port;
  const metricsPort = (metricsServer.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    metricsTarget: `127.0.0.1:${metricsPort}`,
    registry,
    weight: () => weight,
    setWeight(p) {
      checkWeight(p);
      weight = p;
      credit = 0;
    },
    stable: () => stable,
    canary: () => canary,
    setStable(b) {
      stable = b;
      announce(b);
    },
    setCanary(b) {
      canary = b;
      if (b) announce(b);
    },
    async close() {
      agent.destroy();
      await Promise.all([closeServer(proxyServer), closeServer(metricsServer)]);
    },
  };
}

function checkWeight(p: number): void {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw new RangeError(`canary weight must be 0–100, got ${p}`);
}

function listen(server: Server, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}
