/**
 * `suture heal --mode auto` with SUTURE_CANARY=argo against the real controller. The test plays Argo CD: it
 * watches the GitOps config repository and applies the Rollout with the image tag it holds, as a sync would.
 * The fix is verified, merged and released; its bump reaches the cluster; the controller runs the canary
 * under Argo's analysis on suture's judge. The exporter scripts the new pod hash as regressed, so the judge
 * answers abort, the controller aborts, suture reverts exactly its bump, and the reverted tag, synced back,
 * returns the Rollout to its stable ReplicaSet (asserted on the objects the controller wrote).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeGitRepos } from '../../src/gitops/git.ts';
import { type KubeCluster, kubeSkipReason, startKube } from '../helpers/kube.ts';
import { addOrigin, cleanup, git, healWith, repoFromService, tempDir } from '../helpers/repo.ts';
import {
  apply,
  getObj,
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
const SERVICE = 'pricing-api';
const IMAGE = 'registry.example.com/pricing-api';
let kube: KubeCluster;
let w: World;
const made: string[] = [];

beforeAll(async () => {
  if (skip) return;
  kube = await startKube();
  w = await startWorld(kube);
}, 180_000);
afterAll(async () => {
  await w?.stop();
  await kube?.stop();
  await closeGitRepos();
  cleanup(...made);
});

const HEALTHY: Profile = { rps: 50, errorRatio: 0.002 };
const REGRESSED: Profile = { rps: 50, errorRatio: 0.4 };

/** The test's Argo CD: every second, the config repo's tag is applied to the Rollout when it changed. */
function argoCdSync(remote: string, rollout: Obj) {
  const synced: string[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const values = await git(remote, 'show', `main:charts/${SERVICE}/values.yaml`).catch(() => '');
      const tag = /tag: "?([0-9a-zA-Z._-]+)"?/.exec(values)?.[1];
      if (tag && tag !== synced.at(-1)) {
        await apply(kube, [withImage(rollout, `${IMAGE}:${tag}`)]);
        synced.push(tag);
      }
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  return {
    synced,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/** Scripts the exporter: the stable hash healthy, any other (the fix's canary) as `canary`. */
function scriptTraffic(ns: string, stable: string, canary: Profile) {
  const scripted = new Set<string>();
  w.exporter.set(SERVICE, stable, HEALTHY);
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const ro = await getObj(kube, ns, 'rollout', SERVICE).catch(() => null);
      const hash = ro?.status?.currentPodHash as string | undefined;
      if (hash && hash !== stable && !scripted.has(hash)) {
        w.exporter.set(SERVICE, hash, canary);
        scripted.add(hash);
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    scripted,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/**
 * One heal of a fresh pricing-api repo against namespace `ns`: the config repo, the shipped Rollout synced
 * from it and Healthy on the deployed tag, then `heal --mode auto` with the canary's traffic scripted as
 * `canary`. Waits, after the heal, until `settled` holds for the Rollout.
 */
async function healScenario(
  ns: string,
  canary: Profile,
  pause: string | undefined,
  settled: (ro: Obj, s: { base: string; stable: string }) => boolean,
) {
  // The service repo, with a canary: section naming the cluster namespace.
  const repo = await repoFromService(SERVICE);
  const root = tempDir('suture-heal-argo-');
  made.push(repo, root);
  writeFileSync(
    join(repo, 'suture.yaml'),
    `${readFileSync(join(repo, 'suture.yaml'), 'utf8')}canary:\n  namespace: ${ns}\n  duration: 600\n  bucketSeconds: 5\n`,
  );
  await git(repo, 'add', '-A');
  await git(repo, 'commit', '-qm', `canary settings (${ns})`);
  const base = (await git(repo, 'rev-parse', 'HEAD')).slice(0, 12);
  made.push(await addOrigin(repo));

  // The GitOps config repo (a Helm values file with the deployed tag) and the operator's config.
  const remote = join(root, 'deploy.git');
  const clone = join(root, 'clone');
  await git(root, 'init', '-q', '--bare', '-b', 'main', remote);
  await git(root, 'clone', '-q', remote, clone);
  await git(clone, 'checkout', '-qb', 'main');
  mkdirSync(join(clone, 'charts', SERVICE), { recursive: true });
  writeFileSync(join(clone, 'charts', SERVICE, 'values.yaml'), `image:\n  tag: "${base}"\n`);
  await git(clone, 'add', '-A');
  await git(clone, 'commit', '-qm', 'deploy config');
  await git(clone, 'push', '-q', 'origin', 'main');
  const operator = join(root, 'gitops.yaml');
  writeFileSync(
    operator,
    `repository: { url: ./deploy.git, branch: main }\nservices:\n  ${SERVICE}:\n    file: charts/${SERVICE}/values.yaml\n    helm: { tag: image.tag }\n`,
  );

  // The cluster: the shipped templates and the Rollout as synced from the config repo, Healthy before the heal.
  await namespace(w, ns);
  const objs = speedUp(
    [
      ...shippedManifests({
        SERVICE,
        NAMESPACE: ns,
        IMAGE: `${IMAGE}:${base}`,
        SUTURE_URL: w.serve.base,
        PROMETHEUS_URL: w.prometheus.url,
      }).values(),
    ].flat(),
    { factor: 6, ...(pause ? { pause } : {}) },
  );
  await apply(
    kube,
    objs.filter((o) => o.kind !== 'Rollout'),
  );
  const sync = argoCdSync(remote, objs.find((o) => o.kind === 'Rollout')!);
  const first = await waitRollout(
    kube,
    ns,
    SERVICE,
    'Healthy on the deployed tag',
    (r) => r.status.phase === 'Healthy',
  );
  const stable = first.status.stableRS as string;
  const traffic = scriptTraffic(ns, stable, canary);
  try {
    const r = await healWith(
      {
        SUTURE_LOCAL_MERGE: 'fast-forward',
        SUTURE_GITOPS_CONFIG: operator,
        SUTURE_CANARY: 'argo',
        KUBECONFIG: kube.kubeconfig,
      },
      SERVICE,
      repo,
      join(root, 'state'),
      '--mode',
      'auto',
    );
    await waitRollout(kube, ns, SERVICE, 'settled after the heal', (ro) => settled(ro, { base, stable }), 120_000);
    const out = JSON.parse(r.stdout);
    return { r, out, base, fix: String(out.commit ?? '').slice(0, 12), stable, remote, sync, traffic };
  } finally {
    await sync.stop();
    await traffic.stop();
  }
}

describe.skipIf(skip)(`heal --mode auto, argo backend, real controller${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('an abort by Argo on the judge makes suture revert its bump; the synced revert returns the Rollout to stable', async () => {
    // Pauses of an hour: only the judge's analysis can end this canary. Settled: the revert synced, on stable.
    const h = await healScenario(
      'shop',
      REGRESSED,
      '1h',
      (ro, { base, stable }) =>
        ro.status.phase === 'Healthy' &&
        !ro.status.abort &&
        ro.status.currentPodHash === stable &&
        ro.spec.template.spec.containers[0].image === `${IMAGE}:${base}`,
    );
    expect(h.out.status, `${h.out.reason}\n${h.r.stderr}`).toBe('aborted');
    expect(h.out.canary).toMatchObject({ backend: 'argo', decision: 'aborted', bump: { from: h.base, to: h.fix } });
    expect(h.out.canary.reason).toMatch(/aborted/);
    expect(h.out.canary.reverted?.commit).toBe(await git(h.remote, 'rev-parse', 'main'));
    // Argo CD saw the bump, then the revert: exactly those two syncs after the initial one.
    expect(h.sync.synced).toEqual([h.base, h.fix, h.base]);
    expect(h.r.stderr).toMatch(/canary: rollout shop\/pricing-api/);

    // What the controller wrote: the fix's canary ran, the judge's run failed, and stable never changed.
    expect(h.traffic.scripted.size).toBe(1);
    const [canary] = [...h.traffic.scripted];
    const runs = await listObjs(kube, 'shop', 'analysisruns');
    const failed = runs.find(
      (x) => x.metadata.labels?.['rollouts-pod-template-hash'] === canary && x.status?.phase === 'Failed',
    );
    expect(failed, JSON.stringify(runs.map((x) => [x.metadata.name, x.status?.phase]))).toBeDefined();
    const ro = await getObj(kube, 'shop', 'rollout', SERVICE);
    expect(ro.status).toMatchObject({ stableRS: h.stable, currentPodHash: h.stable, phase: 'Healthy' });
    expect(ro.spec.template.spec.containers[0].image).toBe(`${IMAGE}:${h.base}`);
    const rs = (await listObjs(kube, 'shop', 'replicasets')).find(
      (x) => x.metadata.labels?.['rollouts-pod-template-hash'] === canary,
    );
    expect(rs?.spec.replicas ?? 0).toBe(0);
  }, 600_000);

  it('a healthy canary: the judge promotes inside Argo, the heal is fixed and its bump stays', async () => {
    // The shipped steps (sped up), ending in the suture-judge-promote gate. Settled: Healthy on a new hash.
    const h = await healScenario(
      'market',
      HEALTHY,
      undefined,
      (ro, { stable }) =>
        ro.status.phase === 'Healthy' &&
        ro.status.currentPodHash === ro.status.stableRS &&
        ro.status.stableRS !== stable,
    );
    expect(h.out.status, `${h.out.reason}\n${h.r.stderr}`).toBe('fixed');
    expect(h.out.canary).toMatchObject({
      backend: 'argo',
      decision: 'promoted',
      bump: { from: h.base, to: h.fix },
      reverted: null,
    });
    expect(h.sync.synced).toEqual([h.base, h.fix]);
    expect(await git(h.remote, 'show', `main:charts/${SERVICE}/values.yaml`)).toContain(h.fix);
    const ro = await getObj(kube, 'market', 'rollout', SERVICE);
    expect(ro.spec.template.spec.containers[0].image).toBe(`${IMAGE}:${h.fix}`);
    expect(ro.status.stableRS).not.toBe(h.stable);
    expect(ro.status.stableRS).toBe([...h.traffic.scripted][0]);
    // The promotion gate's run ended Successful on the judge's promote answer.
    const gate = (await listObjs(kube, 'market', 'analysisruns')).find((x) =>
      x.spec.metrics.some((m: Obj) => m.consecutiveSuccessLimit !== undefined),
    );
    expect(gate?.status.phase).toBe('Successful');
  }, 600_000);
});
