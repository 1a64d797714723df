/**
 * The orchestrator's decisions between stages, pure: when a heal stops, which candidate ships, and what a
 * delivery's outcome means for the heal's status. Each stop is a Halt the orchestrator turns into the result.
 */
import type { Candidate, Diagnosis } from '../diagnose/index.ts';
import { rankCandidates } from '../diagnose/rank.ts';
import type { Delivered, Duplicate } from '../gitops/deliver.ts';
import type { Verdict } from '../sandbox/verify.ts';
import { confidenceStop, type GuardrailLimits } from './guardrails.ts';
import { Halt } from './halt.ts';
import type { Gated } from './stages/gate.ts';
import type { CanaryResult, Stop } from './types.ts';

/** Only code defects are patched, and only when the diagnosis is sure enough and something was proposed. */
export function requireRepairable(diagnosis: Diagnosis, candidates: Candidate[], limits: GuardrailLimits): void {
  if (diagnosis.classification !== 'code-defect') throw new Halt('escalated', diagnosis.rootCause);
  const unsure = confidenceStop(diagnosis.confidence, limits);
  if (unsure) throw new Halt(unsure.status, unsure.reason);
  if (candidates.length === 0) throw new Halt('no-fix', 'no repair strategy produced a candidate for this crash');
}

export function requirePassing(
  candidates: Candidate[],
  verdicts: Verdict[],
): { candidate: Candidate; verdict: Verdict }[] {
  const passing = candidates
    .map((candidate, i) => ({ candidate, verdict: verdicts[i]! }))
    .filter((c) => c.verdict.verdict === 'pass');
  if (passing.length === 0) throw new Halt('no-fix', 'no candidate passed verification');
  return passing;
}

export interface Choice {
  chosen: Gated;
  ranking: { id: string; keys: Record<string, number> }[];
}

/** The best allowed or reviewed candidate (diagnose/rank.ts); none when the policy denied every one. */
export function choose(gated: Gated[], candidates: Candidate[]): Choice {
  const allowed = gated.filter((g) => g.policy.decision !== 'deny');
  if (allowed.length === 0) throw new Halt('rejected', 'every verified candidate was denied by policy');
  const ranked = rankCandidates(
    allowed.map((g) => ({
      ...g.candidate,
      gated: g,
      policy: g.policy.decision as 'allow' | 'review',
      differential: { status: g.verdict.differential.status, mismatches: g.verdict.differential.mismatches.length },
      fixedStatusClass: g.verdict.fixedStatusClass,
    })),
    candidates,
  );
  return {
    chosen: ranked[0]!.candidate.gated,
    ranking: ranked.map((r) => ({ id: r.candidate.id, keys: r.keys })),
  };
}

/** What a delivery (and, after a merge, the canary) means for the heal. */
export function deliveryStop(
  out: Delivered | Duplicate,
  policy: string | undefined,
  canary: CanaryResult | null = null,
): Stop {
  if (out.kind === 'duplicate') return { status: 'duplicate', reason: out.reason };
  const d = out.delivery;
  const where = out.proposal ? out.proposal.url : d.branch;
  const was = out.resumed ? ' (delivery resumed from the journal)' : '';
  const decision = policy ?? d.decision;
  if (out.merge?.state === 'merged') {
    const merged = `verified fix ${d.candidate} merged${was}: ${out.merge.detail}`;
    if (canary?.decision === 'aborted') {
      const reverted = (canary.reverted as { commit?: string } | null | undefined)?.commit;
      const undone = reverted
        ? `its image bump was reverted (${reverted.slice(0, 12)})`
        : 'no image bump was made, so nothing was reverted in the config repository';
      return { status: 'aborted', reason: `${merged}; the canary aborted (${canary.reason}): ${undone}` };
    }
    if (canary?.decision === 'error')
      return {
        status: 'escalated',
        reason: `${merged}, but its release failed (${canary.reason}): a human must build and roll it out`,
      };
    if (canary?.decision === 'promoted') return { status: 'fixed', reason: `${merged}; the canary promoted it` };
    return { status: 'fixed', reason: merged };
  }
  if (d.mode === 'auto' && decision !== 'allow') {
    return {
      status: 'proposed',
      reason: `verified fix ${d.candidate} on ${where}${was}: policy says ${decision}, so a human must approve even in auto mode`,
    };
  }
  if (out.merge?.state === 'queued')
    return {
      status: 'proposed',
      reason: `verified fix ${d.candidate} on ${where}${was}; merges once its checks pass: ${out.merge.detail}`,
    };
  if (out.merge)
    return {
      status: 'proposed',
      reason: `verified fix ${d.candidate} on ${where}${was}; not merged yet: ${out.merge.detail}`,
    };
  return {
    status: 'proposed',
    reason: `verified fix ${d.candidate} on ${where}${was} (policy: ${decision}); awaiting review`,
  };
}
