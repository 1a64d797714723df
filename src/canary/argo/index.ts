/** Argo Rollouts / Argo CD: status interpretation, kubectl-argo-rollouts patches, watcher, manifest validation. */
export {
  abortRollout,
  createRolloutApi,
  KubeApiError,
  loadKubeConfig,
  promoteRollout,
  type RolloutApi,
  type RolloutRef,
  type SentPatch,
  watchRollout,
} from './client.ts';
export { renderPipelineTemplate, templatePlaceholders, validateArgoManifests } from './manifests.ts';
export { abortPatch, type MergePatch, promotePatches } from './patches.ts';
export { interpretRolloutStatus, type RolloutStatusView, type RolloutVerdict } from './status.ts';
export { nextAction, type SuperviseResult, superviseRollout } from './supervise.ts';
