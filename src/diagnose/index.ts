/**
 * Diagnose: evidence → a `Diagnosis` and candidate patches. Classification comes first (classify.ts): only
 * a defect in the repo's code is patched; a downed dependency, exhausted resources or missing configuration
 * end escalated with what a human should check. Code defects go to the repair strategies behind `Strategy`
 * (the templates on the syntax tree here; revert and LLM plug in beside them), each proposal becoming a
 * candidate with the shared regression test. Verification, not diagnosis, decides which one is a fix.
 */
import { innermostRepoFrame } from '../incident/paths.ts';
import { extractTraces } from '../incident/stacktrace/index.ts';
import type { Incident, ParsedTrace, StackFrame } from '../incident/types.ts';
import { classify } from './classify.ts';
import { makeGitPatch } from './patch.ts';
import { regressionTest } from './regression-test.ts';
import { templateStrategy } from './strategies/template/index.ts';
import type { Proposal } from './strategies/types.ts';
import type { Candidate, Diagnosis, RepairContext } from './types.ts';

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

function candidateOf(p: Proposal, id: string, test: ReturnType<typeof regressionTest>): Candidate {
  const t = p.test ?? test;
  return {
    id,
    strategy: p.strategy,
    summary: p.summary,
    confidence: p.confidence,
    patch: makeGitPatch(t ? [...p.edits, t] : p.edits),
    ...(t ? { testFile: t.path } : {}),
  };
}

export async function diagnose(ctx: RepairContext): Promise<{ diagnosis: Diagnosis; candidates: Candidate[] }> {
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
  const candidates: Candidate[] = [];
  const notes: string[] = [];
  if (verdict.classification === 'code-defect') {
    const test = regressionTest(ctx.incident, ctx.config, ctx.repoFiles);
    const templates = templateStrategy();
    try {
      const outcome = await templates.propose(ctx);
      notes.push(...outcome.notes);
      for (const p of outcome.proposals) candidates.push(candidateOf(p, `c${candidates.length + 1}`, test));
    } finally {
      templates.close();
    }
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
