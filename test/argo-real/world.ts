/**
 * What the real-cluster tests share: the shipped pipelines/argo-rollouts manifests rendered (and, for the
 * runs, sped up: minutes become seconds, nothing else changes), a scripted exporter of suture's per-version
 * counters (kwok pods serve no traffic, so the test says what each pod hash "answers"), a real Prometheus
 * scraping it, `suture serve` with its token, and small Rollout helpers over kubectl.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { execa } from 'execa';
import { parseAllDocuments } from 'yaml';
import { renderPipelineTemplate } from '../../src/canary/argo/manifests.ts';
import { freePort, waitForHttp } from '../../src/canary/local/ports.ts';
import { type PrometheusServer, startPrometheus } from '../../src/canary/prometheus/server.ts';
import type { KubeCluster } from '../helpers/kube.ts';
import { ROOT, tempDir } from '../helpers/repo.ts';

export const PIPELINES = join(ROOT, 'pipelines', 'argo-rollouts');
// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as parsed YAML.
export type Obj = Record<string, any>;

/** Every shipped manifest of pipelines/argo-rollouts/ except RBAC, rendered: file name -> documents. */
export function shippedManifests(values: Record<string, string>): Map<string, Obj[]> {
  const out = new Map<string, Obj[]>();
  for (const f of readdirSync(PIPELINES).filter((n) => n.endsWith('.yaml') && !n.startsWith('rbac'))) {
    const text = renderPipelineTemplate(readFileSync(join(PIPELINES, f), 'utf8'), values);
    out.set(
      f,
      parseAllDocuments(text)
        .map((d) => d.toJS() as Obj)
        .filter(Boolean),
    );
  }
  return out;
}

export interface SpeedUp {
  /** Every duration is divided by this: pauses, metric intervals, the judge's bucket width. */
  factor: number;
  /** Instead, every `pause: {duration}` becomes this ("1h": nothing moves past a pause unless promoted). */
  pause?: string;
}

/** Seconds in an Argo duration ("30s", "2m", "1h", or a number of seconds). */
function seconds(d: string | number): number {
  if (typeof d === 'number') return d;
  const m = /^([0-9]+)(s|m|h)?$/.exec(d);
  if (!m) throw new Error(`not an Argo duration: ${d}`);
  return Number(m[1]) * ({ s: 1, m: 60, h: 3600 } as const)[(m[2] ?? 's') as 's' | 'm' | 'h'];
}

/**
 * The shipped objects with time compressed by one factor for a test, so that every race between a pause and
 * an analysis keeps the shipped proportions. Steps, limits, conditions, args and providers stay as shipped.
 */
export function speedUp(objs: Obj[], s: SpeedUp): Obj[] {
  const scaled = (d: string | number) => `${Math.max(1, Math.round(seconds(d) / s.factor))}s`;
  return objs.map((o) => {
    const c = structuredClone(o);
    if (c.kind === 'Rollout') {
      for (const step of c.spec.strategy?.canary?.steps ?? [])
        if (step.pause?.duration) step.pause.duration = s.pause ?? scaled(step.pause.duration);
    }
    if (c.kind === 'AnalysisTemplate') {
      for (const m of c.spec.metrics ?? []) {
        if (m.interval) m.interval = scaled(m.interval);
        const body = m.provider?.web?.jsonBody;
        if (body?.bucketSeconds) body.bucketSeconds = Math.max(1, Math.round(body.bucketSeconds / s.factor));
      }
    }
    return c;
  });
}

/** Per-version traffic the exporter reports from the moment it is scripted. */
export interface Profile {
  rps: number;
  errorRatio: number;
}

export interface Exporter {
  target: string;
  /** Scripts what pod hash `version` of `service` serves from now on. */
  set(service: string, version: string, p: Profile): void;
  close(): Promise<void>;
}

/** suture_requests_total / suture_request_errors_total {service, version}, growing as scripted. */
export async function startExporter(): Promise<Exporter> {
  type Scripted = { service: string; version: string; p: Profile; since: number; base: { r: number; e: number } };
  const versions = new Map<string, Scripted>();
  const counts = (v: Scripted) => {
    const dt = (Date.now() - v.since) / 1000;
    const r = v.base.r + Math.floor(v.p.rps * dt);
    return { r, e: v.base.e + Math.floor(v.p.rps * v.p.errorRatio * dt) };
  };
  const server: Server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const lines = ['# TYPE suture_requests_total counter', '# TYPE suture_request_errors_total counter'];
    for (const v of versions.values()) {
      const { r, e } = counts(v);
      const l = `{service="${v.service}",version="${v.version}"}`;
      lines.push(`suture_requests_total${l} ${r}`, `suture_request_errors_total${l} ${e}`);
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(`${lines.join('\n')}\n`);
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    target: `127.0.0.1:${port}`,
    set: (service, version, p) => {
      const key = `${service}/${version}`;
      const prev = versions.get(key);
      // Counters never go back: a re-scripted version continues from where it was.
      versions.set(key, { service, version, p, since: Date.now(), base: prev ? counts(prev) : { r: 0, e: 0 } });
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface Serve {
  base: string;
  token: string;
  stop(): Promise<void>;
}

/** `suture serve` as a user runs it (src/main.ts on this Node), reading `prometheus`, with a bearer token. */
export async function startSutureServe(prometheus: string): Promise<Serve> {
  const dir = tempDir('suture-serve-');
  const token = `argo-real-${crypto.randomUUID()}`;
  writeFileSync(join(dir, 'token'), `${token}\n`, { mode: 0o600 });
  const port = await freePort();
  const { SUTURE_TOKEN: _, ...env } = process.env;
  const child: ChildProcess = spawn(
    process.execPath,
    [
      join(ROOT, 'src', 'main.ts'),
      'serve',
      '--port',
      String(port),
      '--prometheus',
      prometheus,
      '--token-file',
      join(dir, 'token'),
    ],
    { env, stdio: ['ignore', 'ignore', 'ignore'] },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const base = `http://127.0.0.1:${port}`;
  await waitForHttp(`${base}/healthz`, 30_000);
  return {
    base,
    token,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(t);
    },
  };
}

export interface World {
  kube: KubeCluster;
  prometheus: PrometheusServer;
  exporter: Exporter;
  serve: Serve;
  stop(): Promise<void>;
}

export async function startWorld(kube: KubeCluster): Promise<World> {
  const exporter = await startExporter();
  const prometheus = await startPrometheus({ targets: [exporter.target], scrapeInterval: '1s' });
  const serve = await startSutureServe(prometheus.url);
  return {
    kube,
    prometheus,
    exporter,
    serve,
    stop: async () => {
      await serve.stop();
      await prometheus.stop();
      await exporter.close();
    },
  };
}

/** A fresh namespace holding the `suture-token` Secret the judge templates read. */
export async function namespace(w: World, name: string): Promise<void> {
  await w.kube.kubectl(['create', 'namespace', name]);
  await w.kube.kubectl([
    '-n',
    name,
    'create',
    'secret',
    'generic',
    'suture-token',
    `--from-literal=token=${w.serve.token}`,
  ]);
}

/** kubectl apply (server-side) of objects; `dryRun` asks the API server to validate and admit without storing. */
export async function apply(kube: KubeCluster, objs: Obj[], opts: { dryRun?: boolean } = {}): Promise<string> {
  const list = { apiVersion: 'v1', kind: 'List', items: objs };
  return kube.kubectl(
    [
      'apply',
      '--server-side',
      '--field-manager=suture-test',
      '--force-conflicts',
      ...(opts.dryRun ? ['--dry-run=server'] : []),
      '-f',
      '-',
    ],
    JSON.stringify(list),
  );
}

export async function getObj(kube: KubeCluster, ns: string, kind: string, name: string): Promise<Obj> {
  return JSON.parse(await kube.kubectl(['-n', ns, 'get', kind, name, '-o', 'json'])) as Obj;
}

export async function listObjs(kube: KubeCluster, ns: string, kind: string): Promise<Obj[]> {
  return (JSON.parse(await kube.kubectl(['-n', ns, 'get', kind, '-o', 'json'])) as Obj).items as Obj[];
}

/** Polls the Rollout until `ok` holds; rejects with its last status after `ms`. */
export async function waitRollout(
  kube: KubeCluster,
  ns: string,
  name: string,
  what: string,
  ok: (ro: Obj) => boolean,
  ms = 120_000,
): Promise<Obj> {
  const deadline = Date.now() + ms;
  let last: Obj = {};
  for (;;) {
    last = await getObj(kube, ns, 'rollout', name).catch(() => last);
    if (last.status && ok(last)) return last;
    if (Date.now() > deadline)
      throw new Error(`rollout ${ns}/${name}: ${what} not reached in ${ms} ms; status: ${JSON.stringify(last.status)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The Rollout with its (first) container's image replaced, as a config-repo sync would change it. */
export function withImage(rollout: Obj, image: string): Obj {
  const c = structuredClone(rollout);
  c.spec.template.spec.containers[0].image = image;
  return c;
}

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `suture …` as a process (src/main.ts on this Node). */
export async function suture(args: string[], env: Record<string, string> = {}, timeoutMs = 180_000): Promise<CliRun> {
  const r = await execa(process.execPath, [join(ROOT, 'src', 'main.ts'), ...args], {
    env,
    reject: false,
    timeout: timeoutMs,
  });
  return { code: r.exitCode ?? null, stdout: r.stdout, stderr: r.stderr };
}
