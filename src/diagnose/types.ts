import type { ServiceConfig } from '../config/service.ts';
import type { Evidence } from '../evidence/index.ts';
import type { Incident } from '../incident/types.ts';

export type Classification = 'code-defect' | 'dependency-failure' | 'unknown';

export interface Diagnosis {
  classification: Classification;
  rootCause: string;
  location: { file: string; line: number; function: string } | null;
  confidence: number;
}

export interface Candidate {
  id: string;
  /** e.g. template:zero-division, revert, llm */
  strategy: string;
  summary: string;
  /** A git-style unified diff (applies with `git apply`). */
  patch: string;
  /** Repo-relative path of the regression test the patch adds, if any. */
  testFile?: string;
  confidence: number;
}

export interface RepairContext {
  incident: Incident;
  evidence: Evidence;
  config: ServiceConfig;
  /** Repo-relative paths at the base revision. */
  repoFiles: string[];
  /** Reads a repo file at the base revision (undefined when missing or outside the repo). */
  readFile(repoPath: string): Promise<string | undefined>;
}

/** A repair template: recognises one crash class and writes a minimal patch for it. */
export interface Template {
  name: string;
  matches(ctx: RepairContext): boolean;
  propose(
    ctx: RepairContext,
  ): Promise<(Omit<Candidate, 'id' | 'testFile' | 'patch'> & { edits: FileEdit[] }) | undefined>;
}

export interface FileEdit {
  path: string;
  /** undefined for a new file. */
  before?: string;
  after: string;
}
