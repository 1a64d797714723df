/**
 * After the canary: the proposal says what happened to the fix it carried. An abort labels it
 * `suture:canary-aborted` and comments with the judge's reason and the revert; a promotion comments. A
 * provider that fails here costs a note, not the heal: the canary's outcome stands.
 */
import { errorMessage } from '../../errors.ts';
import type { ProposalRef, Provider } from '../../gitops/providers/types.ts';
import { safeLine } from '../../incident/display.ts';
import type { CanaryResult } from '../types.ts';

export const ABORTED_LABEL = 'suture:canary-aborted';

export function canaryComment(canary: CanaryResult): string {
  // The reason may quote a cluster's status message or a failed build: one redacted line.
  const reason = safeLine(canary.reason, 500);
  const reverted = (canary.reverted as { commit?: string } | null | undefined)?.commit;
  if (canary.decision === 'aborted') {
    return [
      `**suture: the canary aborted** ${canary.at} s into the rollout: ${reason}.`,
      reverted
        ? `The image bump was reverted in the config repository (${reverted.slice(0, 12)}); the service runs the previous version.`
        : 'No image bump was made for this rollout, so nothing was reverted.',
      'The fix stays merged in the application repository: revert it or fix it forward before the next release.',
    ].join('\n\n');
  }
  if (canary.decision === 'promoted')
    return `**suture: the canary promoted this fix** ${canary.at} s into the rollout: ${reason}.`;
  return `**suture: the release of this fix failed after the merge** (${reason}): it is merged but not rolled out; a human must build and roll it out.`;
}

export async function announceCanary(
  provider: Provider | null,
  proposal: ProposalRef | null,
  canary: CanaryResult | null,
): Promise<string[]> {
  if (!provider || !proposal || !canary) return [];
  try {
    if (canary.decision === 'aborted') await provider.label(proposal, [ABORTED_LABEL]);
    await provider.comment(proposal, canaryComment(canary));
    return [];
  } catch (err) {
    return [`the proposal was not told about the canary (${errorMessage(err)})`];
  }
}
