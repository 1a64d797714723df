/**
 * A tiny demo service for rehearsing rollouts: Python's http.server answering 200 on /healthz and on every
 * other path, except that a fixed fraction of requests (ERROR_RATE, spread evenly, not at random) get 500.
 * Built FROM the local sandbox image, so no registry is needed. Healthy and failing canaries are the same
 * code with a different baked-in ERROR_RATE. CRASH_AFTER=N (at run time) makes the process exit on request N+1,
 * the way a crash-looping release dies on real traffic.
 */
import { createHash } from 'node:crypto';
import { SutureError } from '../../errors.ts';
import { buildImage, imageInfo } from '../../sandbox/docker.ts';
import { tarStream } from '../../sandbox/tar.ts';

export const DEFAULT_BASE_IMAGE = 'suture-sandbox:bookworm';

const APP = `import http.server, json, os, threading

PORT = int(os.environ.get("PORT", "8080"))
RATE = float(os.environ.get("ERROR_RATE", "0"))
VERSION = os.environ.get("VERSION", "dev")
CRASH_AFTER = int(os.environ.get("CRASH_AFTER", "0"))
lock = threading.Lock()
credit = 0.0
served = 0


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        global credit, served
        if self.path == "/healthz":
            return self.answer(200, {"ok": True, "version": VERSION})
        with lock:
            served += 1
            if CRASH_AFTER and served > CRASH_AFTER:
                os._exit(1)
            credit += RATE
            fail = credit >= 1.0
            if fail:
                credit -= 1.0
        if fail:
            return self.answer(500, {"error": "injected failure", "version": VERSION})
        return self.answer(200, {"ok": True, "version": VERSION})

    do_POST = do_GET


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
`;

export interface DemoImageOptions {
  tag: string;
  /** Fraction of requests answered 500, 0–1. */
  errorRate: number;
  baseImage?: string;
  /** Rebuild even when the tag exists. */
  force?: boolean;
}

export async function buildDemoServiceImage(o: DemoImageOptions): Promise<string> {
  if (!(o.errorRate >= 0 && o.errorRate <= 1)) throw new RangeError(`errorRate must be 0–1, got ${o.errorRate}`);
  const base = o.baseImage ?? DEFAULT_BASE_IMAGE;
  const baseId = (await imageInfo(base))?.id;
  if (!baseId) throw new SutureError('BAD_CONFIG', `base image ${base} is not here: run bash sandbox/bootstrap.sh`);
  // Rebuilt whenever the app, the rate or the base image changes, not merely when the tag is missing.
  const hash = createHash('sha256').update(`${APP}\0${o.errorRate}\0${baseId}`).digest('hex').slice(0, 16);
  if (!o.force && (await imageInfo(o.tag))?.labels['suture.demo-hash'] === hash) return o.tag;
  const dockerfile = [
    `FROM ${base}`,
    'COPY app.py /srv/demo/app.py',
    `ENV ERROR_RATE=${o.errorRate}`,
    'CMD ["python3", "/srv/demo/app.py"]',
    '',
  ].join('\n');
  await buildImage({
    context: tarStream([
      { name: 'Dockerfile', mode: 0o644, data: Buffer.from(dockerfile) },
      { name: 'app.py', mode: 0o644, data: Buffer.from(APP) },
    ]),
    tag: o.tag,
    labels: { 'suture.demo': 'canary', 'suture.demo-hash': hash },
    // FROM a local image and a COPY: nothing to fetch
    network: 'none',
  });
  return o.tag;
}
