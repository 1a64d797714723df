/**
 * The repair strategies the orchestrator runs beside diagnose's templates — the knowledge store's earlier
 * fix and the revert of a recent regression — and their proposals turned into candidates the sandbox
 * verifies like any other. Until diagnose runs every strategy behind the one interface itself, this is
 * where they join: knowledge first (it is the fix that verified for this very crash), then reverts, then
 * whatever diagnose proposed. A strategy that throws costs its proposals, never the heal.
 */
import type { ServiceConfig } from '../config/service.ts';
import { makeGitPatch } from '../diagnose/patch.ts';
import { regressionTest } from '../diagnose/regression-test.ts';
import { knowledgeStrategy } from '../diagnose/strategies/knowledge/index.ts';
import { gitHistory, type RevertWindow, revertStrategy } from '../diagnose/strategies/revert/index.ts';
import type { Proposal, Strategy } from '../diagnose/strategies/types.ts';
import type { Candidate, FileEdit, RepairContext } from '../diagnose/types.ts';
import { errorMessage } from '../errors.ts';
import { previousFixes } from '../knowledge/store.ts';

/** suture.yaml's `repair.revertWindowHours` (it may only shorten the operator's window). */
export function repoRevertHours(config: ServiceConfig): number | undefined {
  return config.repair?.revertWindowHours;
}

/** The knowledge and revert strategies for one heal. */
export function orchestratorStrategies(opts: {
  stateDir: string;
  repo: string;
  base: string;
  window: RevertWindow;
}): Strategy[] {
  return [
    knowledgeStrategy({ previousFixes: (fp) => previousFixes(opts.stateDir, fp) }),
    revertStrategy({ history: gitHistory(opts.repo, opts.base), window: opts.window }),
  ];
}

/** A proposal as a candidate: its edits and its own regression test, or the shared one. */
export function proposalCandidate(p: Proposal, sharedTest: FileEdit | undefined): Omit<Candidate, 'id'> {
  const test = p.test ?? sharedTest;
  return {
    strategy: p.strategy,
    summary: p.summary,
    confidence: p.confidence,
    patch: makeGitPatch(test ? [...p.edits, test] : p.edits),
    ...(test ? { testFile: test.path } : {}),
  };
}

export async function runStrategies(
  strategies: Strategy[],
  ctx: RepairContext,
): Promise<{ candidates: Omit<Candidate, 'id'>[]; notes: string[] }> {
  const test = regressionTest(ctx.incident, ctx.config, ctx.repoFiles);
  const candidates: Omit<Candidate, 'id'>[] = [];
  const notes: string[] = [];
  for (const s of strategies) {
    try {
      const out = await s.propose(ctx);
      notes.push(...out.notes);
      candidates.push(...out.proposals.map((p) => proposalCandidate(p, test)));
    } catch (err) {
      notes.push(`${s.name}: failed (${errorMessage(err)})`);
    }
  }
  return { candidates, notes };
}

/** Candidates in the order given, numbered c1, c2, … (diagnose's own ids are renumbered). */
export function numberCandidates(candidates: Omit<Candidate, 'id'>[]): Candidate[] {
  return candidates.map((c, i) => ({ ...c, id: `c${i + 1}` }));
}
