/**
 * The repair strategies behind one interface (templates on the syntax tree, revert of a recent regression,
 * an LLM, the knowledge store's earlier fix): each turns the evidence into proposals, and verification —
 * not the strategy — decides which, if any, is a fix. A strategy never throws for what the incident or the
 * repository holds: it returns no proposal and says why in `notes` (recorded in the result and the report).
 */
import type { Diagnosis, FileEdit, RepairContext } from '../types.ts';

export interface Proposal {
  /** `<strategy>:<detail>`, e.g. `template:dict-get:guard`, `revert`, `llm`. */
  strategy: string;
  /** One line a reviewer reads: what changes where. */
  summary: string;
  /** 0..1, the strategy's own belief that this is a complete fix. */
  confidence: number;
  /** Whole-file edits of source files in the repo (never tests, CI, runner configuration or other paths). */
  edits: FileEdit[];
  /** A regression test the strategy wrote itself; without one, diagnose adds the shared one. */
  test?: FileEdit;
}

export interface StrategyOutcome {
  proposals: Proposal[];
  /** Why a strategy proposed nothing or rejected something (e.g. an LLM answer that edits tests). */
  notes: string[];
  /** A strategy that reads the code (the LLM) may sharpen the diagnosis. */
  diagnosis?: Partial<Pick<Diagnosis, 'classification' | 'rootCause' | 'confidence'>>;
}

export interface Strategy {
  name: string;
  propose(ctx: RepairContext): Promise<StrategyOutcome>;
}
