/**
 * Argo's own analysis on suture's judge, on the real controller: the shipped AnalysisTemplates' `web`
 * provider POSTs to a real `suture serve` /judge, which reads a real Prometheus scraping an exporter the test
 * scripts per pod hash. Nothing here patches the Rollout: every promotion and abort is the controller's own.
 *   healthy canary      -> promoted (through the last step's analysis; consecutiveSuccessLimit where shipped)
 *   regressed canary    -> the judge answers abort, the run fails, the controller aborts the Rollout
 *   /judge unreachable  -> measurement errors; never promoted (fail closed)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/canary/local/ports.ts';
import { type KubeCluster, kubeSkipReason, startKube } from '../helpers/kube.ts';
import {
  apply,
  listObjs,
  namespace,
  type Obj,
  type Profile,
  shippedManifests,
  speedUp,
  startWorld,
  type World,
  waitRollout,
  withImage,
} from './world.ts';

const skip = kubeSkipReason();
let kube: KubeCluster;
let w: World;

beforeAll(async () => {
  if (skip) return;
  kube = await startKube();
  w = await startWorld(kube);
}, 180_000);
afterAll(async () => {
  await w?.stop();
  await kube?.stop();
});

const HEALTHY: Profile = { rps: 50, errorRatio: 0.002 };

/**
 * Deploys the shipped manifests for `service` in namespace `ns`, waits for the first version to be Healthy,
 * then rolls out a new image whose canary serves `canary` (stable keeps serving HEALTHY). Returns the hashes
 * and, polled until `until` holds, every status the controller wrote on the way.
 */
async function canaryRun(
  service: string,
  opts: { canary: Profile; pause?: string; sutureUrl?: string; until: (ro: Obj) => boolean; ms: number },
) {
  const ns = service;
  await namespace(w, ns);
  const shipped = shippedManifests({
    SERVICE: service,
    NAMESPACE: ns,
    IMAGE: `registry.example.com/${service}:1.0.0`,
    SUTURE_URL: opts.sutureUrl ?? w.serve.base,
    PROMETHEUS_URL: w.prometheus.url,
  });
  const objs = speedUp([...shipped.values()].flat(), { factor: 6, ...(opts.pause ? { pause: opts.pause } : {}) });
  const rollout = objs.find((o) => o.kind === 'Rollout')!;
  await apply(kube, objs);
  const first = await waitRollout(kube, ns, service, 'Healthy', (r) => r.status.phase === 'Healthy');
  const stable = first.status.stableRS as string;
  w.exporter.set(service, stable, HEALTHY);
  await apply(kube, [withImage(rollout, `registry.example.com/${service}:1.0.1`)]);
  const moving = await waitRollout(
    kube,
    ns,
    service,
    'a canary',
    (r) => !!r.status.currentPodHash && r.status.currentPodHash !== stable,
  );
  const canary = moving.status.currentPodHash as string;
  w.exporter.set(service, canary, opts.canary);
  const seen: Obj[] = [];
  const final = await waitRollout(
    kube,
    ns,
    service,
    'the end of the canary',
    (r) => {
      seen.push(r.status);
      return opts.until(r);
    },
    opts.ms,
  );
  const runs = await listObjs(kube, ns, 'analysisruns');
  return { ns, stable, canary, final, seen, runs, rollout };
}

/** The measurements' JSON answers of an AnalysisRun, all metrics. */
const answers = (run: Obj): Obj[] =>
  (run.status?.metricResults ?? []).flatMap((m: Obj) =>
    (m.measurements ?? []).filter((x: Obj) => x.value).map((x: Obj) => ({ phase: x.phase, ...JSON.parse(x.value) })),
  );

describe.skipIf(skip)(`Argo's analysis on suture's judge, real controller${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it.concurrent('a healthy canary is promoted by the controller through the judge', async () => {
    const r = await canaryRun('healthy-api', {
      canary: HEALTHY,
      // Ends on promotion, or early on an abort (which the assertions then reject).
      until: (ro) =>
        (ro.status.phase === 'Healthy' && ro.status.stableRS === ro.status.currentPodHash) || ro.status.abort === true,
      ms: 300_000,
    });
    expect(r.final.status.stableRS).toBe(r.canary);
    expect(r.final.status.abort).toBeFalsy();
    // The last step's analysis run ended Successful on suture's answers.
    const byTemplate = r.runs.filter((x) => (x.metadata.labels?.['rollouts-pod-template-hash'] ?? '') === r.canary);
    expect(byTemplate.length, JSON.stringify(r.runs.map((x) => x.metadata.name))).toBeGreaterThan(0);
    for (const run of byTemplate) expect(run.status.phase, run.metadata.name).toBe('Successful');
    const judged = byTemplate.flatMap(answers).filter((a) => 'decision' in a);
    expect(judged.length).toBeGreaterThan(0);
    expect(judged.every((a) => a.abort === false)).toBe(true);
    const promoteMetric = byTemplate
      .flatMap((x) => x.spec.metrics as Obj[])
      .find((m) => m.consecutiveSuccessLimit !== undefined);
    if (promoteMetric) {
      // consecutiveSuccessLimit: the gate ended on the judge's promote, not on a count of measurements.
      expect(judged.some((a) => a.promote === true)).toBe(true);
    }
  }, 360_000);

  it.concurrent('a regressed canary: the judge answers abort and the controller aborts the Rollout itself', async () => {
    const r = await canaryRun('regressed-api', {
      canary: { rps: 50, errorRatio: 0.4 },
      // An hour-long pause: only the analysis can end this canary.
      pause: '1h',
      until: (ro) => ro.status.abort === true && ro.status.phase === 'Degraded',
      ms: 240_000,
    });
    expect(r.final.status.stableRS).toBe(r.stable);
    expect(r.final.status.message).toMatch(/RolloutAborted|aborted/i);
    const background = r.runs.find((x) => x.spec.metrics.some((m: Obj) => m.name === 'sequential-judge'));
    expect(background?.status.phase).toBe('Failed');
    const judged = answers(background!);
    expect(judged.at(-1)).toMatchObject({ decision: 'abort', abort: true, phase: 'Failed' });
    // Never promoted on the way.
    expect(r.seen.every((s) => s.stableRS !== r.canary)).toBe(true);
  }, 300_000);

  it.concurrent('suture unreachable: measurement errors, the canary is never promoted', async () => {
    const closed = await freePort();
    const r = await canaryRun('unreachable-api', {
      canary: HEALTHY,
      // The shipped pauses (sped up like the intervals): without the analysis, promoted in about 2 minutes.
      sutureUrl: `http://127.0.0.1:${closed}`,
      until: (ro) => ro.status.abort === true || ro.status.stableRS === ro.status.currentPodHash,
      ms: 240_000,
    });
    expect(r.final.status.stableRS).toBe(r.stable);
    expect(r.final.status.abort).toBe(true);
    expect(r.seen.every((s) => s.stableRS !== r.canary)).toBe(true);
    const errored = r.runs.filter((x) => x.status?.phase === 'Error');
    expect(errored.length, JSON.stringify(r.runs.map((x) => [x.metadata.name, x.status?.phase]))).toBeGreaterThan(0);
  }, 300_000);
});
