import type { GuardrailReport } from './guardrails.ts';
import type { HealStatus } from './types.ts';

/** A heal that stops early, with its status and why; the orchestrator turns it into the result. */
export class Halt extends Error {
  readonly status: HealStatus;
  readonly reason: string;
  /** The guardrails' report, when they were the ones to stop the heal. */
  readonly guardrails: GuardrailReport | undefined;

  constructor(status: HealStatus, reason: string, guardrails?: GuardrailReport) {
    super(reason);
    this.name = 'Halt';
    this.status = status;
    this.reason = reason;
    this.guardrails = guardrails;
  }
}
