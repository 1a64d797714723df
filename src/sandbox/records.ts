/**
 * What verification observed, as plain records: the I/O side (verify.ts `runBase`, `runCandidate`) fills
 * them from the sandbox containers, and the pure side (verdict.ts `decideVerdict`) reads nothing else.
 */
import type { RunResult, ServeResult } from './plan.ts';

/** The base revision's run. */
export interface BaseRecord {
  /** Why the failing requests were not replayed (no start command, none captured); null when they were. */
  replaySkipped: string | null;
  /** The failing requests on a fresh base service: does it crash? */
  replay: ServeResult | null;
  /**
   * The healthy requests on two fresh base services, in two containers: what differs between them is
   * noise. The secondary runs alongside the candidates (only the verdict needs it, not their limits).
   */
  primary: ServeResult | null;
  secondary: ServeResult | null;
  /** What went wrong with the secondary's container as a whole. */
  secondaryProblem: string | null;
  /** The repo's test command on base: the reference for the candidate's test steps' time limits. */
  tests: RunResult | null;
  /** Regression tests that rode along in the base container, in plan order (null: no result). */
  regressionBefore: (RunResult | null)[];
  /** What went wrong with the base container as a whole (it could not start, set up, or it died). */
  problem: string | null;
  /** The network the dependency install ran on; null: no install ran. */
  installNetwork: 'isolated' | 'host' | null;
  durationMs: number;
}

/** A candidate step's wall-clock limit and what it was scaled from. */
export interface StepLimit {
  sec: number;
  /** The same step's duration on base (ms); null when base has none and the static limit applies. */
  baseMs: number | null;
}

export interface CandidateLimits {
  /** The failing requests: the whole step, and the service's startup within it. */
  replay: { step: StepLimit; startup: StepLimit };
  healthy: { step: StepLimit; startup: StepLimit };
  tests: StepLimit;
  /** The candidate's own tests, each run alone (scaled from the base test run). */
  ownTests: StepLimit;
}

/** The candidate's run against that base. */
export interface CandidateRecord {
  /** Why the candidate was not run at all (its patch does not apply, deletes tests, changes runner config). */
  refused: string[];
  /** Why it was not run although it may be run: nothing to measure it against. */
  notRun: string | null;
  replay: ServeResult | null;
  healthy: ServeResult | null;
  tests: RunResult | null;
  /** Its regression test: run alone on base (must fail) and on the patched tree (must pass). */
  regression: { file: string; before: RunResult | null; after: RunResult | null } | null;
  /** Other test files it adds, each run alone on the patched tree. */
  addedTests: { path: string; result: RunResult | null }[];
  /** What went wrong with the candidate's container as a whole. */
  problem: string | null;
  workspaceFull: boolean;
  limits: CandidateLimits | null;
  durationMs: number;
}
