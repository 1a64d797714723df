/**
 * The demo's live step list (pure formatting): one line per step as it completes, the same on a terminal
 * and in a CI log, with the time since the demo started and the step's own duration.
 */

export interface StepLine {
  /** Seconds since the demo started. */
  at: number;
  mark: 'ok' | 'fail' | 'info';
  text: string;
  /** The step's own duration in ms, when it has one. */
  ms?: number;
}

const MARKS = { ok: '✔', fail: '✘', info: '·' } as const;

export function formatStep(s: StepLine): string {
  const at = `${s.at.toFixed(1).padStart(6)}s`;
  const took =
    s.ms === undefined ? '' : ` (${s.ms < 1000 ? `${Math.round(s.ms)} ms` : `${(s.ms / 1000).toFixed(1)} s`})`;
  return `[${at}] ${MARKS[s.mark]} ${s.text}${took}`;
}

export interface AuditLine {
  stage: string;
  outcome: string;
  durationMs: number;
  detail?: string;
}

/** One audit-log entry of the heal as a step line; entries that say nothing new (none yet) give null. */
export function auditStep(e: AuditLine): Omit<StepLine, 'at'> | null {
  if (e.stage.includes(':llm')) return null;
  const detail = e.detail ? `: ${e.detail.split('\n')[0]!.slice(0, 160)}` : '';
  if (e.stage === 'result') return { mark: 'info', text: `heal result — ${e.detail ?? ''}`.slice(0, 200) };
  return {
    mark: e.outcome === 'error' ? 'fail' : 'ok',
    text: `heal: ${e.stage}${detail}`,
    ms: e.durationMs,
  };
}

/** The heal status from its audit `result` entry's detail (`fixed: …`, `aborted: …`). */
export function resultStatus(detail: string | undefined): string {
  return /^([a-z-]+):/.exec(detail ?? '')?.[1] ?? 'unknown';
}

/** MTTR as the demo prints it. */
export function formatMttr(ms: number): string {
  return `MTTR (first crash → promotion): ${(ms / 1000).toFixed(1)} s`;
}
