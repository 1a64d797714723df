/**
 * `suture canary watch` on a real kube-apiserver with the real Argo Rollouts controller: the shipped
 * manifests pass a server-side dry run, and watch reads phase, step, hashes and analysis runs as the
 * controller writes them; its abort and promote patches are the ones the controller acts on (asserted on the
 * Rollout and ReplicaSets the controller wrote, not on what suture printed).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { renderPipelineTemplate } from '../../src/canary/argo/manifests.ts';
import { type KubeCluster, kubeSkipReason, startKube } from '../helpers/kube.ts';
import {
  apply,
  listObjs,
  namespace,
  type Obj,
  PIPELINES,
  shippedManifests,
  speedUp,
  startWorld,
  suture,
  type World,
  waitRollout,
  withImage,
} from './world.ts';

const skip = kubeSkipReason();

const SERVICE = 'cart-api';
let kube: KubeCluster;
let w: World;

beforeAll(async () => {
  if (skip) return;
  kube = await startKube();
  console.info(`control plane up in ${kube.startMs} ms (${JSON.stringify(kube.binaries.versions)})`);
  w = await startWorld(kube);
}, 180_000);
afterAll(async () => {
  await w?.stop();
  await kube?.stop();
});

const manifests = (ns: string, sutureUrl: string) =>
  shippedManifests({
    SERVICE,
    NAMESPACE: ns,
    IMAGE: 'registry.example.com/cart-api:1.0.0',
    SUTURE_URL: sutureUrl,
    PROMETHEUS_URL: w.prometheus.url,
  });

const watch = (ns: string, ...args: string[]) =>
  suture(['canary', 'watch', SERVICE, '-n', ns, '--kubeconfig', kube.kubeconfig, '--interval', '1', '--json', ...args]);
const parsed = (r: { stdout: string; stderr: string; code: number | null }) => {
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { rollout: Obj; actions: Obj[] };
};

describe.skipIf(skip)(
  `suture canary watch on the real Argo Rollouts controller${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    it('the shipped manifests pass a server-side dry run (a broken one is refused) and the controller accepts them', async () => {
      await namespace(w, 'dry');
      const all = [...manifests('dry', w.serve.base).values()].flat();
      expect(all.map((o) => o.kind).sort()).toContain('Rollout');
      const out = await apply(kube, all, { dryRun: true });
      for (const o of all) expect(out).toContain(o.metadata.name);
      // The dry run is a real check: a Rollout whose step is not a number is rejected by the CRD schema.
      const ro = all.find((o) => o.kind === 'Rollout')!;
      const bad = structuredClone(ro);
      bad.spec.strategy.canary.steps[0] = { setWeight: 'ten' };
      await expect(apply(kube, [bad], { dryRun: true })).rejects.toThrow(/setWeight/);
      // What the dry run cannot see, the controller checks: template references and their metrics (a step
      // analysis that "runs indefinitely" is InvalidSpec). Applied for real, the shipped set must be Healthy.
      await apply(kube, all);
      const live = await waitRollout(kube, 'dry', SERVICE, 'Healthy or InvalidSpec', (r) =>
        ['Healthy', 'Degraded'].includes(r.status.phase),
      );
      expect(live.status.message ?? '').not.toMatch(/InvalidSpec/);
      expect(live.status.phase).toBe('Healthy');
    });

    it('follows a canary through its steps, promotes a step, aborts (the controller scales the canary away), then promotes --full', async () => {
      const ns = 'watch';
      await namespace(w, ns);
      // Pauses of an hour: nothing moves past a pause unless suture promotes it.
      const objs = speedUp([...manifests(ns, w.serve.base).values()].flat(), { factor: 6, pause: '1h' });
      const rollout = objs.find((o) => o.kind === 'Rollout')!;
      await apply(kube, objs);
      const first = await waitRollout(kube, ns, SERVICE, 'Healthy', (r) => r.status.phase === 'Healthy');
      const stable = first.status.stableRS as string;

      const once = parsed(await watch(ns, '--once'));
      expect(once.rollout).toMatchObject({
        verdict: 'promoted',
        phase: 'Healthy',
        stableRS: stable,
        currentPodHash: stable,
      });

      // A new image: the controller starts the canary at setWeight 10 and stops at the one-hour pause.
      await apply(kube, [withImage(rollout, 'registry.example.com/cart-api:1.0.1')]);
      const paused = await waitRollout(
        kube,
        ns,
        SERVICE,
        'paused at step 2',
        (r) => r.status.phase === 'Paused' && r.status.currentStepIndex === 1,
      );
      const canary = paused.status.currentPodHash as string;
      expect(canary).not.toBe(stable);
      const seen = parsed(await watch(ns, '--once')).rollout;
      expect(seen).toMatchObject({
        verdict: 'paused',
        stableRS: stable,
        currentPodHash: canary,
        currentStepIndex: 1,
        currentStep: 'pause: 1h',
      });
      // Without a traffic router the controller writes no weights; setWeight 10 of 4 replicas is one canary pod.
      expect(seen.canaryWeight).toBeNull();
      expect(await replicas(ns, canary)).toBe(1);
      // The background analysis on suture's judge, as the controller reports it.
      expect(seen.backgroundAnalysis?.name).toMatch(new RegExp(`^${SERVICE}-`));

      // promote: the controller leaves the pause and runs setWeight 25, then stops at the next pause.
      const promoted = parsed(await watch(ns, '--promote', '--once'));
      expect(promoted.actions[0]).toMatchObject({ action: 'promote', patches: [{ target: 'status' }] });
      const next = await waitRollout(
        kube,
        ns,
        SERVICE,
        'paused at step 4',
        (r) => r.status.phase === 'Paused' && r.status.currentStepIndex === 3,
      );
      expect(next.status.stableRS).toBe(stable);

      // abort: watch returns aborted once the controller has written it; the canary ReplicaSet goes to zero.
      const aborted = parsed(await watch(ns, '--abort', '--timeout', '90'));
      expect(aborted.actions[0]).toMatchObject({
        action: 'abort',
        patches: [{ target: 'status', body: { status: { abort: true } } }],
      });
      expect(aborted.rollout).toMatchObject({ verdict: 'aborted', stableRS: stable, aborted: true });
      const ro = await waitRollout(
        kube,
        ns,
        SERVICE,
        'canary scaled down',
        (r) => r.status.abort === true && r.status.phase === 'Degraded',
      );
      expect(ro.status.stableRS).toBe(stable);
      expect(ro.status.conditions.some((c: Obj) => c.reason === 'RolloutAborted')).toBe(true);
      await expect.poll(async () => replicas(ns, canary), { timeout: 60_000, interval: 500 }).toBe(0);
      expect(await replicas(ns, stable)).toBe(rollout.spec.replicas);

      // A newer image, then promote --full: the controller skips the remaining steps and analysis.
      await apply(kube, [withImage(rollout, 'registry.example.com/cart-api:1.0.2')]);
      const third = await waitRollout(
        kube,
        ns,
        SERVICE,
        'new canary paused',
        (r) => r.status.phase === 'Paused' && r.status.currentPodHash !== canary,
      );
      const full = parsed(await watch(ns, '--promote', '--full', '--timeout', '120'));
      expect(full.actions[0]).toMatchObject({
        action: 'promote-full',
        patches: [{ target: 'status', body: { status: { promoteFull: true } } }],
      });
      expect(full.rollout).toMatchObject({ verdict: 'promoted', stableRS: third.status.currentPodHash });
      const done = await waitRollout(kube, ns, SERVICE, 'Healthy on the new hash', (r) => r.status.phase === 'Healthy');
      expect(done.status.stableRS).toBe(third.status.currentPodHash);
      expect(done.status.stableRS).not.toBe(stable);
    }, 420_000);
  },
);

describe.skipIf(skip)(`the canary watch Role on the real API server${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('lets a non-admin ServiceAccount token watch, abort and promote, and nothing else', async () => {
    const ns = 'rbac';
    await namespace(w, ns);
    await kube.kubectl(['create', 'namespace', 'suture-system']);
    await kube.kubectl(['-n', 'suture-system', 'create', 'serviceaccount', 'suture']);
    // A real ServiceAccount token (TokenRequest), as suture running in the cluster would hold.
    const token = (await kube.kubectl(['-n', 'suture-system', 'create', 'token', 'suture', '--duration=1h'])).trim();
    const sa = kube.kubeconfigFor(token, 'suture-sa');
    const objs = speedUp([...manifests(ns, w.serve.base).values()].flat(), { factor: 6, pause: '1h' });
    const rollout = objs.find((o) => o.kind === 'Rollout')!;
    await apply(kube, objs);
    await waitRollout(kube, ns, SERVICE, 'Healthy', (r) => r.status.phase === 'Healthy');
    const asSa = (...args: string[]) =>
      suture(['canary', 'watch', SERVICE, '-n', ns, '--kubeconfig', sa, '--interval', '1', '--json', ...args]);

    // Before the Role is bound: refused by the API server, one line, no stack trace.
    const denied = await asSa('--once');
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toMatch(/forbidden/i);
    expect(denied.stderr).not.toMatch(/\n\s+at /);

    const rbac = renderPipelineTemplate(readFileSync(join(PIPELINES, 'rbac-canary-watch.yaml'), 'utf8'), {
      NAMESPACE: ns,
      SUTURE_NAMESPACE: 'suture-system',
    });
    await apply(
      kube,
      parseAllDocuments(rbac).map((d) => d.toJS() as Obj),
    );
    expect(parsed(await asSa('--once')).rollout).toMatchObject({ verdict: 'promoted' });

    await apply(kube, [withImage(rollout, 'registry.example.com/cart-api:2.0.0')]);
    await waitRollout(
      kube,
      ns,
      SERVICE,
      'paused',
      (r) => r.status.phase === 'Paused' && r.status.currentStepIndex === 1,
    );
    parsed(await asSa('--promote', '--once'));
    await waitRollout(
      kube,
      ns,
      SERVICE,
      'next pause',
      (r) => r.status.phase === 'Paused' && r.status.currentStepIndex === 3,
    );
    expect(parsed(await asSa('--abort', '--timeout', '90')).rollout).toMatchObject({ verdict: 'aborted' });

    // Nothing beyond the Role: no Secrets (the judge token), no deletes, no other namespace.
    const kubectlAsSa = (...args: string[]) => kube.kubectl([`--kubeconfig=${sa}`, ...args]);
    for (const denied of [
      ['auth', 'can-i', 'get', 'secrets', '-n', ns],
      ['auth', 'can-i', 'delete', 'rollouts.argoproj.io', '-n', ns],
      ['auth', 'can-i', 'patch', 'rollouts.argoproj.io', '-n', 'watch'],
      ['auth', 'can-i', 'update', 'rollouts.argoproj.io', '-n', ns],
      ['auth', 'can-i', 'create', 'pods', '-n', ns],
    ]) {
      await expect(kubectlAsSa(...denied), denied.join(' ')).rejects.toThrow(/no/);
    }
    await expect(kubectlAsSa('-n', ns, 'get', 'secret', 'suture-token')).rejects.toThrow(/forbidden/i);
    expect((await kubectlAsSa('auth', 'can-i', 'patch', 'rollouts.argoproj.io/status', '-n', ns)).trim()).toBe('yes');
  }, 300_000);
});

/** spec.replicas of the Rollout's ReplicaSet for a pod hash. */
async function replicas(ns: string, hash: string): Promise<number> {
  const rs = (await listObjs(kube, ns, 'replicasets')).find(
    (r) => r.metadata.labels?.['rollouts-pod-template-hash'] === hash,
  );
  return rs?.spec.replicas ?? -1;
}
