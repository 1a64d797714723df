/**
 * Diagnose: evidence → a `Diagnosis` and candidate patches. Classification comes first (classify.ts): only
 * a defect in the repo's code is patched; a downed dependency, exhausted resources or missing configuration
 * end escalated with what a human should check. Code defects go to the repair strategies behind `Strategy`
 * (knowledge, revert, templates, LLM: strategies/index.ts), each proposal becoming a candidate with its own
 * regression test or the shared one. Verification, not diagnosis, decides which one is a fix.
 */

import { errorMessage } from '../errors.ts';
import { innermostRepoFrame } from '../incident/paths.ts';
import { extractTraces } from '../incident/stacktrace/index.ts';
import type { Incident, ParsedTrace, StackFrame } from '../incident/types.ts';
import { classify } from './classify.ts';
import { makeGitPatch } from './patch.ts';
import { regressionTestFromRepo } from './regression-test.ts';
import { sourceMismatches } from './source-match.ts';
import { templateStrategy } from './strategies/template/index.ts';
import type { Proposal, Strategy } from './strategies/types.ts';
import type { Candidate, Diagnosis, FileEdit, RepairContext } from './types.ts';

export type { Candidate, Diagnosis, RepairContext } from './types.ts';

const sameTrace = (a: ParsedTrace, b: ParsedTrace) =>
  a.exceptionType === b.exceptionType && a.message === b.message && a.frames.length === b.frames.length;

/** Exceptions printed around the incident's trace (it was raised during, or wrapped by, them). */
export function outerExceptions(incident: Incident): ParsedTrace[] {
  const trace = incident.trace;
  if (!trace) return [];
  for (const top of extractTraces(incident.logs)) {
    const chain: ParsedTrace[] = [];
    for (let t: ParsedTrace | undefined = top; t; t = t.cause) {
      if (sameTrace(t, trace)) return chain.reverse();
      chain.push(t);
    }
  }
  return [];
}

/** The source lines the trace's in-repo frames point at (the trace's own copy, else the repo's). */
async function frameLines(ctx: RepairContext): Promise<(f: StackFrame) => string | undefined> {
  const files = new Map<string, string[] | undefined>();
  for (let t = ctx.incident.trace; t; t = t.cause) {
    for (const f of t.frames) {
      if (f.external || !f.repoPath || files.has(f.repoPath)) continue;
      files.set(f.repoPath, (await ctx.readFile(f.repoPath))?.split(/\r?\n/));
    }
  }
  return (f) => f.code ?? (f.repoPath && f.line ? files.get(f.repoPath)?.[f.line - 1] : undefined);
}

/** A proposal as a candidate: its edits and its own regression test, or the shared one. */
export function candidateOf(p: Proposal, id: string, shared: FileEdit | undefined): Candidate {
  const t = p.test ?? shared;
  return {
    id,
    strategy: p.strategy,
    summary: p.summary,
    confidence: p.confidence,
    patch: makeGitPatch(t ? [...p.edits, t] : p.edits),
    ...(t ? { testFile: t.path } : {}),
  };
}

/**
 * Runs every strategy in turn; a strategy that throws costs its own proposals, never the heal. Candidates
 * are numbered c1, c2, … in the strategies' order.
 */
export async function proposeAll(
  ctx: RepairContext,
  strategies: Strategy[],
): Promise<{ candidates: Candidate[]; notes: string[]; sharpened: Partial<Diagnosis>[] }> {
  const shared = await regressionTestFromRepo(ctx);
  const candidates: Candidate[] = [];
  const notes: string[] = [];
  const sharpened: Partial<Diagnosis>[] = [];
  for (const s of strategies) {
    try {
      const out = await s.propose(ctx);
      notes.push(...out.notes);
      if (out.diagnosis) sharpened.push(out.diagnosis);
      for (const p of out.proposals) candidates.push(candidateOf(p, `c${candidates.length + 1}`, shared));
    } catch (err) {
      notes.push(`${s.name}: failed (${errorMessage(err)})`);
    }
  }
  return { candidates, notes, sharpened };
}

/** Without `strategies`, the templates alone (tests and benches); heal passes every configured strategy. */
export async function diagnose(
  ctx: RepairContext,
  strategies?: Strategy[],
): Promise<{ diagnosis: Diagnosis; candidates: Candidate[] }> {
  if (!strategies) {
    const templates = templateStrategy();
    try {
      return await diagnose(ctx, [templates]);
    } finally {
      templates.close();
    }
  }
  const trace = ctx.incident.trace;
  const verdict = classify({
    ...(trace ? { trace } : {}),
    outer: outerExceptions(ctx.incident),
    logs: ctx.incident.logs,
    sourceLine: await frameLines(ctx),
  });
  const frame = trace ? innermostRepoFrame(trace) : undefined;
  const location = frame?.repoPath
    ? { file: frame.repoPath, line: frame.line ?? 0, function: frame.function ?? '<unknown>' }
    : null;
  // The trace quotes the crashing lines (Python): code that says otherwise is another revision's.
  const notes = trace ? await sourceMismatches(trace, ctx.readFile) : [];
  let candidates: Candidate[] = [];
  if (verdict.classification === 'code-defect') {
    const proposed = await proposeAll(ctx, strategies);
    candidates = proposed.candidates;
    notes.push(...proposed.notes);
    // A strategy that read the code (the LLM) may say more about the cause; its word is a note, the
    // classification stays the deterministic one.
    for (const d of proposed.sharpened) if (d.rootCause) notes.push(`a strategy's reading: ${d.rootCause}`);
  }
  const rootCause =
    verdict.classification === 'code-defect' && trace && location
      ? `${trace.exceptionType}: ${trace.message} in ${location.function} (${location.file}:${location.line})`
      : verdict.reason;
  const confidence = candidates.length
    ? Math.max(...candidates.map((c) => c.confidence))
    : verdict.classification === 'code-defect'
      ? 0.3
      : 0.1;
  return {
    diagnosis: {
      classification: verdict.classification,
      rootCause,
      location,
      confidence,
      reason: verdict.reason,
      whatToCheck: verdict.whatToCheck,
      notes,
    },
    candidates,
  };
}
