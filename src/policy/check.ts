/**
 * The gate heal calls for every verified candidate: build the input for BASE..HEAD, evaluate the bundle,
 * return allow / review / deny. It never throws: any failure is a `deny` whose violation says why (fail closed).
 */
import { errorMessage } from '../errors.ts';
import { evaluateDecision, loadBundle } from './bundle.ts';
import { loadPolicyConfig } from './config.ts';
import { resolveCommit } from './git.ts';
import { buildPolicyInput } from './input.ts';
import { defaultBundlePath } from './paths.ts';
import type { PolicyContextInput, PolicyDecision, PolicyInput, Violation } from './types.ts';

export type CheckOptions = {
  repoDir: string;
  base: string;
  head: string;
  /** A compiled bundle (.tar.gz from `opa build -t wasm`, or a bare .wasm); default policies/dist/bundle.tar.gz. */
  bundlePath?: string;
  /** Candidate, verdict, incident and mode; without a verdict the change is judged as if verification passed. */
  context?: PolicyContextInput;
  /** A policy config file; default .suture/policy.yaml at BASE, else the built-in defaults. */
  configPath?: string;
};

export function failClosed(id: string, message: string): PolicyDecision {
  return { decision: 'deny', violations: [{ id, message, level: 'deny' }] };
}

const LEVEL = { deny: 0, review: 1 } as const;

/** Stable order (deny first, then id, then path) and no empty paths. */
export function normalizeDecision(decision: PolicyDecision): PolicyDecision {
  const violations: Violation[] = decision.violations
    .map((v) => (v.path ? v : { id: v.id, message: v.message, ...(v.level ? { level: v.level } : {}) }))
    .sort(
      (a, b) =>
        LEVEL[a.level ?? 'deny'] - LEVEL[b.level ?? 'deny'] ||
        a.id.localeCompare(b.id) ||
        (a.path ?? '').localeCompare(b.path ?? '') ||
        a.message.localeCompare(b.message),
    );
  return { decision: decision.decision, violations };
}

/** Evaluates a ready-made input document against a bundle; fails closed like checkChange. */
export async function evaluateInput(input: PolicyInput, bundlePath = defaultBundlePath()): Promise<PolicyDecision> {
  try {
    const bundle = await loadBundle(bundlePath);
    return normalizeDecision(evaluateDecision(bundle, input));
  } catch (err) {
    return failClosed('gate/error', `the policy gate failed, so the change is denied: ${errorMessage(err)}`);
  }
}

export async function checkChange(opts: CheckOptions): Promise<PolicyDecision> {
  let input: PolicyInput;
  try {
    const [base, head] = await Promise.all([
      resolveCommit(opts.repoDir, opts.base),
      resolveCommit(opts.repoDir, opts.head),
    ]);
    if (!base) return failClosed('gate/input', `revision ${opts.base} is not a commit in ${opts.repoDir}`);
    if (!head) return failClosed('gate/input', `revision ${opts.head} is not a commit in ${opts.repoDir}`);
    const config = await loadPolicyConfig({ repoDir: opts.repoDir, base, configPath: opts.configPath });
    input = await buildPolicyInput({ repoDir: opts.repoDir, base, head, config, context: opts.context });
  } catch (err) {
    return failClosed(
      'gate/input',
      `the policy input could not be built, so the change is denied: ${errorMessage(err)}`,
    );
  }
  return evaluateInput(input, opts.bundlePath);
}
