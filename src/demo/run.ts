/**
 * `suture demo`: the whole loop on one machine. The demo service (demo/pricing-api) runs as a container
 * built from a local git repo with a bare origin; a traffic generator sends it a mix with crashing
 * requests; Prometheus alerts on its 5xx rate; Alertmanager posts the alert to `suture serve` in auto mode;
 * suture heals, merges (local provider, fast-forward), builds the fixed image, bumps the local GitOps
 * config repo and rehearses the canary. The demo plays Argo CD: it deploys whatever image the config repo
 * names. Scenario `good` ends promoted; scenario `bad` (a scripted model's fix that passes the sandbox but
 * fails under traffic) ends aborted and reverted. Everything it starts is stopped on the way out, Ctrl-C
 * included; the state dir (reports, audit log, repos) is kept and printed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { freePort, waitForHttp } from '../canary/local/ports.ts';
import { SutureError } from '../errors.ts';
import { parseCapture } from '../incident/healthy/capture.ts';
import {
  buildImage,
  imageInfo,
  LABEL_RUN,
  RUN_ID,
  removeContainers,
  removeWhere,
  startServiceContainer,
} from '../sandbox/docker.ts';
import { packageRoot } from '../sandbox/paths.ts';
import { siblingModule } from '../serve/modules.ts';
import {
  ALERT_NAME,
  alertmanagerConfig,
  alertRules,
  imageOfValues,
  operatorConfig,
  prometheusConfig,
  VALUES_FILE,
  valuesFile,
} from './configs.ts';
import { DEMO_MODEL, loadScript, startScriptedLlm } from './llm-server.ts';
import { type AuditLine, auditStep, formatMttr, formatStep, resultStatus, type StepLine } from './steps.ts';
import { type DemoRequest, type Mix, startDemoTraffic } from './traffic.ts';

export type Scenario = 'good' | 'bad';

export interface DemoOptions {
  scenarios: Scenario[];
  /** Kept afterwards: reports, audit log, repos. */
  stateDir: string;
  /** Longest wait for one scenario (alert → heal → canary). */
  scenarioTimeoutMs?: number;
  rps?: number;
  out: (line: string) => void;
  signal?: AbortSignal;
}

export interface ScenarioOutcome {
  scenario: Scenario;
  status: string;
  detail: string;
  /** First crash → promotion (good) or → the heal's end (bad), ms. */
  mttrMs: number | null;
  reports: string[];
}

const SERVICE = 'pricing-api';
const IMAGE_REPO = 'suture-demo/pricing-api';
const CLI = fileURLToPath(siblingModule(import.meta.url, '../main'));
/** The demo's own label on what it starts, besides the run label every suture container carries. */
const LABEL_DEMO = 'dev.suture.demo';
const IDENTITY = {
  GIT_AUTHOR_NAME: 'suture demo',
  GIT_AUTHOR_EMAIL: 'demo@suture.invalid',
  GIT_COMMITTER_NAME: 'suture demo',
  GIT_COMMITTER_EMAIL: 'demo@suture.invalid',
};

export function demoAssets(): string {
  return join(packageRoot(), 'demo');
}

/** The crashing requests of each scenario: an empty discount list, then a currency without a rate. */
function crashing(scenario: Scenario): DemoRequest[] {
  const cart =
    scenario === 'good'
      ? { items: [{ price: 12.5, qty: 2 }], discounts: [] }
      : { items: [{ price: 12.5, qty: 2 }], discounts: [{ percent: 10 }], currency: 'CHF' };
  return [
    { method: 'POST', path: '/quote', headers: { 'content-type': 'application/json' }, body: JSON.stringify(cart) },
  ];
}

function healthyTraffic(serviceDir: string): DemoRequest[] {
  const parsed = parseCapture(readFileSync(join(serviceDir, 'captures', 'healthy.jsonl'), 'utf8'));
  if (!parsed.ok) throw new SutureError('BAD_CONFIG', `demo capture: ${parsed.problem}`);
  return parsed.samples.map((s) => ({
    method: s.method,
    path: s.path,
    headers: (s.headers ?? {}) as Record<string, string>,
    ...(s.body !== undefined ? { body: s.body } : {}),
  }));
}

const git = async (cwd: string, ...args: string[]) => (await execa('git', args, { cwd, env: IDENTITY })).stdout;

export async function runDemo(o: DemoOptions): Promise<ScenarioOutcome[]> {
  const started = performance.now();
  const since = () => (performance.now() - started) / 1000;
  const step = (s: Omit<StepLine, 'at'>) => o.out(formatStep({ ...s, at: since() }));
  const id = randomBytes(4).toString('hex');
  const children: ChildProcess[] = [];
  const closers: Array<() => Promise<unknown>> = [];
  const state = resolve(o.stateDir);
  mkdirSync(state, { recursive: true });
  const rps = o.rps ?? 20;

  const spawnChild = (what: string, program: string, args: string[], env?: NodeJS.ProcessEnv) => {
    const log = join(state, 'logs', `${what}.log`);
    mkdirSync(join(state, 'logs'), { recursive: true });
    const child = spawn(program, args, { env: env ?? process.env, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => writeFileSync(log, c, { flag: 'a' }));
    child.on('error', () => undefined);
    children.push(child);
    return child;
  };
  const abortable = <T>(p: Promise<T>): Promise<T> =>
    o.signal
      ? Promise.race([
          p,
          new Promise<never>((_, reject) => {
            if (o.signal!.aborted) reject(new SutureError('INTERNAL', 'interrupted'));
            o.signal!.addEventListener('abort', () => reject(new SutureError('INTERNAL', 'interrupted')), {
              once: true,
            });
          }),
        ])
      : p;

  try {
    // 1. The application repo (with a bare origin) and the GitOps config repo.
    let t0 = performance.now();
    const repo = join(state, SERVICE);
    const origin = join(state, `${SERVICE}.git`);
    cpSync(join(demoAssets(), SERVICE), repo, {
      recursive: true,
      filter: (p) => !/__pycache__|\.pytest_cache/.test(p),
    });
    await execa('git', ['init', '-q', '--bare', '-b', 'main', origin]);
    await git(repo, 'init', '-q', '-b', 'main');
    await git(repo, 'add', '-A');
    await git(repo, 'commit', '-q', '-m', 'pricing-api: quotes with discounts and currencies');
    await git(repo, 'remote', 'add', 'origin', origin);
    await git(repo, 'push', '-q', '-u', 'origin', 'main');
    const head = await git(repo, 'rev-parse', 'HEAD');
    const tag = head.slice(0, 12);
    const deploy = join(state, 'deploy');
    const deployOrigin = join(state, 'deploy.git');
    await execa('git', ['init', '-q', '--bare', '-b', 'main', deployOrigin]);
    mkdirSync(join(deploy, 'apps', SERVICE), { recursive: true });
    writeFileSync(join(deploy, VALUES_FILE), valuesFile(IMAGE_REPO, tag));
    await git(deploy, 'init', '-q', '-b', 'main');
    await git(deploy, 'add', '-A');
    await git(deploy, 'commit', '-q', '-m', `${SERVICE}: deploy ${tag}`);
    await git(deploy, 'remote', 'add', 'origin', deployOrigin);
    await git(deploy, 'push', '-q', '-u', 'origin', 'main');
    const gitopsConfig = join(state, 'gitops.yaml');
    writeFileSync(gitopsConfig, operatorConfig(deployOrigin));
    step({
      mark: 'ok',
      text: `repos: ${SERVICE} (origin ${SERVICE}.git) and the GitOps config repo deploy.git`,
      ms: performance.now() - t0,
    });

    // 2. The service's image, built from its repo's commit, and the production container.
    t0 = performance.now();
    const image = `${IMAGE_REPO}:${tag}`;
    await buildFromCommit(repo, head, image);
    const servicePort = await freePort();
    let production = await startProduction(image, servicePort);
    step({
      mark: 'ok',
      text: `${SERVICE} ${tag} built and running on 127.0.0.1:${servicePort}`,
      ms: performance.now() - t0,
    });

    // 3. The model (scripted), suture serve in auto mode, Alertmanager and Prometheus.
    t0 = performance.now();
    const llm = await startScriptedLlm(loadScript(join(demoAssets(), 'llm', 'answers.json')));
    closers.push(() => llm.close());
    const token = randomBytes(24).toString('hex');
    const tokenFile = join(state, 'serve-token');
    writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
    const servePort = await freePort();
    const sutureState = join(state, 'suture');
    const { SUTURE_TOKEN: _, ...inherited } = process.env;
    spawnChild(
      'suture-serve',
      process.execPath,
      [
        CLI,
        'serve',
        '--port',
        String(servePort),
        '--repo',
        repo,
        '--mode',
        'auto',
        '--state',
        sutureState,
        '--token-file',
        tokenFile,
      ],
      {
        ...inherited,
        SUTURE_LOCAL_MERGE: 'fast-forward',
        SUTURE_GITOPS_CONFIG: gitopsConfig,
        SUTURE_LLM_BASE_URL: llm.baseURL,
        SUTURE_LLM_MODEL: DEMO_MODEL,
        SUTURE_LLM_API_KEY: 'demo-not-a-secret',
      },
    );
    const serveUrl = `http://127.0.0.1:${servePort}`;
    const amPort = await freePort();
    const amDir = join(state, 'alertmanager');
    mkdirSync(amDir, { recursive: true });
    writeFileSync(join(amDir, 'alertmanager.yml'), alertmanagerConfig({ alertsUrl: `${serveUrl}/alerts`, tokenFile }));
    spawnChild('alertmanager', 'prometheus-alertmanager', [
      `--config.file=${join(amDir, 'alertmanager.yml')}`,
      `--storage.path=${join(amDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
      '--log.level=warn',
    ]);
    const promPort = await freePort();
    const promDir = join(state, 'prometheus');
    mkdirSync(promDir, { recursive: true });
    writeFileSync(join(promDir, 'rules.yml'), alertRules());
    writeFileSync(
      join(promDir, 'prometheus.yml'),
      prometheusConfig({
        service: `127.0.0.1:${servicePort}`,
        alertmanager: `127.0.0.1:${amPort}`,
        rules: join(promDir, 'rules.yml'),
      }),
    );
    spawnChild('prometheus', 'prometheus', [
      `--config.file=${join(promDir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--storage.tsdb.retention.time=1h',
      '--log.level=warn',
    ]);
    const promUrl = `http://127.0.0.1:${promPort}`;
    await abortable(
      Promise.all([
        waitForHttp(`${serveUrl}/healthz`, 30_000),
        waitForHttp(`http://127.0.0.1:${amPort}/-/ready`, 30_000),
        waitForHttp(`${promUrl}/-/ready`, 30_000),
      ]),
    ).catch((err) => {
      for (const c of children)
        if (c.exitCode !== null)
          throw new SutureError('INTERNAL', `${c.spawnfile} exited at start: see ${join(state, 'logs')}`);
      throw err;
    });
    step({
      mark: 'ok',
      text: `suture serve (auto mode) ${serveUrl}, Alertmanager :${amPort}, Prometheus ${promUrl} (rule ${ALERT_NAME}: 5xx > 2 %)`,
      ms: performance.now() - t0,
    });

    // 4. Traffic, then one scenario after the other.
    const healthy = healthyTraffic(repo);
    const traffic = startDemoTraffic(`http://127.0.0.1:${servicePort}`, { healthy, crashing: [], crashShare: 0 }, rps);
    closers.push(() => traffic.stop());
    const audit = join(sutureState, 'audit.jsonl');
    let auditSeen = 0;
    let deployed = image;
    const outcomes: ScenarioOutcome[] = [];
    // The kinds of crash already alerted on: a scenario waits for its own alert, not the last one's.
    const alertedCrashes = new Set<string>();
    for (const scenario of o.scenarios) {
      const share = 0.2;
      o.out('');
      o.out(
        scenario === 'good'
          ? `── scenario 1: ${Math.round(share * 100)} % of carts have no discounts — ZeroDivisionError; suture's fix should ship`
          : `── scenario 2: carts in CHF — no exchange rate; the (scripted) model's fix passes the sandbox but fails under traffic`,
      );
      const mix: Mix = { healthy, crashing: crashing(scenario), crashShare: share };
      traffic.setMix(mix);
      const deadline = Date.now() + (o.scenarioTimeoutMs ?? 240_000);
      let firstCrash: number | null = null;
      let alerted = false;
      let result = null as AuditLine | null;
      let promotedAt: number | null = null;
      while (Date.now() < deadline && !result) {
        if (o.signal?.aborted) throw new SutureError('INTERNAL', 'interrupted');
        if (firstCrash === null && traffic.firstErrorAt() !== null) {
          firstCrash = traffic.firstErrorAt()!;
          step({ mark: 'info', text: `first crash seen by a client (HTTP 500 on POST /quote)` });
        }
        if (!alerted && firstCrash !== null && (await firingCrashes(promUrl)).some((c) => !alertedCrashes.has(c))) {
          for (const c of await firingCrashes(promUrl)) alertedCrashes.add(c);
          alerted = true;
          step({
            mark: 'ok',
            text: `alert ${ALERT_NAME} firing → Alertmanager → suture serve`,
            ms: performance.now() - firstCrash,
          });
        }
        const entries = readAudit(audit, auditSeen);
        auditSeen += entries.length;
        for (const e of entries) {
          const s = auditStep(e);
          if (s) step(s);
          if (/canary|rollout|release/.test(e.stage) && /promot/.test(e.detail ?? '')) promotedAt ??= performance.now();
          if (e.stage === 'result') {
            result = e;
            if (/promot/i.test(e.detail ?? '')) promotedAt ??= performance.now();
          }
        }
        if (!result) await new Promise((r) => setTimeout(r, 250));
      }
      if (!result)
        throw new SutureError(
          'INTERNAL',
          `scenario ${scenario}: no heal result within the time limit (see ${join(state, 'logs')})`,
        );
      const status = resultStatus(result.detail);
      const mttrMs = firstCrash !== null && promotedAt !== null && status === 'fixed' ? promotedAt - firstCrash : null;
      // Argo CD's part: deploy what the config repo names now (the fix after a promotion, the old image after a revert).
      const inConfig = imageOfValues(await git(deployOrigin, 'show', `main:${VALUES_FILE}`));
      // A registry would hold the tag the bump names; here the release stage's local build of it stands in.
      const tag = inConfig?.split(':').at(-1);
      const named = inConfig && !(await imageInfo(inConfig)) && tag ? `suture-release/${SERVICE}:${tag}` : inConfig;
      if (named && named !== deployed && (await imageInfo(named))) {
        t0 = performance.now();
        await production.remove();
        production = await startProduction(named, servicePort);
        deployed = named;
        step({
          mark: 'ok',
          text: `deployed ${named} from the config repo (as Argo CD would)`,
          ms: performance.now() - t0,
        });
      } else {
        step({ mark: 'info', text: `the config repo still names ${named ?? 'no image'}: nothing to deploy` });
      }
      if (status === 'fixed' && promotedAt !== null) step({ mark: 'ok', text: `promoted: ${result.detail}` });
      else if (status === 'fixed') step({ mark: 'fail', text: `merged, but no canary stage ran: ${result.detail}` });
      else if (status === 'aborted') step({ mark: 'ok', text: `canary aborted, bump reverted: ${result.detail}` });
      else step({ mark: 'fail', text: `heal ended ${status}: ${result.detail}` });
      if (mttrMs !== null) o.out(formatMttr(mttrMs));
      const reports = reportFiles(
        join(sutureState, 'reports'),
        outcomes.flatMap((x) => x.reports),
      );
      for (const r of reports) o.out(`report: ${r}`);
      outcomes.push({ scenario, status, detail: result.detail ?? '', mttrMs, reports });
      if (scenario === 'good') await git(repo, 'pull', '-q', '--ff-only', 'origin', 'main').catch(() => undefined);
    }
    return outcomes;
  } finally {
    await cleanupAll();
    o.out('');
    o.out(
      `demo state kept in ${state} (reports in ${join(state, 'suture', 'reports')}, logs in ${join(state, 'logs')})`,
    );
  }

  async function startProduction(image: string, port: number) {
    const c = await startServiceContainer({
      image,
      name: `suture-demo-${id}-${randomBytes(2).toString('hex')}`,
      port,
      labels: { [LABEL_DEMO]: id },
    });
    await abortable(waitForHttp(`http://127.0.0.1:${port}/healthz`, 20_000));
    return { remove: () => removeContainers([c.id]) };
  }

  async function cleanupAll() {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await Promise.all(children.map((c) => stopChild(c)));
    await removeWhere(`${LABEL_DEMO}=${id}`).catch(() => 0);
    await removeWhere(`${LABEL_RUN}=${RUN_ID}`).catch(() => 0);
  }
}

/** SIGTERM, then SIGKILL after 15 s; resolves when the child is gone. */
export function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null || c.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => c.kill('SIGKILL'), 15_000);
    c.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    c.kill('SIGTERM');
  });
}

/** Builds `tag` from the repo's tree at `commit` with the repo's own Dockerfile (no network: FROM a local image). */
async function buildFromCommit(repo: string, commit: string, tag: string): Promise<void> {
  if (await imageInfo(tag)) return;
  const archive = execa('git', ['archive', '--format=tar', commit], { cwd: repo, buffer: false });
  await buildImage({ context: archive.stdout!, tag, network: 'none', labels: { [LABEL_DEMO]: 'image' } });
  await archive;
}

/** The `crash` labels of the demo's firing alerts. */
async function firingCrashes(promUrl: string): Promise<string[]> {
  try {
    const res = await fetch(`${promUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(1000) });
    const doc = (await res.json()) as {
      data?: { alerts?: { state?: string; labels?: { alertname?: string; crash?: string } }[] };
    };
    return (doc.data?.alerts ?? [])
      .filter((a) => a.state === 'firing' && a.labels?.alertname === ALERT_NAME)
      .map((a) => a.labels?.crash ?? '');
  } catch {
    return [];
  }
}

/** Audit entries after the first `skip` (whole lines only). */
function readAudit(path: string, skip: number): AuditLine[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  const lines = text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter(Boolean);
  return lines.slice(skip).map((l) => JSON.parse(l) as AuditLine);
}

/** The report files not listed before, newest last. */
function reportFiles(dir: string, known: string[]): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .map((f) => join(dir, f))
    .filter((f) => !known.includes(f) && statSync(f).isFile())
    .sort((a, b) => statSync(a).mtimeMs - statSync(b).mtimeMs);
}
