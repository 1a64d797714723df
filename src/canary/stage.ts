/**
 * The release stage, after a fix merged: build the fixed image, bump the operator's GitOps config repository
 * to it, run the canary, revert exactly that bump when the canary aborts. One entry point, `release()`,
 * returning a plain record; it knows nothing of the stages around it.
 *
 * Backends (stage-config.ts): `local` rehearses the service's own Rollout manifest with real containers
 * (stable = the crashing revision's image, canary = the fix's) behind the weighted router and a private
 * Prometheus. The judge sees the incident's healthy samples replayed through the router, so a fix that
 * breaks a healthy route aborts; the incident's crashing requests go straight to the canary beside them and
 * must not fail there (they would fail on stable by construction, and mixing them into the judged traffic
 * would let a fix that trades the crash for a broken healthy route look no worse than stable). `argo`: the
 * bump is what Argo CD rolls out; the Rollout is followed to Healthy (promoted) or aborted/Degraded.
 *
 * Every step is journaled (the image, the bump through bumpImage's own records, the decision, the revert),
 * so a heal resumed after a kill skips what is done: the bump is never made twice (bumpImage finds its
 * value already set), a decided canary is not run again, and a rehearsal cut off half-way is run again.
 */
import type { ServiceConfig } from '../config/service.ts';
import { errorMessage, SutureError } from '../errors.ts';
import { bumpImage, revertBump } from '../gitops/config-repo/index.ts';
import { loadOperatorConfig, type OperatorConfig } from '../gitops/config-repo/operator.ts';
import { Journal } from '../gitops/journal.ts';
import { readCapture } from '../incident/healthy/index.ts';
import type { Incident, RequestSample } from '../incident/types.ts';
import type { Progress } from '../pipeline/progress.ts';
import { readInTree } from '../sandbox/confined.ts';
import { exportTree, removeTree } from '../sandbox/trees.ts';
import { createRolloutApi, loadKubeConfig, type RolloutApi, watchRollout } from './argo/index.ts';
import type { Counts } from './judge/index.ts';
import { freePort } from './local/ports.ts';
import { startLocalRollout } from './local/rollout.ts';
import { findRolloutPlan, parseRolloutPlan, type RolloutPlan } from './local/steps.ts';
import { generateTraffic, sampleUrl } from './local/traffic.ts';
import { type ReleaseSettings, releaseSettings } from './stage-config.ts';
import { buildReleaseImage, type ReleaseImage } from './stage-image.ts';

export interface ReleaseRequest {
  repo: string;
  /** The crashing revision (the local backend's stable). */
  base: string;
  /** The merged fix. */
  commit: string;
  incident: Incident;
  config: ServiceConfig;
  stateDir: string;
  progress: Progress;
  /** Interrupts the stage between steps and mid-rehearsal (nothing undecided is journaled as decided). */
  signal?: AbortSignal;
  /** The operator's environment (SUTURE_CANARY, SUTURE_GITOPS_CONFIG, KUBECONFIG); default process.env. */
  env?: NodeJS.ProcessEnv;
  /** The Kubernetes API for the argo backend; default: from the kubeconfig. */
  rolloutApi?: RolloutApi;
}

export interface ReleaseSeriesPoint {
  t: number;
  stable: Counts;
  canary: Counts;
}

export interface ReleaseOutcome {
  backend: 'local' | 'argo';
  decision: 'promoted' | 'aborted';
  /** Seconds since the canary started; the judge's (or the Rollout's) reason. */
  at: number;
  reason: string;
  /** The fixed image's tag, and its id. */
  image: string;
  imageId: string;
  bump: { file: string; from: string; to: string; commit: string } | null;
  reverted: { commit: string } | null;
  series: ReleaseSeriesPoint[];
  steps: { name: string; ms: number }[];
  /** Steps taken from the journal rather than done again. */
  resumed: string[];
}

/** What a heal's result carries of the release. */
export type HealCanary = Pick<
  ReleaseOutcome,
  'backend' | 'decision' | 'at' | 'reason' | 'image' | 'bump' | 'reverted' | 'series'
>;

/** What the journal keeps of a decided canary (the outcome without what is rebuilt on resume). */
type Decided = Pick<ReleaseOutcome, 'decision' | 'at' | 'reason' | 'series' | 'bump'>;

/** Runs the release of `req.commit`; null when no canary is configured. */
export async function release(req: ReleaseRequest): Promise<ReleaseOutcome | null> {
  const env = req.env ?? process.env;
  const settings = releaseSettings(req.config, env);
  if (!settings) return null;
  const service = req.config.service;
  const gitops = env.SUTURE_GITOPS_CONFIG ? loadOperatorConfig(undefined, env) : null;
  const listed = gitops?.services.has(service) ? gitops : null;
  if (settings.backend === 'argo' && !listed) {
    throw new SutureError(
      'BAD_CONFIG',
      `SUTURE_CANARY=argo needs the GitOps config (SUTURE_GITOPS_CONFIG) to list service ${service}: the bump is what Argo CD rolls out`,
    );
  }
  const steps: { name: string; ms: number }[] = [];
  const resumed: string[] = [];
  const step = async <T>(name: string, fn: () => Promise<T>, describe: (r: T) => string): Promise<T> => {
    if (req.signal?.aborted) throw interrupted();
    const started = performance.now();
    const r = await fn();
    const ms = Math.round(performance.now() - started);
    steps.push({ name, ms });
    req.progress(`${name}: ${describe(r)} (${ms} ms)`);
    return r;
  };

  const tree = await exportTree(req.repo, req.commit);
  const journal = new Journal(req.stateDir);
  try {
    const plan = await rolloutPlan(tree, service, settings);
    if (!plan && settings.backend === 'local') return null;
    const done = journal.release(req.incident.id, req.commit);

    const fixed = await step(
      'build image',
      () => buildReleaseImage({ tree, commit: req.commit, config: req.config, progress: req.progress, env }),
      (i) => `${i.tag} ${i.built ? 'built' : 'reused'}`,
    );
    journal.recordReleaseImage(req.incident.id, req.commit, settings.backend, { tag: fixed.tag, id: fixed.id });

    const previous = done?.decision as Decided | null | undefined;
    if (previous) {
      resumed.push('canary');
      req.progress(`canary: decided before this run (${previous.decision}), not run again`);
      const reverted = previous.decision === 'aborted' && previous.bump ? await revert(req, listed!, step) : null;
      return { backend: settings.backend, ...previous, image: fixed.tag, imageId: fixed.id, reverted, steps, resumed };
    }

    let bump: ReleaseOutcome['bump'] = null;
    if (listed) {
      bump = await step(
        'bump config repo',
        async () => {
          const r = await bumpImage({
            stateDir: req.stateDir,
            config: listed,
            service,
            image: { tag: fixed.tag.slice(fixed.tag.lastIndexOf(':') + 1) },
            incident: req.incident.id,
            fingerprint: req.incident.fingerprint,
          });
          if (r.status === 'unchanged' && r.commit) resumed.push('bump');
          return r.commit ? { file: r.file, from: r.previous, to: r.value, commit: r.commit } : null;
        },
        (b) => (b ? `${b.file}: ${b.from} -> ${b.to} (${b.commit.slice(0, 12)})` : 'already at that image'),
      );
    }

    const canary = await step(
      `canary (${settings.backend})`,
      () =>
        settings.backend === 'local'
          ? rehearse(req, settings, plan!, fixed)
          : followArgo(req, settings, plan, bump?.to ?? fixed.tag.slice(fixed.tag.lastIndexOf(':') + 1)),
      (c) => `${c.decision} at ${c.at} s: ${c.reason}`,
    );
    const decided: Decided = { ...canary, bump };
    journal.recordReleaseDecision(req.incident.id, req.commit, decided);
    const reverted = canary.decision === 'aborted' && bump ? await revert(req, listed!, step) : null;
    return { backend: settings.backend, ...decided, image: fixed.tag, imageId: fixed.id, reverted, steps, resumed };
  } finally {
    journal.close();
    await removeTree(tree);
  }
}

function interrupted(): SutureError {
  return new SutureError('INTERNAL', 'the release was interrupted; a resumed heal continues it');
}

/**
 * The canary plan a proposal shows (pull-request body): the Rollout the release stage would run for this
 * tree, or null when no canary is configured or its manifest cannot be read (the release says why).
 */
export async function canaryPlanFor(
  tree: string,
  config: ServiceConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RolloutPlan | null> {
  try {
    const settings = releaseSettings(config, env);
    return settings ? await rolloutPlan(tree, config.service, settings) : null;
  } catch {
    return null;
  }
}

/** The Rollout plan: suture.yaml's manifest, else the one found in the tree; null when there is none. */
async function rolloutPlan(tree: string, service: string, s: ReleaseSettings): Promise<RolloutPlan | null> {
  if (s.rollout) {
    const r = readInTree(tree, s.rollout, 1024 * 1024);
    if (!r.ok)
      throw new SutureError('BAD_CONFIG', `suture.yaml: canary.rollout ${s.rollout} cannot be read: ${r.message}`);
    return toConfigError(() => parseRolloutPlan(r.data.toString('utf8'), s.rollout));
  }
  try {
    return await findRolloutPlan(tree, service);
  } catch (err) {
    // No manifest and no canary: section: no canary is configured. With one, the manifest was meant to be there.
    if (!s.explicit || s.backend === 'argo') return null;
    throw new SutureError('BAD_CONFIG', `suture.yaml has a canary: section but ${errorMessage(err)}`);
  }
}

function toConfigError<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new SutureError('BAD_CONFIG', errorMessage(err));
  }
}

type Step = <T>(name: string, fn: () => Promise<T>, describe: (r: T) => string) => Promise<T>;

async function revert(req: ReleaseRequest, gitops: OperatorConfig, step: Step): Promise<{ commit: string } | null> {
  const r = await step(
    'revert bump',
    () =>
      revertBump({ stateDir: req.stateDir, config: gitops, incident: req.incident.id, service: req.config.service }),
    (r) =>
      r.status === 'reverted'
        ? `${r.file}: ${r.from} -> ${r.to} (${r.commit.slice(0, 12)})`
        : r.status === 'already-reverted'
          ? `already reverted by ${r.by.slice(0, 12)}`
          : `refused: ${r.reason}`,
  );
  if (r.status === 'reverted') return { commit: r.commit };
  if (r.status === 'already-reverted') return { commit: r.by };
  // Someone changed the value since: theirs stands, and the outcome says nothing was reverted.
  return null;
}

type CanaryResult = Pick<ReleaseOutcome, 'decision' | 'at' | 'reason' | 'series'>;

/** Requests a rehearsal may replay: only paths on the target's origin (no full URLs, no `//host`). */
function replayable(samples: RequestSample[]): RequestSample[] {
  const origin = new URL('http://127.0.0.1:1');
  return samples.filter((s) => {
    try {
      sampleUrl(s, origin);
      return true;
    } catch {
      return false;
    }
  });
}

/** At most this many requests of the capture are replayed in a rehearsal. */
const CAPTURE_REPLAY_MAX = 1000;

/** The healthy (2xx) requests of the capture suture.yaml names (`differential.samples`), none without one. */
export function capturedTraffic(tree: string, config: ServiceConfig): RequestSample[] {
  const path = config.differential?.samples;
  if (!path) return [];
  return readCapture(tree, path)
    .samples.filter((s) => s.status === undefined || (s.status >= 200 && s.status < 300))
    .slice(0, CAPTURE_REPLAY_MAX);
}

/** The local backend: base vs fix rehearsed through the service's Rollout steps under replayed traffic. */
async function rehearse(
  req: ReleaseRequest,
  s: ReleaseSettings,
  plan: RolloutPlan,
  fixed: ReleaseImage,
): Promise<CanaryResult> {
  const service = req.config.service;
  const baseTree = await exportTree(req.repo, req.base);
  let stable: ReleaseImage;
  let captured: RequestSample[];
  try {
    stable = await buildReleaseImage({ tree: baseTree, commit: req.base, config: req.config, env: req.env });
    captured = capturedTraffic(baseTree, req.config);
  } finally {
    await removeTree(baseTree);
  }
  // The sandbox compared one healthy sample per route; the rehearsal replays the traffic as captured, every
  // request shape in it, so a fix that breaks inputs the sandbox never saw meets them here.
  const healthy = replayable([...captured, ...req.incident.healthyRequests]);
  const judged = healthy.length ? healthy : [{ method: 'GET', path: req.config.health }];
  if (!healthy.length)
    req.progress(`canary: the incident has no healthy samples; rehearsing with GET ${req.config.health}`);
  const crashing = replayable(req.incident.requests);
  const canaryPort = await freePort();
  const series: ReleaseSeriesPoint[] = [];
  const version = (commit: string) => commit.slice(0, 12);
  const r = await startLocalRollout({
    service,
    plan,
    stable: { image: stable.tag, version: version(req.base), health: req.config.health },
    canary: { image: fixed.tag, version: version(req.commit), port: canaryPort, health: req.config.health },
    bucketSeconds: s.bucketSeconds,
    judge: s.judge,
    analysisTimeoutSeconds: s.duration,
    onEvent: (e) => {
      if (e.type === 'bucket') series.push({ t: e.bucket.t, stable: e.bucket.stable, canary: e.bucket.canary });
      if (e.type === 'step') req.progress(`canary: step ${e.index + 1}/${plan.steps.length} ${describeStep(e.step)}`);
    },
  });
  const onAbort = () => r.abort('interrupted');
  req.signal?.addEventListener('abort', onAbort);
  const maxSeconds = s.duration + plan.steps.length * 5 + 30;
  const traffic = generateTraffic({
    url: r.routerUrl,
    samples: judged,
    rps: s.rate,
    maxRequests: Math.ceil(s.rate * maxSeconds),
    maxSeconds,
  });
  // The crashing requests, straight to the canary: the fix must answer them (a 4xx is an answer).
  const failing = (status: number | 'error', sample: RequestSample | null) => {
    if (status === 'error' || status >= 500)
      r.abort(
        `the fix still fails the incident's request ${sample?.method} ${sample?.path} (${status}) under real traffic`,
      );
  };
  const crashReplay = crashing.length
    ? generateTraffic({
        url: `http://127.0.0.1:${canaryPort}/`,
        samples: crashing,
        rps: Math.max(1, s.rate / 10),
        maxRequests: Math.ceil(Math.max(1, s.rate / 10) * maxSeconds),
        maxSeconds,
        onAnswer: failing,
      })
    : null;
  try {
    const result = await r.result;
    if (req.signal?.aborted) throw interrupted();
    return { decision: result.outcome, at: result.at, reason: result.reason, series };
  } finally {
    req.signal?.removeEventListener('abort', onAbort);
    traffic.stop();
    crashReplay?.stop();
    await Promise.all([traffic.done, crashReplay?.done]);
    await r.cleanup();
  }
}

function describeStep(step: RolloutPlan['steps'][number]): string {
  if (step.kind === 'setWeight') return `setWeight ${step.weight}`;
  if (step.kind === 'pause')
    return step.seconds === null ? 'pause (until the judge decides)' : `pause ${step.seconds} s`;
  if (step.kind === 'analysis') return 'analysis';
  return `${step.name} (skipped locally)`;
}

/** Whether the Rollout's pod template runs `tag` (as `…:tag` or `…@tag`). Pure. */
export function rolloutRunsImage(
  rollout: { spec?: { template?: { spec?: { containers?: { image?: string }[] } } } },
  tag: string,
): boolean {
  return (rollout.spec?.template?.spec?.containers ?? []).some(
    (c) => typeof c.image === 'string' && (c.image.endsWith(`:${tag}`) || c.image.endsWith(`@${tag}`)),
  );
}

/** The argo backend: wait for Argo CD to apply the bump, then follow the Rollout to its end. */
async function followArgo(
  req: ReleaseRequest,
  s: ReleaseSettings,
  plan: RolloutPlan | null,
  value: string,
): Promise<CanaryResult> {
  const env = req.env ?? process.env;
  const api = req.rolloutApi ?? createRolloutApi(loadKubeConfig(env.KUBECONFIG ? { kubeconfig: env.KUBECONFIG } : {}));
  const ref = { namespace: s.namespace, name: plan?.name ?? req.config.service };
  const started = Date.now();
  const deadline = started + s.duration * 1000;
  const intervalMs = Math.min(2000, s.bucketSeconds * 1000);
  const at = () => Math.round((Date.now() - started) / 1000);
  // Until Argo CD syncs the bump, the Rollout is Healthy on the old image: that is no promotion of the fix.
  while (!rolloutRunsImage(await api.get(ref), value)) {
    if (req.signal?.aborted) throw interrupted();
    if (Date.now() >= deadline)
      return {
        decision: 'aborted',
        at: at(),
        reason: `Argo CD did not roll out ${value} to ${ref.namespace}/${ref.name} within ${s.duration} s`,
        series: [],
      };
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  const view = await watchRollout(api, ref, {
    intervalMs,
    timeoutMs: Math.max(0, deadline - Date.now()),
    ...(req.signal ? { signal: req.signal } : {}),
    onStatus: (v) =>
      req.progress(
        `canary: rollout ${ref.namespace}/${ref.name} ${v.verdict}${v.currentStep ? ` at ${v.currentStep}` : ''}${v.message ? `: ${v.message}` : ''}`,
      ),
  });
  if (req.signal?.aborted) throw interrupted();
  if (view.verdict === 'promoted')
    return { decision: 'promoted', at: at(), reason: `rollout ${ref.name} is Healthy on ${value}`, series: [] };
  const why = view.terminal
    ? `rollout ${ref.name} is ${view.verdict}${view.message ? `: ${view.message}` : ''}`
    : `rollout ${ref.name} did not finish within ${s.duration} s (${view.verdict})`;
  return { decision: 'aborted', at: at(), reason: why, series: [] };
}
