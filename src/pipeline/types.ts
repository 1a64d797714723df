/** The heal's options and result (the CLI's `heal --json` contract, DESIGN.md). */
import type { Diagnosis } from '../diagnose/index.ts';
import type { ProposalRef, Provider } from '../gitops/providers/types.ts';
import type { HealthySources } from '../incident/types.ts';
import type { Verdict } from '../sandbox/verify.ts';
import type { PolicyResult } from './gate.ts';
import type { GuardrailReport } from './guardrails.ts';
import type { Progress } from './progress.ts';

export type Mode = 'observe' | 'propose' | 'auto';
export type HealStatus =
  | 'observed'
  | 'proposed'
  | 'fixed'
  | 'rejected'
  | 'no-fix'
  | 'escalated'
  | 'duplicate'
  | 'aborted';

export interface HealOptions {
  repo: string;
  incidentFile: string;
  /** The mode asked for; the guardrails may lower it (guardrails.ts), never raise it. */
  mode: Mode;
  configFile?: string;
  stateDir: string;
  push: boolean;
  progress: Progress;
  concurrency?: number;
  /**
   * Where the fix is proposed (and, in auto mode with policy allow, merged). Absent: the one the operator's
   * environment chooses (src/gitops/providers: local by default, whose merge is the local fast-forward only
   * with SUTURE_LOCAL_MERGE=fast-forward). Null: branch-only delivery (the branch is pushed, no proposal).
   */
  provider?: Provider | null;
  /** The operator's environment (guardrail limits, kill switch); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface CandidateResult {
  id: string;
  strategy: string;
  summary: string;
  verdict: Verdict | null;
  policy: PolicyResult | null;
}

/** How the heal stopped: the status and why. */
export interface Stop {
  status: HealStatus;
  reason: string;
}

export interface CanaryResult {
  decision: string;
  at: number;
  reason: string;
  [key: string]: unknown;
}

export interface HealResult {
  status: HealStatus;
  reason: string;
  incident: {
    id: string;
    fingerprint: string;
    service: string;
    signal: string;
    summary: string;
    /** Healthy samples gathered for differential replay, per source. */
    healthySources?: HealthySources;
    /** The revision the incident named (heal worked from it). */
    revision?: string;
  };
  /** The mode asked for, the mode the guardrails allowed, and every guardrail that acted. */
  guardrails: GuardrailReport;
  diagnosis: Diagnosis | null;
  candidates: CandidateResult[];
  chosen: string | null;
  branch: string | null;
  commit: string | null;
  /** The provider's proposal (pull/merge request; for `local`, the rendered body file). */
  pullRequest: ProposalRef | null;
  /** When origin's default branch had advanced past the healed base: the fix rebased onto it, verified again. */
  rebased?: { onto: string; target: string; verdict: Verdict; policy: PolicyResult } | null;
  canary: CanaryResult | null;
  report: string | null;
  timings: Record<string, number>;
  /** What the strategies and checks noted on the way (why a strategy proposed nothing, a trace/code mismatch). */
  notes: string[];
  /** The allowed and reviewed verified candidates, best first, with the keys that ordered them (diagnose/rank.ts). */
  ranking?: { id: string; keys: Record<string, number> }[];
}
