/**
 * A loopback HTTP server generated from a published OpenAPI description (openapi-backend): it routes every
 * request to an operation of the description, VALIDATES it (path and query parameters, headers, body)
 * against the real schema, and answers from a stateful model's handler. Anything that does not validate —
 * an unknown route, a bad parameter, a body the schema refuses — is recorded as a violation and answered
 * 400/404, so a contract test fails on it (tests assert `violations` is empty).
 *
 * Stricter than the platform on purpose: request bodies accept only the properties the schema names
 * (additionalProperties: false, where the platform would silently ignore a misspelt field), and query
 * parameters the operation does not declare are violations. The model's answers are validated against the
 * response schemas too, so the fake cannot drift from the real shapes the provider parses.
 *
 * Faults (5xx, rate limits) are injected per operation with `failNext`; they are answered after the
 * request validated, so retried requests are validated every time.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { type Document, OpenAPIBackend } from 'openapi-backend';

export interface ContractRequest {
  operationId: string;
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string | string[]>;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

export interface ContractAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type ContractHandler = (req: ContractRequest) => ContractAnswer | Promise<ContractAnswer>;

export interface ContractServerOptions {
  definition: Document;
  handlers: Record<string, ContractHandler>;
  /** Requirements the platform documents outside the description (auth, user agent); returns violations. */
  checkHeaders?: (req: IncomingMessage, hasBody: boolean) => string[];
  /** An answer to the request before the model sees it (e.g. 401 for a wrong token), or null. */
  gate?: (req: ContractRequest) => ContractAnswer | null;
  /** Routes outside the REST description (GitHub's /graphql), checked by their own validator. */
  extra?: (method: string, path: string, body: string, req: IncomingMessage) => Promise<ContractAnswer | null>;
  /**
   * Check the model's answers against the response schemas (default). Off for GitLab: its Grape-made
   * entity types contradict what GitLab answers (lists typed as one object, id and label lists as strings).
   */
  validateResponses?: boolean;
  /** Path prefix the platform serves the description under (GitLab's are absolute: none). */
  prefix?: string;
}

export interface ContractServer {
  url: string;
  /** operationId → how many requests of it validated. */
  validated: Map<string, number>;
  violations: string[];
  /** Every request that validated, in order. */
  log: ContractRequest[];
  failNext(operationId: string, ...answers: ContractAnswer[]): void;
  close(): Promise<void>;
}

/** OpenAPI 3.0's `nullable: true` allows null, also where the schema lists an enum (ajv would refuse it). */
function nullableEnums(node: unknown): void {
  if (Array.isArray(node)) {
    for (const n of node) nullableEnums(n);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const s = node as Record<string, unknown>;
  if (s.nullable === true && Array.isArray(s.enum) && !s.enum.includes(null)) s.enum.push(null);
  for (const [k, v] of Object.entries(s)) if (k !== 'example' && k !== 'examples') nullableEnums(v);
}

/** Request bodies may carry only the properties their schema names. */
function tighten(definition: Document): Document {
  const copy = structuredClone(definition) as Document;
  nullableEnums(copy.paths);
  for (const item of Object.values(copy.paths ?? {})) {
    for (const op of Object.values(item ?? {})) {
      const content = (op as { requestBody?: { content?: Record<string, { schema?: Record<string, unknown> }> } })
        ?.requestBody?.content;
      for (const media of Object.values(content ?? {})) {
        const s = media.schema;
        if (s && s.type === 'object' && s.properties && s.additionalProperties === undefined) {
          s.additionalProperties = false;
        }
      }
    }
  }
  return copy;
}

// The string formats the descriptions use, checked (the validator would otherwise ignore them, with a warning).
const FORMATS: Record<string, RegExp | true> = {
  'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/i,
  date: /^\d{4}-\d{2}-\d{2}$/,
  uri: /^[a-z][a-z0-9+.-]*:\S*$/i,
  'uri-template': true,
  email: /^[^\s@]+@[^\s@]+$/,
  'repo.nwo': /^[^/\s]+\/[^/\s]+$/,
  hostname: /^[a-z0-9.-]+$/i,
  uuid: /^[0-9a-f-]{36}$/i,
};

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((done, fail) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => done(Buffer.concat(parts).toString('utf8')));
    req.on('error', fail);
  });
}

function send(res: ServerResponse, a: ContractAnswer): void {
  const headers: Record<string, string> = { ...(a.headers ?? {}) };
  let payload = '';
  if (a.body !== undefined && a.status !== 204) {
    payload = JSON.stringify(a.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(a.status, headers).end(payload);
}

export async function contractServer(opts: ContractServerOptions): Promise<ContractServer> {
  const api = new OpenAPIBackend({
    definition: tighten(opts.definition),
    validate: true,
    quick: false,
    strict: false,
    customizeAjv: (ajv) => {
      for (const [name, check] of Object.entries(FORMATS)) ajv.addFormat(name, check);
      return ajv;
    },
  });
  await api.init();
  const validated = new Map<string, number>();
  const violations: string[] = [];
  const log: ContractRequest[] = [];
  const faults = new Map<string, ContractAnswer[]>();
  const prefix = opts.prefix ?? '';

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const method = (req.method ?? 'GET').toUpperCase();
    const where = `${method} ${url.pathname}${url.search}`;
    const extra = opts.extra ? await opts.extra(method, url.pathname, raw, req) : null;
    if (extra) return send(res, extra);
    if (prefix && !url.pathname.startsWith(prefix)) {
      violations.push(`${where}: outside the API`);
      return send(res, { status: 404, body: { message: 'Not Found' } });
    }
    const path = url.pathname.slice(prefix.length) || '/';
    const query: Record<string, string | string[]> = {};
    for (const [k, v] of url.searchParams) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
    const headers = req.headers as Record<string, string | string[]>;
    let body: unknown;
    if (raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        violations.push(`${where}: the body is not JSON`);
        return send(res, { status: 400, body: { message: 'Problems parsing JSON' } });
      }
    }
    const request = { method, path, query, headers, ...(body === undefined ? {} : { body }) };
    const operation = api.matchOperation(request);
    if (!operation?.operationId) {
      violations.push(`${where}: no such operation in the description`);
      return send(res, { status: 404, body: { message: 'Not Found' } });
    }
    const id = operation.operationId;
    const problems: string[] = [];
    const result = api.validateRequest(request, operation);
    for (const e of result.errors ?? []) {
      problems.push(
        `${e.instancePath || '/'} ${e.message ?? e.keyword}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`,
      );
    }
    const declared = new Set((operation.parameters ?? []).map((p) => ('in' in p && p.in === 'query' ? p.name : '')));
    for (const k of Object.keys(query)) {
      const name = k.replace(/\[\]$/, '');
      if (!declared.has(k) && !declared.has(name)) problems.push(`query parameter ${k} is not declared`);
    }
    const hasBody = raw !== '';
    problems.push(...(opts.checkHeaders?.(req, hasBody) ?? []));
    if (hasBody && !/^application\/json\b/i.test(String(req.headers['content-type'] ?? ''))) {
      problems.push(`content-type ${req.headers['content-type'] ?? '(none)'} is not application/json`);
    }
    if (problems.length) {
      violations.push(`${id} (${where}): ${problems.join('; ')}`);
      return send(res, { status: 400, body: { message: `request does not validate: ${problems.join('; ')}` } });
    }
    validated.set(id, (validated.get(id) ?? 0) + 1);
    const parsed: ContractRequest = {
      operationId: id,
      method,
      path,
      params: api.router.parseRequest(request, operation).params as Record<string, string>,
      query,
      headers: req.headers,
      body,
    };
    log.push(parsed);
    const gated = opts.gate?.(parsed);
    if (gated) return send(res, gated);
    const fault = faults.get(id)?.shift();
    if (fault) return send(res, fault);
    const handler = opts.handlers[id];
    if (!handler) {
      violations.push(`${id}: the model has no handler`);
      return send(res, { status: 501, body: { message: 'not modelled' } });
    }
    const answer = await handler(parsed);
    if (opts.validateResponses !== false && answer.body !== undefined && answer.status < 300) {
      // GitLab's Grape-made description declares the entity, not an array, for endpoints that list: there,
      // each item of the list is checked against it.
      const declared = (
        operation.responses?.[String(answer.status)] as { content?: Record<string, { schema?: { type?: string } }> }
      )?.content?.['application/json']?.schema;
      const items = Array.isArray(answer.body) && declared && declared.type !== 'array' ? answer.body : [answer.body];
      for (const item of items) {
        const check = api.validateResponse(item, operation, answer.status);
        for (const e of check.errors ?? []) {
          violations.push(`${id} answered off-schema (${answer.status}): ${e.instancePath || '/'} ${e.message}`);
        }
      }
    }
    return send(res, answer);
  }

  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => {
      violations.push(`server error: ${err.stack ?? err.message}`);
      send(res, { status: 500, body: { message: 'test server error' } });
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const port = await new Promise<number>((done) =>
    server.listen(0, '127.0.0.1', () => done((server.address() as { port: number }).port)),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    validated,
    violations,
    log,
    failNext(operationId, ...answers) {
      faults.set(operationId, [...(faults.get(operationId) ?? []), ...answers]);
    },
    close: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy();
        server.close(() => done());
      }),
  };
}
