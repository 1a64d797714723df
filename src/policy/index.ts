/** The policy gate's public API (used by the heal pipeline and `suture policy`). */
export { type CheckOptions, checkChange, evaluateInput, failClosed } from './check.ts';
export { defaultPolicyConfig, loadPolicyConfig, type PolicyConfig, parsePolicyConfig } from './config.ts';
export { buildContext, buildPolicyInput } from './input.ts';
export { buildBundle, testPolicies } from './opa.ts';
export { defaultBundlePath } from './paths.ts';
export type {
  AutonomyMode,
  PolicyContext,
  PolicyContextInput,
  PolicyDecision,
  PolicyInput,
  PolicyVerdict,
  VerdictLike,
  Violation,
} from './types.ts';
