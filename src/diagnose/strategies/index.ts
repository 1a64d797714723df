/**
 * The repair strategies of one heal, in the order their candidates are listed: the knowledge store's
 * earlier fix (it verified for this very crash), the revert of a recent regression, the templates on the
 * syntax tree, and the LLM when the operator configured one. Built by the orchestrator (it owns the state
 * dir, the repository and the audit log); run by diagnose.
 */
import { previousFixes } from '../../knowledge/store.ts';
import { knowledgeStrategy } from './knowledge/index.ts';
import { type LlmExchange, LlmStrategy } from './llm/index.ts';
import { gitHistory, type RevertWindow, revertStrategy } from './revert/index.ts';
import { templateStrategy } from './template/index.ts';
import type { Strategy } from './types.ts';

export interface RepairStrategies {
  strategies: Strategy[];
  /** Stops what the strategies keep running (the templates' python3 parser). */
  close(): void;
}

export function repairStrategies(opts: {
  stateDir: string;
  repo: string;
  base: string;
  window: RevertWindow;
  env?: Record<string, string | undefined>;
  /** Each LLM exchange, redacted, as it completes (the orchestrator writes it to the audit log). */
  onExchange?: (exchange: LlmExchange) => void | Promise<void>;
}): RepairStrategies {
  const templates = templateStrategy();
  return {
    strategies: [
      knowledgeStrategy({ previousFixes: (fp) => previousFixes(opts.stateDir, fp) }),
      revertStrategy({ history: gitHistory(opts.repo, opts.base), window: opts.window }),
      templates,
      LlmStrategy.fromEnv(opts.env ?? process.env, opts.onExchange ? { onExchange: opts.onExchange } : {}),
    ],
    close: () => templates.close(),
  };
}
