/** Stages: evidence and diagnose. What the crash shows, what kind of failure it is, and candidate fixes. */
import { type Candidate, type Diagnosis, diagnose } from '../../diagnose/index.ts';
import { repairStrategies } from '../../diagnose/strategies/index.ts';
import { exchangeAuditEntry } from '../../diagnose/strategies/llm/index.ts';
import { readRepoFile } from '../../evidence/excerpts.ts';
import { type Evidence, gatherEvidence } from '../../evidence/index.ts';
import { type Run, timed } from '../run.ts';

export function collectEvidence(run: Run): Promise<Evidence> {
  const { incident, tree, repo, base } = run;
  return timed(run, 'evidence', () => gatherEvidence({ incident, treeDir: tree, repoDir: repo, rev: base }));
}

export interface Repair {
  diagnosis: Diagnosis;
  candidates: Candidate[];
}

export async function diagnoseCrash(run: Run, evidence: Evidence): Promise<Repair> {
  const { opts, incident } = run;
  const repair = await timed(
    run,
    'diagnose',
    async () => {
      const repairing = repairStrategies({
        stateDir: opts.stateDir,
        repo: run.repo,
        base: run.base,
        window: run.window,
        // Each LLM exchange (prompt and answer, redacted) is journaled as it completes.
        onExchange: (e) =>
          run.audit.append(
            exchangeAuditEntry(e, { run: run.id, incident: incident.id, fingerprint: incident.fingerprint }),
          ),
      });
      try {
        return await diagnose(
          {
            incident,
            evidence,
            config: run.config,
            repoFiles: run.files,
            readFile: (path: string) => readRepoFile(run.tree, path),
          },
          repairing.strategies,
        );
      } finally {
        repairing.close();
      }
    },
    (r) => `${r.diagnosis.classification}, ${r.candidates.length} candidate(s)`,
  );
  const { diagnosis } = repair;
  for (const note of diagnosis.notes ?? []) run.progress(`note: ${note}`);
  run.progress(`diagnosis: ${diagnosis.rootCause} (${diagnosis.classification}, confidence ${diagnosis.confidence})`);
  return repair;
}
