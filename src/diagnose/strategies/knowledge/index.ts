/**
 * The knowledge strategy (SapFix/Getafix style): a crash whose fingerprint was healed before gets the fix
 * that verified then, first — when it still applies to the code at the base revision. Its proposals are
 * marked `knowledge:<strategy that wrote the fix>` and carry a high confidence, so ranking prefers them;
 * verification judges them like any other candidate (the code may have changed around them).
 *
 * Only the fix is reused, not its regression test: the test replays the earlier incident's request, and
 * this incident gets its own. A stored patch that redaction altered on its way into the store is never
 * applied as code; nor is one that touches a path outside the repo's files.
 */
import { applyPatch, parsePatch, type StructuredPatch } from 'diff';
import { treePathProblem } from '../../../gitops/tree.ts';
import { safeLine } from '../../../incident/display.ts';
import type { StoredFix } from '../../../knowledge/store.ts';
import type { FileEdit, RepairContext } from '../../types.ts';
import type { Proposal, Strategy, StrategyOutcome } from '../types.ts';

/** Above what a template or a revert claims: this fix has passed verification for this very crash. */
export const KNOWLEDGE_CONFIDENCE = 0.95;
/** Earlier fixes tried per incident. */
const MAX_FIXES = 2;

export interface KnowledgeOptions {
  /** The fixes that verified for a fingerprint, best first (src/knowledge/store.ts previousFixes). */
  previousFixes(fingerprint: string): StoredFix[] | Promise<StoredFix[]>;
}

const stripPrefix = (name: string | undefined) => (name ?? '').replace(/^[ab]\//, '');

type Applied = { ok: true; edits: FileEdit[] } | { ok: false; reason: string };

/** The stored patch's source edits applied to the base revision's files, or why they cannot be. */
export async function applyStoredFix(ctx: RepairContext, fix: StoredFix): Promise<Applied> {
  let files: StructuredPatch[];
  try {
    files = parsePatch(fix.patch);
  } catch {
    return { ok: false, reason: 'its patch cannot be read' };
  }
  const edits: FileEdit[] = [];
  for (const f of files) {
    const isNew = f.oldFileName === '/dev/null';
    const path = stripPrefix(isNew ? f.newFileName : f.oldFileName);
    if (f.newFileName === '/dev/null') return { ok: false, reason: `it deletes ${path}` };
    if (stripPrefix(f.newFileName) !== path) return { ok: false, reason: `it renames ${path}` };
    const problem = treePathProblem(path);
    if (problem) return { ok: false, reason: `it names a path with ${problem}` };
    // The earlier incident's regression test: this incident gets its own.
    if (path === fix.testFile) continue;
    const exists = ctx.repoFiles.includes(path);
    if (isNew && exists) return { ok: false, reason: `${path}, which it creates, exists now` };
    if (!isNew && !exists) return { ok: false, reason: `${path} is not in the repo any more` };
    const before = isNew ? '' : await ctx.readFile(path);
    if (before === undefined) return { ok: false, reason: `${path} cannot be read` };
    const after = applyPatch(before, f);
    if (after === false) return { ok: false, reason: `it no longer applies to ${path}` };
    if (after !== before) edits.push(isNew ? { path, after } : { path, before, after });
  }
  if (edits.length === 0) return { ok: false, reason: 'the code already holds it' };
  return { ok: true, edits };
}

export function knowledgeStrategy(opts: KnowledgeOptions): Strategy {
  return {
    name: 'knowledge',
    async propose(ctx: RepairContext): Promise<StrategyOutcome> {
      const fixes = await opts.previousFixes(ctx.incident.fingerprint);
      if (fixes.length === 0) return { proposals: [], notes: [] };
      const proposals: Proposal[] = [];
      const notes: string[] = [];
      for (const fix of fixes.slice(0, MAX_FIXES)) {
        const what = `the fix ${fix.status} on ${fix.recordedAt} (${fix.strategy})`;
        if (!fix.intact) {
          notes.push(`knowledge: ${what} was altered by redaction when stored; not reused`);
          continue;
        }
        const applied = await applyStoredFix(ctx, fix);
        if (!applied.ok) {
          notes.push(`knowledge: ${what}: ${applied.reason}`);
          continue;
        }
        proposals.push({
          strategy: `knowledge:${fix.strategy.replace(/^knowledge:/, '')}`,
          summary: safeLine(
            `the fix that verified for this crash on ${fix.recordedAt.slice(0, 10)}: ${fix.summary}`,
            300,
          ),
          confidence: Math.max(KNOWLEDGE_CONFIDENCE, fix.confidence),
          edits: applied.edits,
        });
      }
      return { proposals, notes };
    },
  };
}
