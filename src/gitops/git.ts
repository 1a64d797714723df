/**
 * The one way suture runs git.
 *
 * The repository under repair is untrusted, and so are its git configuration (.git/config and whatever it
 * includes), hooks, info/attributes and in-tree .gitattributes. Git reads them on almost every command, and
 * many of their settings name a program git then runs on the host: filter drivers (smudge/clean/process),
 * diff drivers (textconv, command), core.fsmonitor, gpg.program, hooks (core.hooksPath, and config-based
 * hooks from git 2.54), core.sshCommand, credential helpers, remote.*.receivepack, `ext::` remotes and
 * insteadOf rewrites to them, the lazy fetch of a promisor remote when an object is missing. Rule: no
 * program named by the repository's git configuration or attributes ever runs. Overriding the dangerous keys
 * one by one cannot be complete (new ones keep arriving), so the repository's configuration is never git's
 * configuration at all:
 *
 * - Exactly two read-only commands run with the repository as git's repository: `rev-parse` for discovery
 *   (top level, git dirs, object format) and `config --local --list`, whose output is read as data (origin's
 *   URL, HTTP extra headers). Neither reads an object, updates a ref, fires a hook or reaches the network.
 * - Everything else runs in a private "shadow" git dir per repository: a bare dir in the temp dir whose
 *   config is ours. Its object directory is a scratch store of its own with the repository's object store
 *   as an alternate: every object is readable, and every new one (each candidate's commit, judged by the
 *   policy; objects fetched from origin) is written to the scratch store, so gating candidates leaves
 *   nothing in the repository. Only the chosen fix's objects enter the repository's store, when its branch is
 *   created (promoteObjects). The repository's refs are copied in as data, read from their files
 *   (refstore.ts), so revisions resolve as they would there, and a missing object is an error, never a fetch. The shadow is bare and `attr.tree` is the empty tree,
 *   so no in-tree attributes are read; content commands also always get --no-textconv, --no-ext-diff or
 *   --no-filters, and signing is off. Local commands ignore the user's global and system config too, so
 *   what suture computes does not depend on the machine.
 * - suture's branch is created as a loose ref file with git's lock protocol (refstore.ts): no git command
 *   runs in the repository, so no reference-transaction hook can.
 * - Network commands (push, ls-remote) also run in the shadow, against origin's URL read as data (remote
 *   helpers and in-repository paths refused), with the user's global/system config and environment: that
 *   is how the user authenticates. The repository's sshCommand, credential helpers, receivepack/uploadpack,
 *   proxies and insteadOf are never read; its http.<url>.extraheader values (actions/checkout's token) are
 *   passed on as data.
 * - A plain directory is patched with `git apply` pointed at an empty bare git dir of ours (GIT_DIR set, so
 *   no discovery can pick up a `.git`, or a bare repository, planted in the directory).
 *
 * Every process runs detached from any terminal (no prompt can wait for a human), with GIT_TERMINAL_PROMPT=0,
 * no pager or editor, replace refs off, and a timeout that kills its whole process group:
 * SUTURE_GIT_TIMEOUT_MS for local commands (default 120 s), SUTURE_GIT_NETWORK_TIMEOUT_MS for network ones
 * (default 180 s, a push's retries included).
 */
import { rmSync } from 'node:fs';
import { copyFile, lstat, mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { SutureError } from '../errors.ts';
import { catFileBatchParser, type GitObject } from './batch.ts';
import { type ObjectFormat, packedRefsText } from './refs.ts';
import { type RefSnapshot, readRefs } from './refstore.ts';

export type { GitObject };

export interface GitTimeouts {
  localMs: number;
  networkMs: number;
}

export function gitTimeouts(env: NodeJS.ProcessEnv = process.env): GitTimeouts {
  const ms = (v: string | undefined, fallback: number) => {
    const n = Number(v);
    return v && Number.isFinite(n) && n > 0 ? n : fallback;
  };
  return {
    localMs: ms(env.SUTURE_GIT_TIMEOUT_MS, 120_000),
    networkMs: ms(env.SUTURE_GIT_NETWORK_TIMEOUT_MS, 180_000),
  };
}

/** `repo`: discovery in the repository; `local`: the shadow, no user config; `network`: the shadow, user config. */
type Scope = 'repo' | 'local' | 'network';

// Given on every command line (they beat any config file); mostly belt and braces, the shadow's own config
// names no program.
const HARDENING = [
  'core.hooksPath=/dev/null',
  'core.fsmonitor=false',
  'core.pager=cat',
  'gc.auto=0',
  'maintenance.auto=false',
  'protocol.ext.allow=never',
  'protocol.fd.allow=never',
  'commit.gpgSign=false',
  'tag.gpgSign=false',
  'push.gpgSign=false',
  'log.showSignature=false',
  'submodule.recurse=false',
  'push.recurseSubmodules=no',
  'blame.ignoreRevsFile=',
];

const EMPTY_TREE: Record<ObjectFormat, string> = {
  sha1: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
  sha256: '6ef19b41225c5369f1c104d45d8d85efa9b057b53b14b4b9b939dd74decc5321',
};

// Variables that would point git at another repository, index, object store or attribute source, or name
// a program; the user's other variables (GIT_SSH_COMMAND, GIT_ASKPASS, proxies, HOME) are theirs to keep.
const DROPPED_ENV = new Set([
  'GIT_DIR',
  'GIT_WORK_TREE',
  'GIT_INDEX_FILE',
  'GIT_OBJECT_DIRECTORY',
  'GIT_ALTERNATE_OBJECT_DIRECTORIES',
  'GIT_COMMON_DIR',
  'GIT_NAMESPACE',
  'GIT_PREFIX',
  'GIT_SHALLOW_FILE',
  'GIT_GRAFT_FILE',
  'GIT_REPLACE_REF_BASE',
  'GIT_ATTR_SOURCE',
  'GIT_QUARANTINE_PATH',
  'GIT_IMPLICIT_WORK_TREE',
  'GIT_EXTERNAL_DIFF',
  'GIT_CONFIG',
]);

function gitEnv(scope: Scope, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || DROPPED_ENV.has(k)) continue;
    if (scope === 'local' && k.startsWith('GIT_CONFIG')) continue;
    env[k] = v;
  }
  Object.assign(env, {
    GIT_TERMINAL_PROMPT: '0',
    GIT_PAGER: 'cat',
    PAGER: 'cat',
    GIT_EDITOR: 'true',
    GIT_SEQUENCE_EDITOR: 'true',
    GIT_NO_REPLACE_OBJECTS: '1',
    GIT_NO_LAZY_FETCH: '1',
    GIT_OPTIONAL_LOCKS: '0',
    LC_ALL: 'C',
  });
  if (scope === 'local') Object.assign(env, { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' });
  return { ...env, ...extra };
}

// Process groups still running and shadow dirs still present when the process exits.
const liveGroups = new Set<number>();
const tempDirs = new Set<string>();
let exitHook = false;
function onExitCleanup(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const pid of liveGroups) killGroup(pid);
    for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  });
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export interface GitResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

interface SpawnOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  input?: string | Buffer;
  /** Keep stdout as bytes (a pack), not text. */
  binary?: boolean;
}

function spawnGit(args: string[], opts: SpawnOptions, buffer: boolean) {
  onExitCleanup();
  const sub = execa('git', args, {
    cwd: opts.cwd,
    env: opts.env,
    extendEnv: false,
    // A new session: no controlling terminal, so neither git nor ssh can stop to ask a human anything.
    detached: true,
    reject: false,
    buffer,
    ...(opts.binary ? { encoding: 'buffer' as const } : {}),
    stripFinalNewline: false,
    maxBuffer: 512 * 1024 * 1024,
    ...(opts.input === undefined ? { stdin: buffer ? ('ignore' as const) : ('pipe' as const) } : { input: opts.input }),
  });
  const pid = sub.pid;
  const state = { timedOut: false };
  if (pid !== undefined) liveGroups.add(pid);
  // The whole group: git's helpers (ssh, git-remote-https) would otherwise keep its pipes open.
  const timer = setTimeout(() => {
    state.timedOut = true;
    if (pid !== undefined) killGroup(pid);
  }, opts.timeoutMs);
  const done = () => {
    clearTimeout(timer);
    if (pid !== undefined) liveGroups.delete(pid);
  };
  return { sub, state, done };
}

function started(r: { exitCode?: number; failed: boolean; shortMessage?: string }, timedOut: boolean): void {
  if (r.exitCode === undefined && !timedOut && r.failed) {
    throw new SutureError('GIT', `git could not be run: ${(r.shortMessage ?? '').split('\n')[0]}`);
  }
}

async function runGitRaw(args: string[], opts: SpawnOptions) {
  const { sub, state, done } = spawnGit(args, opts, true);
  const r = await sub.finally(done);
  started(r, state.timedOut);
  return { r, timedOut: state.timedOut };
}

async function runGit(args: string[], opts: SpawnOptions): Promise<GitResult> {
  const { r, timedOut } = await runGitRaw(args, opts);
  return {
    exitCode: r.exitCode ?? -1,
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    timedOut,
  };
}

function configArgs(extra: string[] = []): string[] {
  return [...HARDENING, ...extra].flatMap((c) => ['-c', c]);
}

// ---------------------------------------------------------------------------------------------------------
// The repository and its shadow

export interface GitRepo {
  /** The working tree's top level. */
  top: string;
  gitDir: string;
  /** Where config, refs and objects live (differs from gitDir in a linked worktree). */
  commonDir: string;
  format: ObjectFormat;
  /** suture's private git dir for this repository. */
  shadow: string;
  /** Where new objects are written: the shadow's scratch store (the repository's store is its alternate). */
  objects: string;
  /** The repository's own object store. */
  store: string;
}

const repos = new Map<string, Promise<GitRepo>>();
let nullRepo: Promise<string> | null = null;

/** The repository holding `dir` (discovered as git does), with its shadow; one per directory per process. */
export function gitRepo(dir: string): Promise<GitRepo> {
  const key = resolve(dir);
  let p = repos.get(key);
  if (!p) {
    const opening = openGitRepo(key);
    p = opening;
    repos.set(key, opening);
    opening.then(
      (repo) => {
        if (!repos.has(repo.top)) repos.set(repo.top, opening);
      },
      () => repos.delete(key),
    );
  }
  return p;
}

async function openGitRepo(dir: string): Promise<GitRepo> {
  const st = await stat(dir).catch(() => null);
  if (!st?.isDirectory()) throw new SutureError('NOT_A_REPO', `repo directory not found: ${dir}`);
  const r = await runGit(
    [
      ...configArgs(),
      'rev-parse',
      '--path-format=absolute',
      '--show-toplevel',
      '--git-dir',
      '--git-common-dir',
      '--show-object-format',
    ],
    { cwd: dir, env: gitEnv('repo'), timeoutMs: gitTimeouts().localMs },
  );
  const [top, gitDir, commonDir, format] = r.stdout.split('\n');
  if (r.exitCode !== 0 || !top || !gitDir || !commonDir || (format !== 'sha1' && format !== 'sha256')) {
    const why = /dubious ownership/.test(r.stderr) ? ' (it belongs to another user; see git safe.directory)' : '';
    throw new SutureError('NOT_A_REPO', `${dir} is not a git repository${why}`);
  }
  const shadow = await mkdtemp(join(tmpdir(), 'suture-git-'));
  tempDirs.add(shadow);
  onExitCleanup();
  const objects = join(shadow, 'objects');
  const repo: GitRepo = { top, gitDir, commonDir, format, shadow, objects, store: join(commonDir, 'objects') };
  await mkdir(join(shadow, 'refs'));
  await mkdir(join(objects, 'info'), { recursive: true });
  // The repository's objects are read through the alternates file (its own alternates are followed too).
  await writeFile(join(objects, 'info', 'alternates'), `${alternatesLine(repo.store)}\n`);
  await writeFile(join(shadow, 'config'), bareConfig(format));
  await syncRefs(repo);
  return repo;
}

function bareConfig(format: ObjectFormat): string {
  return format === 'sha1'
    ? '[core]\n\trepositoryformatversion = 0\n\tbare = true\n'
    : '[core]\n\trepositoryformatversion = 1\n\tbare = true\n[extensions]\n\tobjectformat = sha256\n';
}

/** A path as one line of an alternates file: C-quoted when it holds a quote, a backslash or a control character. */
export function alternatesLine(path: string): string {
  if (!/["\\\u0000-\u001f\u007f]/.test(path) && !path.startsWith('#')) return path;
  let out = '';
  for (const c of path) {
    const code = c.charCodeAt(0);
    if (c === '"' || c === '\\') out += `\\${c}`;
    else if (code < 0x20 || code === 0x7f) out += `\\${code.toString(8).padStart(3, '0')}`;
    else out += c;
  }
  return `"${out}"`;
}

/**
 * A bare git dir suture owns (the cache of a GitOps config repository in the state dir), created when
 * missing: its config is ours, it is its own object store, nothing in it was written by anyone else.
 */
export async function ownedRepo(dir: string): Promise<GitRepo> {
  const key = resolve(dir);
  let p = repos.get(key);
  if (!p) {
    p = (async () => {
      await mkdir(join(key, 'refs'), { recursive: true, mode: 0o700 });
      await mkdir(join(key, 'objects'), { recursive: true });
      if (!(await stat(join(key, 'config')).catch(() => null))) {
        await writeFile(join(key, 'config'), bareConfig('sha1'));
        await writeFile(join(key, 'HEAD'), 'ref: refs/heads/none\n');
      }
      const objects = join(key, 'objects');
      return { top: key, gitDir: key, commonDir: key, format: 'sha1', shadow: key, objects, store: objects };
    })();
    repos.set(key, p);
    p.catch(() => repos.delete(key));
  }
  return p;
}

/**
 * Removes this process's shadows and empty git dir now instead of at exit: for in-process tests (a test
 * runner's workers may be killed without an exit event), and servers that want to let go of a repository.
 */
export async function closeGitRepos(): Promise<void> {
  const all = [...new Set(repos.values())];
  repos.clear();
  // An owned repo's shadow is itself (it lives in the state dir and is kept).
  const dirs = (
    await Promise.all(all.map((p) => p.then((r) => (r.shadow === r.gitDir ? null : r.shadow)).catch(() => null)))
  ).filter((d): d is string => d !== null);
  const empty = await nullRepo?.catch(() => null);
  nullRepo = null;
  if (empty) dirs.push(empty);
  for (const dir of dirs) {
    tempDirs.delete(dir);
    await rm(dir, { recursive: true, force: true });
  }
}

async function replaceFile(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  await writeFile(tmp, content);
  await rename(tmp, path);
}

/** Reads the repository's refs (as files) and makes the shadow's refs, HEAD and shallow boundary the same. */
export async function syncRefs(repo: GitRepo): Promise<RefSnapshot> {
  const snap = await readRefs(repo.gitDir, repo.commonDir, repo.format);
  await replaceFile(join(repo.shadow, 'packed-refs'), packedRefsText(snap.refs));
  const head = snap.head.symref ? `ref: ${snap.head.symref}\n` : `${snap.head.oid ?? EMPTY_TREE[repo.format]}\n`;
  await replaceFile(join(repo.shadow, 'HEAD'), head);
  // A shallow clone's boundary is data git needs to walk history without looking for missing parents.
  const shallow = join(repo.commonDir, 'shallow');
  if ((await lstat(shallow).catch(() => null))?.isFile()) await copyFile(shallow, join(repo.shadow, 'shallow'));
  else await rm(join(repo.shadow, 'shallow'), { force: true });
  return snap;
}

// Subcommands allowed in the shadow, and the flags each always gets: nothing the repository's attributes
// select (textconv, external diff, filters) and no signing can ever be reached through this module.
const SAFE_FLAGS: Record<string, string[]> = {
  'rev-parse': [],
  'ls-tree': [],
  'cat-file': [],
  diff: ['--no-ext-diff', '--no-textconv'],
  'diff-tree': ['--no-ext-diff', '--no-textconv'],
  'read-tree': [],
  apply: [],
  'write-tree': [],
  'commit-tree': ['--no-gpg-sign'],
  blame: ['--no-textconv'],
  'merge-base': [],
  'rev-list': [],
  'hash-object': ['--no-filters'],
  'ls-remote': [],
  push: ['--no-verify', '--no-signed', '--no-recurse-submodules', '--no-follow-tags'],
  fetch: ['--no-tags', '--no-recurse-submodules', '--no-write-fetch-head', '--no-auto-gc'],
  'update-index': [],
  'pack-objects': [],
  'unpack-objects': [],
};
const FORBIDDEN = /^--(?:textconv|filters|ext-diff|gpg-sign|upload-pack|receive-pack|exec|path=|index-output)|^-S$/;

export function guardArgs(args: string[]): string[] {
  const [sub, ...rest] = args;
  const flags = sub === undefined ? undefined : SAFE_FLAGS[sub];
  if (!sub || !flags) throw new SutureError('INTERNAL', `git ${sub ?? ''} is not run by suture`);
  const end = rest.findIndex((a) => a === '--' || a === '--end-of-options');
  const bad = (end < 0 ? rest : rest.slice(0, end)).find((a) => FORBIDDEN.test(a));
  if (bad) throw new SutureError('INTERNAL', `git ${sub} ${bad} is not run by suture`);
  if (sub === 'apply' && !rest.includes('--cached')) throw new SutureError('INTERNAL', 'git apply runs with --cached');
  return [sub, ...flags, ...rest];
}

export interface ShadowOptions {
  input?: string | Buffer;
  /** e.g. GIT_INDEX_FILE, author and committer. */
  env?: Record<string, string>;
  timeoutMs?: number;
  /** `repository`: the repository's own object store only (what is really there), not the scratch store. */
  store?: 'scratch' | 'repository';
}

function shadowSpawn(repo: GitRepo, scope: Scope, args: string[], opts: ShadowOptions) {
  const env = gitEnv(scope, {
    GIT_DIR: repo.shadow,
    GIT_OBJECT_DIRECTORY: opts.store === 'repository' ? repo.store : repo.objects,
    ...opts.env,
  });
  const argv = [...configArgs([`attr.tree=${EMPTY_TREE[repo.format]}`]), ...guardArgs(args)];
  return { argv, spawn: { cwd: repo.shadow, env, ...(opts.input === undefined ? {} : { input: opts.input }) } };
}

/**
 * Copies into the repository's object store the objects `commit` needs that it does not hold (the fix's
 * commit, trees and blobs; after a rebase, the objects fetched from origin too), as loose objects: the one
 * moment suture adds objects to a repository. Objects already there are skipped by unpack-objects itself.
 */
export async function promoteObjects(repo: GitRepo, commit: string): Promise<number> {
  if (repo.objects === repo.store) return 0;
  const { refs } = await syncRefs(repo);
  // Everything the repository's refs already reach is there (or in its alternates): not listed.
  const stop = [...new Set(refs.values())].map((oid) => `^${oid}`);
  const list = await gitIn(repo, ['rev-list', '--objects', '--no-object-names', '--stdin'], {
    input: `${[commit, ...stop].join('\n')}\n`,
  });
  const oids = list.split('\n').filter(Boolean);
  if (oids.length === 0) return 0;
  const { argv, spawn } = shadowSpawn(repo, 'local', ['pack-objects', '-q', '--stdout'], {
    input: `${oids.join('\n')}\n`,
  });
  const packed = await runGitRaw(argv, { ...spawn, binary: true, timeoutMs: gitTimeouts().localMs });
  if (packed.timedOut || packed.r.exitCode !== 0) {
    throw gitError(['pack-objects'], {
      exitCode: packed.r.exitCode ?? -1,
      stdout: '',
      stderr: String(packed.r.stderr ?? ''),
      timedOut: packed.timedOut,
    });
  }
  await gitIn(repo, ['unpack-objects', '-q'], {
    input: Buffer.from(packed.r.stdout as Uint8Array),
    store: 'repository',
  });
  return oids.length;
}

/** Runs a local command in the shadow; the result whatever the exit status. */
export async function tryGitIn(repo: GitRepo, args: string[], opts: ShadowOptions = {}): Promise<GitResult> {
  const { argv, spawn } = shadowSpawn(repo, 'local', args, opts);
  return runGit(argv, { ...spawn, timeoutMs: opts.timeoutMs ?? gitTimeouts().localMs });
}

/** Runs a local command in the shadow; its stdout, or a SutureError('GIT') with git's first line. */
export async function gitIn(repo: GitRepo, args: string[], opts: ShadowOptions = {}): Promise<string> {
  const r = await tryGitIn(repo, args, opts);
  if (r.exitCode !== 0) throw gitError(args, r);
  return r.stdout;
}

export function gitError(args: string[], r: GitResult): SutureError {
  const line = r.timedOut ? 'timed out' : (r.stderr.trim().split('\n')[0] ?? '').replace(/^(error|fatal): /, '');
  return new SutureError('GIT', `git ${args[0]} failed: ${line || `exit status ${r.exitCode}`}`);
}

/**
 * A network command in the shadow, with the user's config and environment, and the repository's HTTP extra
 * headers passed as data through GIT_CONFIG_* (never on the command line, where other users could read them).
 */
export async function gitNetwork(
  repo: GitRepo,
  args: string[],
  opts: { headers?: [string, string][]; timeoutMs?: number } = {},
): Promise<GitResult> {
  const extra: Record<string, string> = {};
  const headers = opts.headers ?? [];
  if (headers.length) {
    const base = Number(process.env.GIT_CONFIG_COUNT) || 0;
    headers.forEach(([k, v], i) => {
      extra[`GIT_CONFIG_KEY_${base + i}`] = k;
      extra[`GIT_CONFIG_VALUE_${base + i}`] = v;
    });
    extra.GIT_CONFIG_COUNT = String(base + headers.length);
  }
  const { argv, spawn } = shadowSpawn(repo, 'network', args, { env: extra });
  return runGit(argv, { ...spawn, timeoutMs: opts.timeoutMs ?? gitTimeouts().networkMs });
}

/** The repository's own config (`config --local`, includes followed), as `key\nvalue\0` text: data only. */
export async function readLocalConfigText(repo: GitRepo): Promise<string> {
  // GIT_DIR as discovered: the top level may be anywhere (core.worktree), the config is in the git dir.
  const r = await runGit([...configArgs(), 'config', '--local', '--includes', '--null', '--list'], {
    cwd: repo.gitDir,
    env: gitEnv('repo', { GIT_DIR: repo.gitDir }),
    timeoutMs: gitTimeouts().localMs,
  });
  // Exit 1: no config file at all.
  if (r.exitCode !== 0 && r.exitCode !== 1) throw gitError(['config'], r);
  return r.stdout;
}

/**
 * Streams objects through one `git cat-file --batch` (no --filters, no --textconv: the stored bytes).
 * `onObject` gets each spec in order with its object, or null when it is missing; it may be async, the
 * stream waits for it, so memory stays bounded by the objects of one chunk.
 */
export async function readObjects(
  repo: GitRepo,
  specs: string[],
  onObject: (spec: string, obj: GitObject | null) => void | Promise<void>,
  opts: { maxBytes?: number } = {},
): Promise<void> {
  if (specs.length === 0) return;
  if (specs.some((s) => s.includes('\n') || s === '')) throw new SutureError('INTERNAL', 'bad object name');
  const { argv, spawn } = shadowSpawn(repo, 'local', ['cat-file', '--batch'], {});
  const { sub, state, done } = spawnGit(argv, { ...spawn, timeoutMs: gitTimeouts().localMs }, false);
  const finished = sub.finally(done);
  sub.stdin?.end(`${specs.join('\n')}\n`);
  const stderr: Buffer[] = [];
  sub.stderr?.on('data', (c: Buffer) => stderr.push(c));
  const parser = catFileBatchParser(specs, repo.format, opts.maxBytes);
  try {
    for await (const chunk of sub.stdout as AsyncIterable<Buffer>) {
      for (const [spec, obj] of parser.push(chunk)) await onObject(spec, obj);
    }
  } finally {
    // Stop git if the consumer threw halfway.
    if (sub.pid !== undefined && sub.exitCode === null) killGroup(sub.pid);
  }
  const r = await finished;
  started(r, state.timedOut);
  if (state.timedOut || r.exitCode !== 0 || parser.answered < specs.length) {
    const line = state.timedOut ? 'timed out' : Buffer.concat(stderr).toString().trim().split('\n')[0];
    throw new SutureError('GIT', `git cat-file failed: ${line || `exit status ${r.exitCode}`}`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Plain directories

/** An empty bare git dir of ours: GIT_DIR for commands on plain directories, so nothing is discovered. */
function emptyGitDir(): Promise<string> {
  nullRepo ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'suture-git-empty-'));
    tempDirs.add(dir);
    onExitCleanup();
    await mkdir(join(dir, 'refs'));
    await mkdir(join(dir, 'objects'));
    await writeFile(join(dir, 'HEAD'), 'ref: refs/heads/none\n');
    await writeFile(join(dir, 'config'), '[core]\n\trepositoryformatversion = 0\n\tbare = true\n');
    return dir;
  })();
  return nullRepo;
}

/**
 * `git apply` on a plain directory (paths relative to it). GIT_DIR is an empty bare git dir of ours and no
 * user config is read: no attributes, filters or hooks can apply, and a `.git` or bare repository planted in
 * `dir` is never discovered. git apply itself refuses paths outside the directory and `.git` components.
 */
export async function applyInDirectory(dir: string, patch: string, flags: string[]): Promise<GitResult> {
  if (flags.some((f) => FORBIDDEN.test(f) || f === '--index' || f === '--cached')) {
    throw new SutureError('INTERNAL', 'git apply on a directory runs without --index/--cached');
  }
  const env = gitEnv('local', { GIT_DIR: await emptyGitDir() });
  return runGit([...configArgs([`attr.tree=${EMPTY_TREE.sha1}`]), 'apply', ...flags], {
    cwd: dir,
    env,
    input: patch,
    timeoutMs: gitTimeouts().localMs,
  });
}
