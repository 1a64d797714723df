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

export interface RunStep {
  kind: 'run';
  name: string;
  command: string;
  timeoutSec: number;
  env?: Record<string, string>;
}

export type Step = ServeStep | RunStep;

export interface Plan {
  steps: Step[];
  outputBytes: number;
  /** Workspace paths to delete before the steps (files the patch deletes, still in a prepared image). */
  remove?: string[];
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
}

export type StepResult = ServeResult | RunResult;

export const RESULT_MARK = '@@SUTURE_RESULT@@';
