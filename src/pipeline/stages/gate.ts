/** Stage: gate. Each verified candidate committed (unreferenced, in a scratch store) and judged by the policy. */
import type { Candidate } from '../../diagnose/index.ts';
import { commitPatch } from '../../gitops/repo.ts';
import type { Verdict } from '../../sandbox/verify.ts';
import { commitMessage, verdictTrailer } from '../commit-message.ts';
import { gateCandidate, type PolicyResult } from '../gate.ts';
import { mapLimit } from '../limit.ts';
import { type Run, timed } from '../run.ts';
import type { Mode } from '../types.ts';

export interface Gated {
  candidate: Candidate;
  verdict: Verdict;
  commit: string;
  message: string;
  policy: PolicyResult;
}

export function gateCandidates(
  run: Run,
  verified: { candidate: Candidate; verdict: Verdict }[],
  mode: Mode,
): Promise<Gated[]> {
  const { repo, base, incident } = run;
  return timed(run, 'gate', () =>
    mapLimit(verified, 2, async ({ candidate, verdict }) => {
      const message = commitMessage(incident, candidate, verdictTrailer(verdict));
      const commit = await commitPatch({ repo, base, patch: candidate.patch, message });
      const policy = await gateCandidate({ repo, base, head: commit, candidate, verdict, incident, mode });
      const why = policy.violations.length ? ` (${policy.violations.map((v) => v.id).join(', ')})` : '';
      run.progress(`policy on ${candidate.id}: ${policy.decision}${why}`);
      return { candidate, verdict, commit, message, policy };
    }),
  );
}
