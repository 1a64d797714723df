/**
 * The JSON merge patches `kubectl argo rollouts abort|promote` send (pkg/kubectl-argo-rollouts/cmd/abort and
 * cmd/promote): status patches go to the `status` subresource (Rollouts v0.10+); when that subresource is
 * missing (v0.9) the unified patch goes to the object itself.
 */
import type { IRollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';

export type MergePatch = Record<string, unknown>;

/** `kubectl argo rollouts abort`: the same patch for the status subresource and the v0.9 fallback. */
export function abortPatch(): MergePatch {
  return { status: { abort: true } };
}

export interface PromotePatches {
  /** Merge patch for the Rollout object (spec), or null. */
  spec: MergePatch | null;
  /** Merge patch for the status subresource, or null. */
  status: MergePatch | null;
  /** Used instead of spec when the status subresource answers 404 (Rollouts v0.9). */
  unified: MergePatch | null;
}

type RolloutLike = Pick<IRollout, 'spec' | 'status'>;

/**
 * `kubectl argo rollouts promote` (default) and `promote --full`. The default clears pause conditions when the
 * rollout is paused on a step, otherwise (mid-analysis or mid-experiment) moves to the next step; --full asks
 * the controller to skip the remaining steps and analysis, and is a no-op when already fully promoted.
 */
export function promotePatches(ro: RolloutLike, opts: { full?: boolean } = {}): PromotePatches {
  const status = ro.status ?? {};
  if (opts.full) {
    const pending = status.currentPodHash !== status.stableRS;
    return { spec: null, status: pending ? { status: { promoteFull: true } } : null, unified: null };
  }
  let spec: MergePatch | null = null;
  let statusPatch: MergePatch | null = null;
  let unified: MergePatch | null = { spec: { paused: false }, status: { pauseConditions: null } };
  if (ro.spec.paused) spec = { spec: { paused: false } };
  const steps = ro.spec.strategy?.canary?.steps;
  if ((status.pauseConditions ?? []).length > 0) {
    statusPatch = { status: { pauseConditions: null } };
  } else if (ro.spec.strategy?.canary && steps && steps.length > 0) {
    let index = status.currentStepIndex ?? 0;
    if (index < steps.length) index++;
    statusPatch = { status: { pauseConditions: null, currentStepIndex: index } };
    unified = { spec: { paused: false }, status: { pauseConditions: null, currentStepIndex: index } };
  }
  return { spec, status: statusPatch, unified };
}
