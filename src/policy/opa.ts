/** The opa CLI, for building the WASM bundle and running the Rego unit tests (not needed to evaluate). */
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { SutureError } from '../errors.ts';
import { ENTRYPOINT } from './bundle.ts';
import { findOpa, policiesDir } from './paths.ts';

const exec = promisify(execFile);

export function requireOpa(): string {
  const opa = findOpa();
  if (!opa) {
    throw new SutureError(
      'POLICY',
      'opa not found: run `npm run bootstrap` (installs it into $SUTURE_CACHE/bin), put it on PATH, or set SUTURE_OPA',
    );
  }
  return opa;
}

export type OpaRun = { ok: boolean; stdout: string; stderr: string };

export async function runOpa(args: string[], cwd: string): Promise<OpaRun> {
  try {
    const { stdout, stderr } = await exec(requireOpa(), args, { cwd, maxBuffer: 64 * 1024 * 1024 });
    return { ok: true, stdout, stderr };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown; message: string };
    if (typeof e.code === 'string') throw new SutureError('POLICY', `cannot run opa: ${e.message}`);
    return { ok: false, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

export function defaultSourceDir(): string {
  return join(policiesDir(), 'suture');
}

export function defaultTestDir(): string {
  return join(policiesDir(), 'test');
}

/** The opa version policies/tools/go.mod pins; the committed bundle is built with it. */
export async function pinnedOpaVersion(): Promise<string> {
  const mod = await readFile(join(policiesDir(), 'tools', 'go.mod'), 'utf8');
  const m = /^\s*github\.com\/open-policy-agent\/opa v(\S+)/m.exec(mod);
  if (!m) throw new SutureError('POLICY', 'policies/tools/go.mod does not pin github.com/open-policy-agent/opa');
  return m[1]!;
}

/** The version of the opa suture would run (`opa version`). */
export async function opaVersion(): Promise<string> {
  const run = await runOpa(['version'], policiesDir());
  const m = /^Version: (\S+)/m.exec(run.stdout);
  if (!run.ok || !m) throw new SutureError('POLICY', `cannot read the version of ${requireOpa()}`);
  return m[1]!;
}

/**
 * Compiles SRC (a directory of .rego files) to a WASM bundle at OUT. opa runs inside SRC's parent with a
 * relative path, so the bundle records no machine-specific path and the same sources give the same bytes.
 */
export async function buildBundle(opts: { srcDir?: string; out: string }): Promise<void> {
  const src = opts.srcDir ?? defaultSourceDir();
  const cwd = dirname(src);
  const tmp = `${opts.out}.tmp-${process.pid}`;
  await mkdir(dirname(opts.out), { recursive: true });
  const check = await runOpa(['check', '--strict', relative(cwd, src) || '.'], cwd);
  if (!check.ok)
    throw new SutureError('POLICY', `opa check --strict failed:\n${(check.stderr || check.stdout).trim()}`);
  const run = await runOpa(['build', '-t', 'wasm', '-e', ENTRYPOINT, '-o', tmp, relative(cwd, src) || '.'], cwd);
  if (!run.ok) throw new SutureError('POLICY', `opa build failed:\n${(run.stderr || run.stdout).trim()}`);
  await rename(tmp, opts.out);
}

/** Runs `opa test` over the policy sources and their tests; ok is false when any test fails. */
export async function testPolicies(opts: { srcDir?: string; testDir?: string; verbose?: boolean }): Promise<OpaRun> {
  const src = opts.srcDir ?? defaultSourceDir();
  const tests = opts.testDir ?? defaultTestDir();
  return runOpa(['test', ...(opts.verbose ? ['-v'] : []), src, tests], dirname(src));
}

/** `opa fmt --list`: the files whose formatting differs from opa's. */
export async function unformattedPolicies(dirs: string[]): Promise<string[]> {
  const run = await runOpa(['fmt', '--list', ...dirs], policiesDir());
  return run.stdout.split('\n').filter(Boolean);
}
