/** Where the policy gate's files live: the package's policies/ and the opa binary. */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { packageRoot } from '../sandbox/paths.ts';

export function policiesDir(): string {
  return join(packageRoot(), 'policies');
}

/** The bundle the package ships (what `suture policy build` writes by default). */
export function packagedBundlePath(): string {
  return join(policiesDir(), 'dist', 'bundle.tar.gz');
}

/**
 * The bundle the gate evaluates: the platform team's own (`SUTURE_POLICY_BUNDLE`, compiled by their
 * policy-build workflow), else the packaged one. A path that does not hold a bundle denies (fails closed).
 */
export function defaultBundlePath(): string {
  return process.env.SUTURE_POLICY_BUNDLE || packagedBundlePath();
}

export function cacheDir(): string {
  return process.env.SUTURE_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'suture');
}

/** opa: $SUTURE_OPA, then PATH, then the bootstrap's cache ($SUTURE_CACHE/bin/opa); null when none exists. */
export function findOpa(): string | null {
  const explicit = process.env.SUTURE_OPA;
  if (explicit) return existsSync(explicit) ? explicit : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, 'opa'))) return join(dir, 'opa');
  }
  const cached = join(cacheDir(), 'bin', 'opa');
  return existsSync(cached) ? cached : null;
}
