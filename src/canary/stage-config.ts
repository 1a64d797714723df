/**
 * The canary stage's settings: the backend is the operator's (env SUTURE_CANARY: `local`, the default,
 * `argo`, or `off`), what the service owns comes from suture.yaml's `canary:` section (validated in
 * src/config/service.ts), with the defaults here. Pure.
 */
import type { ServiceConfig } from '../config/service.ts';
import { SutureError } from '../errors.ts';
import type { JudgeOptions } from './judge/index.ts';

export type CanaryBackend = 'local' | 'argo';

export interface ReleaseSettings {
  backend: CanaryBackend;
  /** The Rollout manifest's repo path (suture.yaml); else it is looked for in the tree. */
  rollout?: string;
  /** Whether suture.yaml has a `canary:` section (then a missing Rollout manifest is an error, not "no canary"). */
  explicit: boolean;
  /** Local rehearsal: healthy requests per second through the router. */
  rate: number;
  /** Local: the longest rehearsal (and analysis wait), seconds. Argo: the longest wait for the Rollout. */
  duration: number;
  bucketSeconds: number;
  /** Argo: the Rollout's namespace. */
  namespace: string;
  judge: Partial<JudgeOptions>;
}

export const RELEASE_DEFAULTS = { rate: 20, duration: 300, bucketSeconds: 10, namespace: 'default' } as const;

/** The backend SUTURE_CANARY names, null for `off`; a bad value is one clear line. */
export function canaryBackend(env: NodeJS.ProcessEnv): CanaryBackend | null {
  const v = (env.SUTURE_CANARY ?? '').trim().toLowerCase();
  if (v === '' || v === 'local') return 'local';
  if (v === 'argo') return 'argo';
  if (v === 'off') return null;
  throw new SutureError(
    'BAD_CONFIG',
    `SUTURE_CANARY must be local, argo or off, not ${JSON.stringify(v.slice(0, 40))}`,
  );
}

/** The stage's settings, or null when no canary runs (SUTURE_CANARY=off, or suture.yaml `canary.enabled: false`). */
export function releaseSettings(config: ServiceConfig, env: NodeJS.ProcessEnv): ReleaseSettings | null {
  const backend = canaryBackend(env);
  const c = config.canary;
  if (!backend || c?.enabled === false) return null;
  return {
    backend,
    ...(c?.rollout ? { rollout: c.rollout } : {}),
    explicit: c !== undefined,
    rate: c?.rate ?? RELEASE_DEFAULTS.rate,
    duration: c?.duration ?? RELEASE_DEFAULTS.duration,
    bucketSeconds: c?.bucketSeconds ?? RELEASE_DEFAULTS.bucketSeconds,
    namespace: c?.namespace ?? RELEASE_DEFAULTS.namespace,
    judge: { ...c?.judge },
  };
}
