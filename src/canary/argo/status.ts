/**
 * What a Rollout's status says, read the way `kubectl argo rollouts` reads it (utils/rollout GetRolloutPhase):
 * the status is trusted only when status.observedGeneration equals metadata.generation (otherwise the
 * controller has not seen the latest spec yet) and the rollout is not mid-unpause; then the controller's
 * phase (Healthy, Progressing, Paused, Degraded) is used, falling back to a client-side calculation for old
 * controllers that leave it empty. Pure: no API calls.
 */
import type { IRollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';

export type RolloutPhase = 'Healthy' | 'Progressing' | 'Paused' | 'Degraded';

/**
 * promoted: fully promoted (stable = current pod hash) and Healthy. aborted: status.abort is set.
 * degraded: Degraded for another reason (progress deadline, invalid spec). paused / progressing: in flight.
 * unobserved: the controller has not observed the latest spec; nothing else in the status can be believed.
 */
export type RolloutVerdict = 'promoted' | 'aborted' | 'degraded' | 'paused' | 'progressing' | 'unobserved';

export interface AnalysisRunView {
  name: string;
  /** Pending, Running, Successful, Failed, Error, Inconclusive. */
  status: string;
  message?: string;
}

export interface RolloutStatusView {
  name: string;
  namespace: string | undefined;
  trusted: boolean;
  phase: RolloutPhase;
  message: string;
  verdict: RolloutVerdict;
  /** promoted, aborted and degraded end a watch. */
  terminal: boolean;
  aborted: boolean;
  currentStepIndex: number | null;
  totalSteps: number;
  /** e.g. "setWeight: 20", "pause: 30s", "analysis". */
  currentStep: string | null;
  stableRS: string | null;
  currentPodHash: string | null;
  fullyPromoted: boolean;
  pauseReasons: string[];
  stepAnalysis: AnalysisRunView | null;
  backgroundAnalysis: AnalysisRunView | null;
  /** An analysis run ended Failed or Error: Argo aborts on its own unless the run is dry-run. */
  analysisFailed: boolean;
  canaryWeight: number | null;
}

type RolloutLike = Pick<IRollout, 'metadata' | 'spec' | 'status'>;

const PHASES: readonly string[] = ['Healthy', 'Progressing', 'Paused', 'Degraded'];

export function interpretRolloutStatus(ro: RolloutLike): RolloutStatusView {
  const status = ro.status ?? {};
  const steps = ro.spec.strategy?.canary?.steps ?? [];
  const stableRS = status.stableRS || null;
  const currentPodHash = status.currentPodHash || null;
  const fullyPromoted = stableRS !== null && stableRS === currentPodHash;
  const index = steps.length > 0 ? (status.currentStepIndex ?? 0) : null;
  const stepAnalysis = status.canary?.currentStepAnalysisRunStatus ?? null;
  const backgroundAnalysis = status.canary?.currentBackgroundAnalysisRunStatus ?? null;
  const failed = (a: AnalysisRunView | null) => a !== null && (a.status === 'Failed' || a.status === 'Error');
  const base = {
    name: ro.metadata?.name ?? '',
    namespace: ro.metadata?.namespace,
    aborted: status.abort === true,
    currentStepIndex: index,
    totalSteps: steps.length,
    currentStep: index !== null && index < steps.length ? stepString(steps[index]!) : null,
    stableRS,
    currentPodHash,
    fullyPromoted,
    pauseReasons: (status.pauseConditions ?? []).map((p) => p.reason),
    stepAnalysis,
    backgroundAnalysis,
    analysisFailed: failed(stepAnalysis) || failed(backgroundAnalysis),
    canaryWeight: status.canary?.weights?.canary.weight ?? null,
  };

  const unobserved = unobservedReason(ro);
  if (unobserved) {
    return {
      ...base,
      trusted: false,
      phase: 'Progressing',
      message: unobserved,
      verdict: 'unobserved',
      terminal: false,
    };
  }
  const [phase, message] =
    status.phase && PHASES.includes(status.phase)
      ? [status.phase as RolloutPhase, status.message ?? '']
      : calculatePhase(ro, fullyPromoted);
  let verdict: RolloutVerdict;
  if (base.aborted) verdict = 'aborted';
  else if (phase === 'Degraded') verdict = 'degraded';
  else if (phase === 'Healthy' && fullyPromoted) verdict = 'promoted';
  else if (phase === 'Paused') verdict = 'paused';
  else verdict = 'progressing';
  const terminal = verdict === 'promoted' || verdict === 'aborted' || verdict === 'degraded';
  return { ...base, trusted: true, phase, message, verdict, terminal };
}

/** null when the status reflects the current spec; otherwise why it cannot be trusted yet. */
function unobservedReason(ro: RolloutLike): string | null {
  const observed = ro.status?.observedGeneration;
  const generation = ro.metadata?.generation;
  // Argo stores observedGeneration as a string; v0.9 controllers stored a hash (not a number) there.
  if (observed === undefined || observed === '') {
    return generation === undefined ? null : 'waiting for rollout spec update to be observed';
  }
  if (/^[0-9]+$/.test(observed) && generation !== undefined && Number(observed) < generation) {
    return 'waiting for rollout spec update to be observed';
  }
  if (ro.status?.controllerPause && (ro.status.pauseConditions ?? []).length === 0) {
    return 'waiting for rollout to unpause';
  }
  return null;
}

/** Client-side phase for controllers older than 1.0, which leave status.phase empty. */
function calculatePhase(ro: RolloutLike, fullyPromoted: boolean): [RolloutPhase, string] {
  const status = ro.status ?? {};
  for (const c of status.conditions ?? []) {
    if (c.type === 'InvalidSpec') return ['Degraded', `InvalidSpec: ${c.message}`];
    if (c.reason === 'RolloutAborted' || c.reason === 'ProgressDeadlineExceeded') {
      return ['Degraded', `${c.reason}: ${c.message}`];
    }
  }
  if (ro.spec.paused) return ['Paused', 'manually paused'];
  const pause = status.pauseConditions?.[0];
  if (pause) return ['Paused', pause.reason];
  if ((status.updatedReplicas ?? 0) < (ro.spec.replicas ?? 1))
    return ['Progressing', 'more replicas need to be updated'];
  if ((status.availableReplicas ?? 0) < (status.updatedReplicas ?? 0)) {
    return ['Progressing', 'updated replicas are still becoming available'];
  }
  if (!fullyPromoted) return ['Progressing', 'waiting for all steps to complete'];
  return ['Healthy', ''];
}

type CanaryStep = NonNullable<NonNullable<NonNullable<IRollout['spec']['strategy']>['canary']>['steps']>[number];

function stepString(s: CanaryStep): string {
  if (s.setWeight !== undefined) return `setWeight: ${s.setWeight}`;
  if (s.pause !== undefined) return s.pause.duration === undefined ? 'pause' : `pause: ${s.pause.duration}`;
  if (s.analysis !== undefined) return 'analysis';
  if (s.experiment !== undefined) return 'experiment';
  if (s.setCanaryScale !== undefined) return 'setCanaryScale';
  return Object.keys(s)[0] ?? 'invalid';
}
