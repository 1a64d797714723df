/** Test helpers: real git repos in temp dirs, and the CLI run as a user runs it. */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';

export const ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const SERVICES = join(FIXTURES, 'services');

export function tempDir(prefix = 'suture-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

const IDENTITY = {
  GIT_AUTHOR_NAME: 't',
  GIT_AUTHOR_EMAIL: 't@example.com',
  GIT_COMMITTER_NAME: 't',
  GIT_COMMITTER_EMAIL: 't@example.com',
};

export async function git(dir: string, ...args: string[]): Promise<string> {
  const r = await execa('git', args, { cwd: dir, env: IDENTITY });
  return r.stdout.trim();
}

/** Commits everything in `dir` with author and committer dates `hoursAgo` hours back; returns the commit id. */
export async function commitDated(dir: string, hoursAgo: number, message: string): Promise<string> {
  const date = `@${Math.floor(Date.now() / 1000 - hoursAgo * 3600)} +0000`;
  await git(dir, 'add', '-A');
  await execa('git', ['commit', '-q', '-m', message], {
    cwd: dir,
    env: { ...IDENTITY, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
  });
  return git(dir, 'rev-parse', 'HEAD');
}

/** A fresh git repo holding a copy of a demo service (without its captured incident), one commit on main. */
export async function repoFromService(service: string): Promise<string> {
  const dir = tempDir(`suture-${service}-`);
  cpSync(join(SERVICES, service), dir, {
    recursive: true,
    filter: (src) => !/(incident|scenario)\.json$|__pycache__|\.pytest_cache/.test(src),
  });
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'add', '-A');
  await git(dir, 'commit', '-q', '-m', 'initial');
  return dir;
}

export function cleanup(...dirs: string[]): void {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source on Node 24 (type stripping), as `suture …` would run. */
export async function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const r = await execa(process.execPath, [join(ROOT, 'src', 'main.ts'), ...args], {
    reject: false,
    env: { SUTURE_QUIET: '0', ...env },
    timeout: 180_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Gives `repo` a real bare `origin` with main pushed; returns the remote's path (clean it up yourself). */
export async function addOrigin(repo: string): Promise<string> {
  const remote = tempDir('suture-remote-');
  await git(remote, 'init', '-q', '--bare');
  await git(repo, 'remote', 'add', 'origin', remote);
  await git(repo, 'push', '-q', 'origin', 'main');
  return remote;
}

/** Writes `text` to dir/name and returns the path. */
export function writeIn(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** `suture heal --json` on a demo service's captured incident. */
export function heal(service: string, repo: string, state: string, ...extra: string[]): Promise<CliResult> {
  return healWith({}, service, repo, state, ...extra);
}

/** `heal`, with these environment variables set for the CLI. */
export function healWith(
  env: Record<string, string>,
  service: string,
  repo: string,
  state: string,
  ...extra: string[]
): Promise<CliResult> {
  return cli(
    [
      'heal',
      '--repo',
      repo,
      '--incident',
      join(SERVICES, service, 'incident.json'),
      '--state',
      state,
      '--json',
      ...extra,
    ],
    env,
  );
}
