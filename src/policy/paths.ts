/** Where the policy gate's files live: the package's policies/ and the opa binary. */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The suture package root: the nearest ancestor of this module with suture's package.json. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'suture') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the suture package root above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export function policiesDir(): string {
  return join(packageRoot(), 'policies');
}

export function defaultBundlePath(): string {
  return join(policiesDir(), 'dist', 'bundle.tar.gz');
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
