/**
 * Stage: release, after a merge in auto mode: the fixed image, the config-repo bump, the canary, the revert
 * on abort (src/canary/stage.ts). Journaled there, so a resumed heal (a prior merged delivery) continues it.
 * A release that fails after the merge (an image that does not build, a config repo that refuses the push)
 * does not lose the heal: the canary says `error` and why, and the heal is escalated to a human.
 */
import { type HealCanary, release } from '../../canary/stage.ts';
import { errorMessage } from '../../errors.ts';
import type { Delivered, Duplicate } from '../../gitops/deliver.ts';
import { type Run, timed } from '../run.ts';
import type { CanaryResult } from '../types.ts';

export async function releaseMerged(run: Run, out: Delivered | Duplicate): Promise<CanaryResult | null> {
  if (out.kind !== 'delivered' || out.merge?.state !== 'merged' || out.delivery.mode !== 'auto') return null;
  const commit = out.delivery.commit;
  try {
    const o = await timed(
      run,
      'release',
      () =>
        release({
          repo: run.repo,
          base: run.base,
          commit,
          incident: run.incident,
          config: run.config,
          stateDir: run.opts.stateDir,
          progress: run.progress,
          ...(run.opts.env ? { env: run.opts.env } : {}),
        }),
      (r) => (r ? `${r.backend} canary ${r.decision}` : 'no canary configured'),
    );
    if (!o) return null;
    const { backend, decision, at, reason, image, bump, reverted, series } = o;
    return { backend, decision, at, reason, image, bump, reverted, series } satisfies HealCanary;
  } catch (err) {
    const reason = errorMessage(err);
    run.progress(`release failed: ${reason}`);
    return { decision: 'error', at: 0, reason };
  }
}
