/** Shapes shared by intake and every later stage. */

export type Language = 'python' | 'node';

export interface StackFrame {
  /** Path as it appeared in the trace (the container's), e.g. /srv/cart-api/cart.py or node:internal/... */
  file: string;
  line?: number;
  column?: number;
  /** Function name; '<module>' for Python module level, '<anonymous>' for anonymous JS functions. */
  function?: string;
  /** Source line shown in the trace, when the trace carries it (Python). */
  code?: string;
  /** Outside the repo: stdlib, site-packages, node_modules, node:internal, or no repo file matched. */
  external: boolean;
  /** Repo-relative path (POSIX separators) when the frame maps to a file in the repo. */
  repoPath?: string;
  /** `at async fn` frames in Node stacks. */
  async?: boolean;
}

export interface ParsedTrace {
  language: Language;
  /** Exception class / error name, e.g. ZeroDivisionError, TypeError. */
  exceptionType: string;
  message: string;
  /** Outermost call first, innermost (where it was raised) last, as Python prints them. */
  frames: StackFrame[];
  /** The exception this one was raised from or during (Python chained exceptions, Node `cause`). */
  cause?: ParsedTrace;
}

export interface RequestSample {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** Status the service answered in production (failing: 5xx). */
  status?: number;
}

export type Signal = 'crash' | 'alert';

/** Where healthy samples come from: the crash report's list, the incident's logs, suture.yaml's capture file. */
export type HealthySource = 'report' | 'logs' | 'capture';

export interface HealthySources {
  /** Samples kept, per source. */
  kept: Record<HealthySource, number>;
  /** Candidate samples not kept, by reason (`same-route`, `not-2xx`, `over-cap`, `unrecognised`, …). */
  skipped: Record<string, number>;
}

export interface Incident {
  id: string;
  fingerprint: string;
  service: string;
  environment: string;
  signal: Signal;
  summary: string;
  detectedAt: string;
  severity?: string;
  /** The trace that best explains the crash (the innermost cause with in-repo frames), when one was found. */
  trace?: ParsedTrace;
  /** Log text as received, reduced to a bounded excerpt when big (src/incident/logs.ts); redact before sending anywhere. */
  logs: string;
  /** Sanitised on intake (src/incident/sanitise.ts): allow-listed headers, redacted bodies and paths. */
  requests: RequestSample[];
  /** 2xx only, never equal to a failing request, one per route, capped (src/incident/healthy/select.ts). */
  healthyRequests: RequestSample[];
  /** How `healthyRequests` was gathered; absent on incidents made by hand. */
  healthySources?: HealthySources;
  labels: Record<string, string>;
  /** The commit the crashing version was built from, as the incident names it (validated shape, not resolved). */
  revision?: string;
}
