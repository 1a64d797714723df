/**
 * Rollout status interpretation and the kubectl-argo-rollouts patches, on Rollout objects built with the
 * Argo Rollouts types (and schema-validated, so the fixtures are shapes a controller could really write).
 */
import { type IRollout, Rollout } from '@kubernetes-models/argo-rollouts/argoproj.io/v1alpha1/Rollout';
import { describe, expect, it } from 'vitest';
import { abortPatch, promotePatches } from '../../src/canary/argo/patches.ts';
import { interpretRolloutStatus } from '../../src/canary/argo/status.ts';
import { nextAction } from '../../src/canary/argo/supervise.ts';

const STEPS = [
  { setWeight: 20 },
  { pause: { duration: '1m' } },
  { setWeight: 50 },
  { pause: {} },
  { analysis: { templates: [{ templateName: 'suture-judge' }] } },
];

function rollout(
  status: NonNullable<IRollout['status']>,
  extra: { generation?: number; paused?: boolean } = {},
): Rollout {
  const ro = new Rollout({
    metadata: { name: 'cart-api', namespace: 'shop', generation: extra.generation ?? 3 },
    spec: {
      replicas: 4,
      paused: extra.paused,
      selector: { matchLabels: { app: 'cart-api' } },
      template: {
        metadata: { labels: { app: 'cart-api' } },
        spec: { containers: [{ name: 'app', image: 'cart-api:2' }] },
      },
      strategy: { canary: { steps: STEPS } },
    } as IRollout['spec'],
    status,
  });
  ro.validate();
  return ro;
}

describe('interpretRolloutStatus', () => {
  it('Healthy with stable = current pod hash is promoted and terminal', () => {
    const v = interpretRolloutStatus(
      rollout({
        observedGeneration: '3',
        phase: 'Healthy',
        stableRS: 'abc',
        currentPodHash: 'abc',
        currentStepIndex: 5,
      }),
    );
    expect(v).toMatchObject({
      trusted: true,
      phase: 'Healthy',
      verdict: 'promoted',
      terminal: true,
      fullyPromoted: true,
    });
    expect(v.currentStep).toBeNull();
    expect(v.totalSteps).toBe(5);
  });

  it('Progressing mid-canary reports the step and both hashes', () => {
    const v = interpretRolloutStatus(
      rollout({
        observedGeneration: '3',
        phase: 'Progressing',
        message: 'more replicas need to be updated',
        stableRS: 'abc',
        currentPodHash: 'def',
        currentStepIndex: 2,
        canary: {
          currentBackgroundAnalysisRunStatus: { name: 'cart-api-def-2', status: 'Running' },
          weights: { canary: { weight: 50, podTemplateHash: 'def' }, stable: { weight: 50, podTemplateHash: 'abc' } },
        },
      }),
    );
    expect(v).toMatchObject({
      verdict: 'progressing',
      terminal: false,
      currentStepIndex: 2,
      currentStep: 'setWeight: 50',
      stableRS: 'abc',
      currentPodHash: 'def',
      fullyPromoted: false,
      canaryWeight: 50,
      analysisFailed: false,
      backgroundAnalysis: { name: 'cart-api-def-2', status: 'Running' },
    });
  });

  it('Paused on a pause step lists the pause reasons', () => {
    const v = interpretRolloutStatus(
      rollout({
        observedGeneration: '3',
        phase: 'Paused',
        message: 'CanaryPauseStep',
        controllerPause: true,
        pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-23T04:00:00Z' }],
        stableRS: 'abc',
        currentPodHash: 'def',
        currentStepIndex: 3,
      }),
    );
    expect(v).toMatchObject({
      verdict: 'paused',
      phase: 'Paused',
      pauseReasons: ['CanaryPauseStep'],
      currentStep: 'pause',
    });
  });

  it('aborted: status.abort wins over the Degraded phase', () => {
    const v = interpretRolloutStatus(
      rollout({
        observedGeneration: '3',
        phase: 'Degraded',
        message: 'RolloutAborted: Rollout aborted update to revision 2: Metric "sequential-judge" assessed Failed',
        abort: true,
        abortedAt: '2026-11-23T04:05:00Z',
        stableRS: 'abc',
        currentPodHash: 'def',
        currentStepIndex: 0,
        canary: { currentBackgroundAnalysisRunStatus: { name: 'cart-api-def-2', status: 'Failed', message: 'abort' } },
      }),
    );
    expect(v).toMatchObject({
      verdict: 'aborted',
      terminal: true,
      aborted: true,
      analysisFailed: true,
      phase: 'Degraded',
    });
  });

  it('Degraded without abort (progress deadline) is degraded and terminal', () => {
    const v = interpretRolloutStatus(
      rollout({
        observedGeneration: '3',
        phase: 'Degraded',
        message: 'ProgressDeadlineExceeded: ReplicaSet "cart-api-def" has timed out progressing.',
        stableRS: 'abc',
        currentPodHash: 'def',
      }),
    );
    expect(v).toMatchObject({ verdict: 'degraded', terminal: true, aborted: false });
  });

  it('is not trusted while observedGeneration lags generation, whatever the phase says', () => {
    const v = interpretRolloutStatus(
      rollout({ observedGeneration: '2', phase: 'Healthy', stableRS: 'abc', currentPodHash: 'abc' }, { generation: 3 }),
    );
    expect(v).toMatchObject({ trusted: false, verdict: 'unobserved', terminal: false, phase: 'Progressing' });
    expect(v.message).toMatch(/not|waiting/);
    // A missing observedGeneration on an object with a generation is not trusted either.
    expect(interpretRolloutStatus(rollout({ phase: 'Healthy', stableRS: 'a', currentPodHash: 'a' })).trusted).toBe(
      false,
    );
  });

  it('is not trusted mid-unpause (controllerPause without pause conditions)', () => {
    const v = interpretRolloutStatus(
      rollout({ observedGeneration: '3', phase: 'Paused', controllerPause: true, stableRS: 'a', currentPodHash: 'b' }),
    );
    expect(v).toMatchObject({ trusted: false, verdict: 'unobserved', message: 'waiting for rollout to unpause' });
  });

  it('a failed step analysis is reported even before the controller aborts', () => {
    const v = interpretRolloutStatus(
      rollout({
        observedGeneration: '3',
        phase: 'Progressing',
        stableRS: 'abc',
        currentPodHash: 'def',
        currentStepIndex: 4,
        canary: {
          currentStepAnalysisRunStatus: { name: 'cart-api-def-4', status: 'Error', message: 'prometheus down' },
        },
      }),
    );
    expect(v).toMatchObject({ verdict: 'progressing', analysisFailed: true, currentStep: 'analysis' });
    expect(v.stepAnalysis).toEqual({ name: 'cart-api-def-4', status: 'Error', message: 'prometheus down' });
  });

  it('computes the phase client-side for controllers that leave status.phase empty', () => {
    const base = { observedGeneration: '3', replicas: 4, updatedReplicas: 4, availableReplicas: 4 };
    expect(interpretRolloutStatus(rollout({ ...base, stableRS: 'a', currentPodHash: 'a' }))).toMatchObject({
      phase: 'Healthy',
      verdict: 'promoted',
    });
    expect(interpretRolloutStatus(rollout({ ...base, stableRS: 'a', currentPodHash: 'b' }))).toMatchObject({
      phase: 'Progressing',
      message: 'waiting for all steps to complete',
    });
    expect(
      interpretRolloutStatus(rollout({ ...base, stableRS: 'a', currentPodHash: 'b' }, { paused: true })),
    ).toMatchObject({
      phase: 'Paused',
      message: 'manually paused',
    });
    const aborted = rollout({
      ...base,
      abort: true,
      stableRS: 'a',
      currentPodHash: 'b',
      conditions: [
        {
          type: 'Progressing',
          status: 'False',
          reason: 'RolloutAborted',
          message: 'Rollout aborted update to revision 2',
          lastTransitionTime: '2026-11-23T04:05:00Z',
          lastUpdateTime: '2026-11-23T04:05:00Z',
        },
      ],
    });
    expect(interpretRolloutStatus(aborted)).toMatchObject({ phase: 'Degraded', verdict: 'aborted' });
  });

  it('copes with a Rollout that has no status yet', () => {
    const ro = new Rollout({
      metadata: { name: 'new' },
      spec: { strategy: { canary: { steps: STEPS } } } as IRollout['spec'],
    });
    const v = interpretRolloutStatus(ro);
    expect(v).toMatchObject({
      trusted: true,
      verdict: 'progressing',
      currentStepIndex: 0,
      currentStep: 'setWeight: 20',
    });
  });
});

describe('abort and promote patches (as kubectl argo rollouts sends them)', () => {
  const json = (s: string) => JSON.parse(s) as unknown;

  it('abort is {"status":{"abort":true}}', () => {
    expect(abortPatch()).toEqual(json('{"status":{"abort":true}}'));
  });

  it('promote on a pause step clears pause conditions; spec.paused is unpaused separately', () => {
    const ro = rollout(
      {
        observedGeneration: '3',
        pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-23T04:00:00Z' }],
        controllerPause: true,
        currentStepIndex: 1,
      },
      { paused: true },
    );
    expect(promotePatches(ro)).toEqual({
      spec: json('{"spec":{"paused":false}}'),
      status: json('{"status":{"pauseConditions":null}}'),
      unified: json('{"spec":{"paused":false},"status":{"pauseConditions":null}}'),
    });
  });

  it('promote mid-analysis moves to the next step, and never past the last', () => {
    expect(promotePatches(rollout({ currentStepIndex: 4 }))).toEqual({
      spec: null,
      status: json('{"status":{"pauseConditions":null, "currentStepIndex":5}}'),
      unified: json('{"spec":{"paused":false},"status":{"pauseConditions":null, "currentStepIndex":5}}'),
    });
    expect(promotePatches(rollout({ currentStepIndex: 5 })).status).toEqual(
      json('{"status":{"pauseConditions":null, "currentStepIndex":5}}'),
    );
    // No index yet counts as step 0.
    expect(promotePatches(rollout({})).status).toEqual(
      json('{"status":{"pauseConditions":null, "currentStepIndex":1}}'),
    );
  });

  it('promote --full sets promoteFull, unless already fully promoted', () => {
    expect(promotePatches(rollout({ stableRS: 'abc123', currentPodHash: 'def456' }), { full: true })).toEqual({
      spec: null,
      status: json('{"status":{"promoteFull":true}}'),
      unified: null,
    });
    expect(promotePatches(rollout({ stableRS: 'abc123', currentPodHash: 'abc123' }), { full: true })).toEqual({
      spec: null,
      status: null,
      unified: null,
    });
  });
});

describe('nextAction (what the judge-driven watcher does)', () => {
  const paused = rollout({
    observedGeneration: '3',
    phase: 'Paused',
    controllerPause: true,
    pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-23T04:00:00Z' }],
    stableRS: 'a',
    currentPodHash: 'b',
    currentStepIndex: 3,
  });
  const progressing = rollout({
    observedGeneration: '3',
    phase: 'Progressing',
    stableRS: 'a',
    currentPodHash: 'b',
    currentStepIndex: 2,
  });
  const stale = rollout({ observedGeneration: '2', phase: 'Paused', stableRS: 'a', currentPodHash: 'b' });
  const done = rollout({ observedGeneration: '3', phase: 'Healthy', stableRS: 'b', currentPodHash: 'b' });
  const aborted = rollout({
    observedGeneration: '3',
    phase: 'Degraded',
    abort: true,
    stableRS: 'a',
    currentPodHash: 'b',
  });

  it('aborts an in-flight canary on abort, whether paused or progressing', () => {
    expect(nextAction(interpretRolloutStatus(paused), 'abort')).toBe('abort');
    expect(nextAction(interpretRolloutStatus(progressing), 'abort')).toBe('abort');
  });

  it('promotes only at a pause', () => {
    expect(nextAction(interpretRolloutStatus(paused), 'promote')).toBe('promote');
    expect(nextAction(interpretRolloutStatus(progressing), 'promote')).toBeNull();
    expect(nextAction(interpretRolloutStatus(paused), 'continue')).toBeNull();
  });

  it('never acts on an untrusted, finished or already aborted rollout', () => {
    for (const ro of [stale, done, aborted]) {
      expect(nextAction(interpretRolloutStatus(ro), 'abort')).toBeNull();
      expect(nextAction(interpretRolloutStatus(ro), 'promote')).toBeNull();
    }
  });
});
