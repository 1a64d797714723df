/** Stage: guardrails. Reads what they depend on (kill-switch file, the knowledge store) and decides. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { autonomousMergesSince, historyOf } from '../../knowledge/store.ts';
import { decideGuardrails, type GuardrailReport, guardrailLimits, killSwitchFlag } from '../guardrails.ts';
import { Halt } from '../halt.ts';
import type { Run } from '../run.ts';

export const KILL_SWITCH_FILE = 'kill-switch';

export async function guard(run: Run): Promise<GuardrailReport> {
  const { opts, config } = run;
  const env = opts.env ?? process.env;
  const now = new Date();
  const { killSwitch, ...tighter } = config.guardrails ?? {};
  const { report, stop } = decideGuardrails({
    requested: opts.mode,
    autonomy: config.autonomy,
    killSwitch: {
      flag: killSwitchFlag(env) || killSwitch === true,
      file: existsSync(join(opts.stateDir, KILL_SWITCH_FILE)),
    },
    history: historyOf(opts.stateDir, run.incident.fingerprint),
    autoMergesLastHour: autonomousMergesSince(opts.stateDir, new Date(now.getTime() - 3_600_000).toISOString()),
    limits: guardrailLimits(env, tighter),
    now,
  });
  for (const a of report.applied) run.progress(`guardrail: ${a}`);
  if (stop) throw new Halt(stop.status, stop.reason, report);
  return report;
}
