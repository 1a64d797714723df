/** Stage: gate. Judges one verified candidate's commit against the policy bundle; fails closed. */
import type { Candidate } from '../diagnose/index.ts';
import type { Incident } from '../incident/types.ts';
import { checkChange } from '../policy/index.ts';
import type { Verdict } from '../sandbox/verify.ts';

export interface PolicyResult {
  decision: 'allow' | 'review' | 'deny';
  violations: { id: string; message: string; path?: string }[];
}

export async function gateCandidate(opts: {
  repo: string;
  base: string;
  head: string;
  candidate: Candidate;
  verdict: Verdict;
  incident: Incident;
  mode: 'observe' | 'propose' | 'auto';
}): Promise<PolicyResult> {
  try {
    const d = await checkChange({
      repoDir: opts.repo,
      base: opts.base,
      head: opts.head,
      context: {
        candidate: { strategy: opts.candidate.strategy, confidence: opts.candidate.confidence },
        verdict: opts.verdict,
        incident: {
          service: opts.incident.service,
          environment: opts.incident.environment,
          severity: opts.incident.severity ?? null,
        },
        mode: opts.mode,
      },
    });
    return {
      decision: d.decision,
      violations: d.violations.map(({ id, message, path }) => ({ id, message, ...(path ? { path } : {}) })),
    };
  } catch (err) {
    return {
      decision: 'deny',
      violations: [
        { id: 'policy.error', message: `policy evaluation failed: ${(err as Error).message.split('\n')[0]}` },
      ],
    };
  }
}
