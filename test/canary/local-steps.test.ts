/** Finding and reading a service's Rollout manifest in an application repo. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findRolloutPlan } from '../../src/canary/local/steps.ts';

const rollout = (name: string, weight: number) =>
  `apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: ${name}\nspec:\n  strategy:\n    canary:\n      steps:\n        - setWeight: ${weight}\n        - pause: {duration: 30s}\n`;

describe('findRolloutPlan', () => {
  let repo: string;
  const put = (path: string, text: string) => {
    mkdirSync(join(repo, path, '..'), { recursive: true });
    writeFileSync(join(repo, path), text);
  };
  beforeEach(() => {
    repo = mkdtempSync(join(tmpdir(), 'suture-repo-'));
  });
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  it('finds the Rollout among other documents and files', async () => {
    put('README.md', 'kind: Rollout\n');
    put('deploy/service.yaml', 'apiVersion: v1\nkind: Service\nmetadata: {name: cart-api}\n');
    put('deploy/rollout.yaml', `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\n${rollout('cart-api', 20)}`);
    put('node_modules/x/rollout.yaml', rollout('cart-api', 99));
    const plan = await findRolloutPlan(repo, 'cart-api');
    expect(plan.file).toBe(join('deploy', 'rollout.yaml'));
    expect(plan.name).toBe('cart-api');
    expect(plan.steps).toEqual([
      { kind: 'setWeight', weight: 20 },
      { kind: 'pause', seconds: 30 },
    ]);
  });

  it('picks the Rollout named after the service when there are several', async () => {
    put('k8s/a.yml', rollout('orders', 10));
    put('k8s/b.yml', rollout('cart-api', 40));
    expect((await findRolloutPlan(repo, 'cart-api')).steps[0]).toEqual({ kind: 'setWeight', weight: 40 });
    await expect(findRolloutPlan(repo, 'billing')).rejects.toThrow(
      /no Rollout named billing .*found orders \(k8s\/a.yml\), cart-api/,
    );
  });

  it('reports a repo without a Rollout, a missing repo, and an invalid Rollout', async () => {
    put('deploy/deployment.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n');
    await expect(findRolloutPlan(repo)).rejects.toThrow(/no Argo Rollouts Rollout manifest/);
    await expect(findRolloutPlan(join(repo, 'missing'))).rejects.toThrow(/cannot read/);
    put('deploy/rollout.yaml', rollout('x', 20).replace('setWeight: 20', 'setWeight: lots'));
    await expect(findRolloutPlan(repo)).rejects.toThrow(/deploy\/rollout.yaml: not a valid Rollout/);
  });
});
