import type { ServiceConfig } from '../config/service.ts';
import type { Evidence } from '../evidence/index.ts';
import type { Incident } from '../incident/types.ts';

export type { Classification } from './classify.ts';

import type { Classification } from './classify.ts';

export interface Diagnosis {
  classification: Classification;
  rootCause: string;
  location: { file: string; line: number; function: string } | null;
  confidence: number;
  /** Why this classification (names the exception and, where known, the dependency or setting). */
  reason: string;
  /** What a human should check first; for escalations the whole answer. */
  whatToCheck: string[];
  /** What the repair strategies tried and why they proposed nothing or dropped a variant. */
  notes: string[];
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

export interface FileEdit {
  path: string;
  /** undefined for a new file. */
  before?: string;
  after: string;
}
