/**
 * Confined reads of repo content on the host. Repo files are untrusted: a committed symlink, a FIFO or a
 * device named like a manifest must never make suture read (and later ship) a host file, block, or run out
 * of memory. So every read here: splits the repo path lexically (no absolute paths, no `..`), lstat()s
 * each component from the (trusted) root and refuses any symlink or non-directory on the way, opens the
 * last one O_NOFOLLOW|O_NONBLOCK, checks the open file is the regular file it lstat()ed (and, where /proc
 * exists, that the descriptor's path is the one asked for), and reads at most `maxBytes`. Synchronous on
 * purpose: the reads are bounded, and suture.yaml is loaded by synchronous code.
 */
import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  realpathSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'special' | 'missing';

export type ReadResult =
  | { ok: true; data: Buffer }
  | { ok: false; reason: 'bad-path' | 'missing' | 'symlink' | 'special' | 'too-large'; message: string };

/** Repo-relative path → its components, or null when it is absolute, leaves the root or holds a NUL. */
export function splitRepoPath(path: string): string[] | null {
  if (path.includes('\0') || path.startsWith('/') || path.includes('\\')) return null;
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.length === 0 || parts.some((p) => p === '..')) return null;
  return parts;
}

function kindOf(st: Stats | undefined): EntryKind {
  if (!st) return 'missing';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isDirectory()) return 'dir';
  if (st.isFile()) return 'file';
  return 'special';
}

function lstatQuiet(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined; // ENOENT, ENOTDIR (a file where a directory was expected), EACCES: not there for us
  }
}

interface Located {
  kind: EntryKind;
  /** Absolute path of the entry (or of the first component that is not a directory). */
  path: string;
  /** Repo path of that component, for messages. */
  at: string;
  stats?: Stats;
}

function locate(root: string, parts: string[]): Located {
  let path = realpathSync(root);
  for (let i = 0; i < parts.length; i++) {
    path = join(path, parts[i]!);
    const stats = lstatQuiet(path);
    const kind = kindOf(stats);
    const at = parts.slice(0, i + 1).join('/');
    if (i === parts.length - 1 || kind !== 'dir') return { kind, path, at, ...(stats ? { stats } : {}) };
  }
  throw new Error('unreachable: splitRepoPath never returns an empty list');
}

/** What the repo path is, without following anything: a symlink or special file on the way is reported. */
export function entryKind(root: string, repoPath: string): EntryKind | 'bad-path' {
  const parts = splitRepoPath(repoPath);
  if (!parts) return 'bad-path';
  const found = locate(root, parts);
  // A file or missing entry in the middle of the path means the path itself does not exist.
  if (found.at !== parts.join('/') && (found.kind === 'file' || found.kind === 'missing')) return 'missing';
  return found.kind;
}

const OPEN_FLAGS =
  constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);

/** Reads the regular file at `repoPath` under `root`, confined as described above. Never throws for the path. */
export function readInTree(root: string, repoPath: string, maxBytes: number): ReadResult {
  const parts = splitRepoPath(repoPath);
  if (!parts) return { ok: false, reason: 'bad-path', message: `${repoPath} is not a path inside the repo` };
  const found = locate(root, parts);
  const whole = parts.join('/');
  if (found.kind === 'symlink') {
    return { ok: false, reason: 'symlink', message: `${found.at} is a symbolic link, which suture never follows` };
  }
  if (found.kind === 'missing' || (found.at !== whole && found.kind === 'file')) {
    return { ok: false, reason: 'missing', message: `${whole} does not exist` };
  }
  if (found.kind !== 'file') {
    return { ok: false, reason: 'special', message: `${found.at} is not a regular file` };
  }
  if (found.stats!.size > maxBytes) return tooLarge(whole, maxBytes);
  let fd: number;
  try {
    fd = openSync(found.path, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return { ok: false, reason: 'symlink', message: `${whole} is a symbolic link` };
    return { ok: false, reason: 'missing', message: `${whole} cannot be opened (${code ?? 'error'})` };
  }
  try {
    const st = fstatSync(fd);
    // Swapped between lstat and open (a race): not the file we checked.
    if (!st.isFile() || st.ino !== found.stats!.ino || st.dev !== found.stats!.dev || !samePath(fd, found.path)) {
      return { ok: false, reason: 'special', message: `${whole} changed while being read` };
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const chunk = Buffer.alloc(Math.min(64 * 1024, maxBytes + 1));
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > maxBytes) return tooLarge(whole, maxBytes);
      chunks.push(Buffer.from(chunk.subarray(0, n)));
    }
    return { ok: true, data: Buffer.concat(chunks, total) };
  } finally {
    closeSync(fd);
  }
}

function tooLarge(path: string, maxBytes: number): ReadResult {
  return { ok: false, reason: 'too-large', message: `${path} is larger than ${maxBytes} bytes` };
}

/** Where /proc exists, the open descriptor must name exactly the path that was checked component by component. */
function samePath(fd: number, path: string): boolean {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`) === path;
  } catch {
    return true; // no /proc (macOS): the lstat/fstat identity check above stands alone
  }
}

/** The text of a confined read, or undefined for anything that is not a regular file within the limit. */
export function readTextInTree(root: string, repoPath: string, maxBytes: number): string | undefined {
  const r = readInTree(root, repoPath, maxBytes);
  return r.ok ? r.data.toString('utf8') : undefined;
}

/**
 * Every entry under `root` (repo paths → kind), walked without following symlinks; `.git` is skipped.
 * Symlinks and special files are listed, never entered.
 */
export function listTree(root: string): Map<string, EntryKind> {
  const out = new Map<string, EntryKind>();
  const walk = (abs: string, rel: string) => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      if (rel === '' && e.name === '.git') continue;
      const path = rel ? `${rel}/${e.name}` : e.name;
      const kind: EntryKind = e.isSymbolicLink()
        ? 'symlink'
        : e.isDirectory()
          ? 'dir'
          : e.isFile()
            ? 'file'
            : 'special';
      out.set(path, kind);
      if (kind === 'dir') walk(join(abs, e.name), path);
    }
  };
  walk(realpathSync(root), '');
  return out;
}
