/** Stage: verify. Every candidate in the sandbox against the base run; a plain verdict per candidate. */
import { availableParallelism } from 'node:os';
import type { Candidate } from '../../diagnose/index.ts';
import { repoIdentity } from '../../sandbox/prepare.ts';
import { prepareBaseline, type Verdict, verifyCandidate } from '../../sandbox/verify.ts';
import { mapLimit } from '../limit.ts';
import { type Run, timed } from '../run.ts';

export function verifyCandidates(run: Run, candidates: Candidate[]): Promise<Verdict[]> {
  const p = run.progress;
  p(`verifying ${candidates.length} candidate(s) in the sandbox (${run.config.image})`);
  return timed(
    run,
    'verify',
    async () => {
      const baseline = await prepareBaseline({
        tree: run.tree,
        config: run.config,
        incident: run.incident,
        candidates,
        repoId: await repoIdentity(run.repo),
        progress: p,
      });
      void baseline.ready.then(() =>
        p(`base: ${baseline.reproduced ? 'crash reproduced' : 'crash not reproduced'} (${baseline.durationMs} ms)`),
      );
      return mapLimit(candidates, run.opts.concurrency ?? availableParallelism(), async (c) => {
        const v = await verifyCandidate(baseline, c);
        p(
          `candidate ${c.id} (${c.strategy}): ${v.verdict}${v.verdict === 'fail' ? ` — ${v.reasons[0]}` : ''} (${v.durationMs} ms)`,
        );
        return v;
      });
    },
    (vs) => vs.map((v) => v.verdict).join(','),
  );
}
