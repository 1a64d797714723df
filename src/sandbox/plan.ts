/** The contract between the host and sandbox/driver/driver.py, which runs inside the container. */
import type { RequestSample } from '../incident/types.ts';

export interface ServeStep {
  kind: 'serve';
  name: string;
  start: string;
  port: number;
  health: string;
  requests: RequestSample[];
  timeoutSec: number;
  startupTimeoutSec?: number;
  requestTimeoutSec?: number;
  /** Wait this long after the last request before checking the service is alive and healthy. */
  settleMs?: number;
  /**
   * Send request i no earlier than notBefore[i] (the kernel's monotonic clock, in seconds, which containers
   * share): the differential's second base instance answers each request at least a second after the
   * first did, so time-of-day values of second precision differ between them and are learned as noise.
   */
  notBefore?: number[];
  env?: Record<string, string>;
}

/** A file written into the workspace (as the sandbox user) just before a step runs. */
export interface PlanFile {
  path: string;
  /** base64 */
  data: string;
}

export interface RunStep {
  kind: 'run';
  name: string;
  command: string;
  timeoutSec: number;
  /**
   * Candidate code in the base container (its regression test): limited to max(floorSec, factor × the
   * duration of the earlier step `step`), and never more than timeoutSec.
   */
  scaleFrom?: { step: string; factor: number; floorSec: number };
  env?: Record<string, string>;
  files?: PlanFile[];
}

/**
 * Prepare only: removes every file of the tree (`Plan.tree`) from the workspace and moves what is left
 * (what install produced) to `dir`, which the prepared image keeps and verification copies back in.
 */
export interface StashStep {
  kind: 'stash';
  name: string;
  dir: string;
}

export type Step = ServeStep | RunStep | StashStep;

export interface Plan {
  steps: Step[];
  outputBytes: number;
  /** A tar of the tree the driver unpacks into the workspace (as the sandbox user) before the steps. */
  tree?: string;
  /** Prepared dependencies the driver copies into the workspace first, when the directory exists. */
  deps?: string;
  /** Skip the remaining steps once a run step fails (prepare: no stash after a failed install). */
  stopOnFailure?: boolean;
  /**
   * Skip the remaining steps once a step is stopped at a limit (time, output): a candidate that hit one has
   * failed, and running its other steps to their limits only costs time.
   */
  stopAfterLimit?: boolean;
}

export interface HttpResult {
  status: number | null;
  body?: string;
  contentType?: string;
  /** The headers the differential compares (content-type, location, set-cookie), by lower-case name. */
  headers?: Record<string, string[]>;
  /** The body was longer than the driver reads (256 KiB): `body` is its beginning. */
  truncated?: boolean;
  /** When the request was sent (monotonic clock, seconds). */
  sentAt?: number;
  durationMs?: number;
  error?: string;
}

/** Why the driver stopped a step early: its time limit, its output flood limit, or an earlier step's limit. */
export type Stopped = 'timeout' | 'output-limit' | 'skipped' | null;

export interface ServeResult {
  kind: 'serve';
  name: string;
  healthy: boolean;
  startupMs?: number;
  /** Status of the first health answer (the one that made the service count as up). */
  healthStatus?: number | null;
  /** Status of the health check after the requests. */
  healthAfterStatus?: number | null;
  stopped?: Stopped;
  responses: HttpResult[];
  aliveAfter: boolean;
  healthyAfter: boolean;
  exitCode: number | null;
  durationMs: number;
  output: string;
}

export interface RunResult {
  kind: 'run';
  name: string;
  exitCode: number | null;
  /** Why the driver stopped the command early (or did not run it: `skipped`). */
  stopped: Stopped;
  durationMs: number;
  output: string;
  outputBytes: number;
  /** The workspace had (next to) no space left after the step: it hit its size limit. */
  workspaceFull?: boolean;
}

export interface StashResult {
  kind: 'stash';
  name: string;
  ok: boolean;
  output: string;
}

export type StepResult = ServeResult | RunResult | StashResult;

/** What the driver prints: the step results, or why it could not set up the workspace. */
export interface DriverReport {
  steps: StepResult[];
  setupError?: string;
  workspaceFull?: boolean;
}

export const RESULT_MARK = '@@SUTURE_RESULT@@';
