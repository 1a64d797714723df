/**
 * Remotes for the push tests, on 127.0.0.1: a smart-HTTP git server (git http-backend behind Basic auth),
 * one that asks for credentials and never accepts them, one that accepts connections and never answers,
 * and a port nothing listens on.
 */
import { spawn } from 'node:child_process';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach } from 'vitest';

export interface Remote {
  url: string;
  close(): Promise<void>;
}

function listen(server: Server, sockets: Set<Socket>): Promise<number> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done((server.address() as { port: number }).port)));
}

function closer(server: Server, sockets: Set<Socket>) {
  return () =>
    new Promise<void>((done) => {
      for (const s of sockets) s.destroy();
      server.close(() => done());
    });
}

/** git http-backend serving the bare repositories under `root`, for requests `authorized` accepts. */
export async function gitHttpServer(root: string, authorized: (req: IncomingMessage) => boolean): Promise<Remote> {
  const server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
    if (!authorized(req)) {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const cgi = spawn('git', ['http-backend'], {
      env: {
        PATH: process.env.PATH,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GATEWAY_INTERFACE: 'CGI/1.1',
        REQUEST_METHOD: req.method ?? 'GET',
        PATH_INFO: url.pathname,
        QUERY_STRING: url.search.slice(1),
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_CONTENT_ENCODING: req.headers['content-encoding'] ?? '',
        REMOTE_USER: 'tester',
        REMOTE_ADDR: '127.0.0.1',
      },
    });
    req.pipe(cgi.stdin);
    const out: Buffer[] = [];
    cgi.stdout.on('data', (c: Buffer) => out.push(c));
    cgi.on('close', () => {
      const all = Buffer.concat(out);
      const end = all.indexOf('\r\n\r\n');
      const headers = all.subarray(0, end).toString().split('\r\n');
      let status = 200;
      for (const h of headers) {
        const [name, ...rest] = h.split(':');
        const value = rest.join(':').trim();
        if (name?.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else if (name) res.setHeader(name, value);
      }
      res.writeHead(status).end(all.subarray(end + 4));
    });
  });
  const sockets = new Set<Socket>();
  const port = await listen(server, sockets);
  return { url: `http://127.0.0.1:${port}`, close: closer(server, sockets) };
}

/** Accepts TCP connections and never says a word. */
export async function silentServer(): Promise<Remote> {
  const server = createTcpServer(() => undefined);
  const sockets = new Set<Socket>();
  const port = await listen(server, sockets);
  return { url: `http://127.0.0.1:${port}/repo.git`, close: closer(server, sockets) };
}

/** A port that was just free: connections to it are refused. */
export async function closedPort(): Promise<number> {
  const server = createTcpServer();
  const sockets = new Set<Socket>();
  const port = await listen(server, sockets);
  await closer(server, sockets)();
  return port;
}

/**
 * For a test file: each test runs with no global or system git config (the machine's cannot leak in), its
 * environment restored afterwards, and the servers it pushed onto the returned list closed.
 */
export function isolatedGit(): Remote[] {
  const servers: Remote[] = [];
  const saved = { ...process.env };
  beforeEach(() => {
    process.env.GIT_CONFIG_GLOBAL = '/dev/null';
    process.env.GIT_CONFIG_NOSYSTEM = '1';
  });
  afterEach(async () => {
    process.env = { ...saved };
    for (const s of servers.splice(0)) await s.close();
  });
  return servers;
}
