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
}

export interface HttpResult {
  status: number | null;
  body?: string;
  contentType?: string;
  error?: string;
}

export interface ServeResult {
  kind: 'serve';
  name: string;
  healthy: boolean;
  startupMs?: number;
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
  /** Why the driver stopped the command early: its time limit or the output flood limit. */
  stopped: 'timeout' | 'output-limit' | null;
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
