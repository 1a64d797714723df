/**
 * Guardrails: what the orchestrator lets a heal do, decided before any work and shown in the result.
 * Pure: the state they read (the kill-switch file, the knowledge store's history) comes in as data.
 *
 *   kill switch          the operator's flag (SUTURE_KILL_SWITCH), suture.yaml's `guardrails.killSwitch` or
 *                        the file `<state>/kill-switch`: observe mode, whatever was asked
 *   autonomy             suture.yaml's `autonomy` is the most the repository accepts; absent, observe. A
 *                        repository opts in to branches (propose) or merges (auto); the operator's --mode
 *                        can only ask for less
 *   attempts             after maxAttempts failed heals in a row (no-fix, rejected, aborted) for a
 *                        fingerprint, it is escalated to a human instead of tried again
 *   cool-down            after a failed heal, the same fingerprint waits cooldownMinutes
 *   merges per hour      at most maxAutoMergesPerHour autonomous merges across all services; beyond, auto
 *                        mode proposes instead
 *   confidence           a diagnosis below minConfidence is escalated; a fix below autoMergeConfidence is
 *                        proposed for review even in auto mode
 */
import { SutureError } from '../errors.ts';
import type { Mode, Stop } from './types.ts';

export interface GuardrailLimits {
  maxAttempts: number;
  cooldownMinutes: number;
  maxAutoMergesPerHour: number;
  minConfidence: number;
  autoMergeConfidence: number;
}

export const DEFAULT_GUARDRAILS: GuardrailLimits = {
  maxAttempts: 3,
  cooldownMinutes: 15,
  maxAutoMergesPerHour: 3,
  minConfidence: 0.3,
  autoMergeConfidence: 0.6,
};

/** Heals that tried and failed; they count towards attempts and start a cool-down. */
export const FAILED_STATUSES = ['no-fix', 'rejected', 'aborted'] as const;

export interface GuardrailInput {
  requested: Mode;
  /** suture.yaml's `autonomy`; undefined when the repository has not opted in. */
  autonomy: Mode | undefined;
  killSwitch: { flag: boolean; file: boolean };
  /** This fingerprint's earlier heals, newest first. */
  history: { status: string; recordedAt: string }[];
  autoMergesLastHour: number;
  limits: GuardrailLimits;
  now: Date;
}

export interface GuardrailReport {
  requested: Mode;
  /** The mode this heal runs in. */
  mode: Mode;
  /** Each guardrail that acted, in words. */
  applied: string[];
  limits: GuardrailLimits;
}

const RANK: Record<Mode, number> = { observe: 0, propose: 1, auto: 2 };
const lower = (a: Mode, b: Mode): Mode => (RANK[a] <= RANK[b] ? a : b);

export function decideGuardrails(i: GuardrailInput): { report: GuardrailReport; stop: Stop | null } {
  const applied: string[] = [];
  let mode = i.requested;
  const report = () => ({ requested: i.requested, mode, applied, limits: i.limits });

  if (i.killSwitch.flag || i.killSwitch.file) {
    const where = [i.killSwitch.flag ? 'config' : '', i.killSwitch.file ? 'kill-switch file' : '']
      .filter(Boolean)
      .join(' and ');
    if (mode !== 'observe') applied.push(`kill switch (${where}): observe mode`);
    mode = 'observe';
  }
  const allowed = i.autonomy ?? 'observe';
  if (RANK[mode] > RANK[allowed]) {
    applied.push(
      i.autonomy
        ? `suture.yaml allows at most ${allowed} (autonomy: ${allowed})`
        : 'observe mode until suture.yaml opts in (autonomy: propose or auto)',
    );
    mode = lower(mode, allowed);
  }

  const failed = new Set<string>(FAILED_STATUSES);
  let streak = 0;
  for (const h of i.history) {
    if (!failed.has(h.status)) break;
    streak++;
  }
  if (streak >= i.limits.maxAttempts) {
    return {
      report: report(),
      stop: {
        status: 'escalated',
        reason: `guardrail: ${streak} failed heals in a row for this crash (max ${i.limits.maxAttempts}): a human must look`,
      },
    };
  }
  const last = i.history[0];
  if (last && failed.has(last.status)) {
    const until = Date.parse(last.recordedAt) + i.limits.cooldownMinutes * 60_000;
    if (Number.isFinite(until) && i.now.getTime() < until) {
      return {
        report: report(),
        stop: {
          status: 'escalated',
          reason: `guardrail: cool-down after the last failed heal (${last.status}) until ${new Date(until).toISOString()}`,
        },
      };
    }
  }
  if (mode === 'auto' && i.autoMergesLastHour >= i.limits.maxAutoMergesPerHour) {
    applied.push(
      `${i.autoMergesLastHour} autonomous merges in the last hour (max ${i.limits.maxAutoMergesPerHour}): proposing instead`,
    );
    mode = 'propose';
  }
  return { report: report(), stop: null };
}

/** A diagnosis too unsure to act on is a human's. */
export function confidenceStop(confidence: number, limits: GuardrailLimits): Stop | null {
  return confidence < limits.minConfidence
    ? {
        status: 'escalated',
        reason: `guardrail: diagnosis confidence ${confidence} is below ${limits.minConfidence}: a human must look`,
      }
    : null;
}

/** The mode a chosen fix is delivered in: auto only when it is confident enough to merge without a human. */
export function deliveryMode(
  mode: 'propose' | 'auto',
  confidence: number,
  limits: GuardrailLimits,
): { mode: 'propose' | 'auto'; note?: string } {
  if (mode === 'auto' && confidence < limits.autoMergeConfidence) {
    return {
      mode: 'propose',
      note: `guardrail: fix confidence ${confidence} is below ${limits.autoMergeConfidence}: proposed for review, not merged`,
    };
  }
  return { mode };
}

/**
 * The operator's limits from the environment, tightened (never loosened) by suture.yaml's `guardrails`.
 * A malformed operator value is an error the operator must fix, not a silent default.
 */
export function guardrailLimits(
  env: NodeJS.ProcessEnv,
  repo: Partial<Omit<GuardrailLimits, 'maxAutoMergesPerHour'>> = {},
): GuardrailLimits {
  const num = (name: string, fallback: number, integer: boolean): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n)))
      throw new SutureError(
        'BAD_CONFIG',
        `${name} must be a ${integer ? 'whole ' : ''}number >= 0, got ${JSON.stringify(raw)}`,
      );
    return n;
  };
  const op: GuardrailLimits = {
    maxAttempts: num('SUTURE_MAX_ATTEMPTS', DEFAULT_GUARDRAILS.maxAttempts, true),
    cooldownMinutes: num('SUTURE_COOLDOWN_MINUTES', DEFAULT_GUARDRAILS.cooldownMinutes, false),
    maxAutoMergesPerHour: num('SUTURE_MAX_AUTO_MERGES_PER_HOUR', DEFAULT_GUARDRAILS.maxAutoMergesPerHour, true),
    minConfidence: num('SUTURE_MIN_CONFIDENCE', DEFAULT_GUARDRAILS.minConfidence, false),
    autoMergeConfidence: num('SUTURE_AUTO_MERGE_CONFIDENCE', DEFAULT_GUARDRAILS.autoMergeConfidence, false),
  };
  return {
    maxAttempts: Math.min(op.maxAttempts, repo.maxAttempts ?? Infinity),
    cooldownMinutes: Math.max(op.cooldownMinutes, repo.cooldownMinutes ?? 0),
    maxAutoMergesPerHour: op.maxAutoMergesPerHour,
    minConfidence: Math.max(op.minConfidence, repo.minConfidence ?? 0),
    autoMergeConfidence: Math.max(op.autoMergeConfidence, repo.autoMergeConfidence ?? 0),
  };
}

export function killSwitchFlag(env: NodeJS.ProcessEnv): boolean {
  return /^(1|true|yes|on)$/i.test(env.SUTURE_KILL_SWITCH ?? '');
}
