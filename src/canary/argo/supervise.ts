/**
 * Judge-driven supervision of a cluster Rollout: while the Rollout is mid-canary, read the per-version
 * counters from Prometheus (the canary is the `currentPodHash` version, stable the `stableRS` version), run
 * the sequential judge over everything since the canary was first seen, and act through the same patches as
 * `kubectl argo rollouts`: abort on `abort`; promote a Rollout that waits at a pause on `promote`.
 * Nothing is done on a status that is not trusted (observedGeneration behind generation).
 */
import type { JudgeDecision, JudgeOptions } from '../judge/index.ts';
import type { PrometheusClient } from '../prometheus/client.ts';
import { judgeFromPrometheus } from '../prometheus/evaluate.ts';
import { abortRollout, promoteRollout, type RolloutApi, type RolloutRef, type SentPatch } from './client.ts';
import { interpretRolloutStatus, type RolloutStatusView } from './status.ts';

export type RolloutAction = 'abort' | 'promote';

/** Pure: what to do about a Rollout in this state given the judge's word. */
export function nextAction(view: RolloutStatusView, decision: JudgeDecision['decision']): RolloutAction | null {
  if (!view.trusted || view.terminal || view.aborted || view.fullyPromoted) return null;
  if (decision === 'abort') return 'abort';
  // Promote only where a human would: at a pause. Mid-setWeight the controller moves on by itself.
  if (decision === 'promote' && view.verdict === 'paused') return 'promote';
  return null;
}

export interface SuperviseOptions {
  prometheus: PrometheusClient;
  service: string;
  labels?: Record<string, string>;
  versionLabel?: string;
  bucketSeconds?: number;
  judge?: Partial<JudgeOptions>;
  intervalMs?: number;
  timeoutMs?: number;
  onStatus?: (s: RolloutStatusView) => void;
  onJudge?: (d: JudgeDecision & { canary: string; stable: string }) => void;
  /** Clock in unix seconds, for tests. */
  now?: () => number;
}

export interface SupervisedAction {
  action: RolloutAction;
  decision: JudgeDecision;
  patches: SentPatch[];
}

export interface SuperviseResult {
  final: RolloutStatusView;
  actions: SupervisedAction[];
}

export async function superviseRollout(
  api: RolloutApi,
  ref: RolloutRef,
  o: SuperviseOptions,
): Promise<SuperviseResult> {
  const now = o.now ?? (() => Date.now() / 1000);
  const started = Date.now();
  const firstSeen = new Map<string, number>();
  const actions: SupervisedAction[] = [];
  const promotedAt = new Set<number | null>();
  let sentAbort = false;
  let lastKey = '';
  for (;;) {
    const view = interpretRolloutStatus(await api.get(ref));
    const key = JSON.stringify([view.verdict, view.message, view.currentStepIndex]);
    if (key !== lastKey) {
      lastKey = key;
      o.onStatus?.(view);
    }
    if (view.terminal) return { final: view, actions };
    if (view.trusted && view.stableRS && view.currentPodHash && !view.fullyPromoted && !view.aborted) {
      const pair = `${view.stableRS}/${view.currentPodHash}`;
      if (!firstSeen.has(pair)) firstSeen.set(pair, Math.floor(now()));
      const r = await judgeFromPrometheus({
        client: o.prometheus,
        selector: { service: o.service, labels: o.labels, versionLabel: o.versionLabel },
        versions: { stable: view.stableRS, canary: view.currentPodHash },
        since: firstSeen.get(pair)!,
        until: now(),
        bucketSeconds: o.bucketSeconds ?? 30,
        judge: o.judge,
      });
      const decision: JudgeDecision = { decision: r.decision, at: r.at, reason: r.reason };
      o.onJudge?.({ ...decision, canary: view.currentPodHash, stable: view.stableRS });
      const action = nextAction(view, decision.decision);
      // Each action once: one abort, one promote per pause step (the controller needs a moment to react).
      const done = action === 'abort' ? sentAbort : action === 'promote' && promotedAt.has(view.currentStepIndex);
      if (action && !done) {
        const patches = action === 'abort' ? await abortRollout(api, ref) : await promoteRollout(api, ref);
        if (action === 'abort') sentAbort = true;
        else promotedAt.add(view.currentStepIndex);
        actions.push({ action, decision, patches });
      }
    }
    if (o.timeoutMs !== undefined && Date.now() - started >= o.timeoutMs) return { final: view, actions };
    await new Promise((r) => setTimeout(r, o.intervalMs ?? 5000));
  }
}
