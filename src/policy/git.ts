/**
 * The git plumbing the input builder needs: revisions, the raw diff with line counts, and blob contents.
 * Everything runs through the git adapter (src/gitops/git.ts): in suture's shadow git dir, never with the
 * repository's own config or attributes, so nothing they name runs.
 */
import { SutureError } from '../errors.ts';
import { gitRepo, readObjects, type ShadowOptions, syncRefs, tryGitIn } from '../gitops/git.ts';

const ZERO_SHA = /^0+$/;

export async function git(repoDir: string, args: string[], opts: ShadowOptions = {}): Promise<string> {
  const fail = (line: string) => new SutureError('GIT', `git ${args[0]} failed in ${repoDir}: ${line}`);
  const repo = await gitRepo(repoDir).catch((err: Error) => {
    throw fail(err.message);
  });
  const r = await tryGitIn(repo, args, opts);
  if (r.exitCode !== 0) throw fail(r.timedOut ? 'timed out' : (r.stderr.trim().split('\n')[0] ?? ''));
  return r.stdout;
}

/** The full commit id of REV, or null when REV does not name a commit in the repository. */
export async function resolveCommit(repoDir: string, rev: string): Promise<string | null> {
  if (rev.startsWith('-')) return null;
  try {
    await syncRefs(await gitRepo(repoDir));
    return (await git(repoDir, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`])).trim() || null;
  } catch {
    return null;
  }
}

/** The content of PATH at REV, or null when it does not exist there. */
export async function gitShow(repoDir: string, rev: string, path: string): Promise<string | null> {
  try {
    return await git(repoDir, ['cat-file', 'blob', `${rev}:${path}`]);
  } catch {
    return null;
  }
}

export type RawChange = {
  status: 'added' | 'modified' | 'deleted' | 'renamed' | 'copied' | 'type-changed';
  path: string;
  oldPath: string | null;
  oldMode: string;
  newMode: string;
  oldBlob: string | null;
  newBlob: string | null;
  additions: number;
  deletions: number;
  binary: boolean;
};

const STATUS: Record<string, RawChange['status']> = {
  A: 'added',
  M: 'modified',
  D: 'deleted',
  R: 'renamed',
  C: 'copied',
  T: 'type-changed',
};

const DIFF_FLAGS = ['-M', '--no-ext-diff', '--no-textconv', '--no-color', '-z'];

/** Every path that differs between BASE and HEAD, with modes, blob ids and line counts. */
export async function diffChanges(repoDir: string, base: string, head: string): Promise<RawChange[]> {
  const [raw, numstat] = await Promise.all([
    git(repoDir, ['diff', '--raw', '--no-abbrev', ...DIFF_FLAGS, base, head, '--']),
    git(repoDir, ['diff', '--numstat', ...DIFF_FLAGS, base, head, '--']),
  ]);
  const counts = parseNumstat(numstat);
  return parseRaw(raw).map((c) => {
    const n = counts.get(c.path);
    return n ? { ...c, ...n } : c;
  });
}

export function parseRaw(out: string): RawChange[] {
  const parts = out.split('\0');
  const changes: RawChange[] = [];
  for (let i = 0; i < parts.length; i++) {
    const head = parts[i];
    if (!head?.startsWith(':')) continue;
    const [oldMode, newMode, oldBlob, newBlob, code] = head.slice(1).split(' ');
    const letter = (code ?? '').charAt(0);
    const status = STATUS[letter];
    if (!status || !oldMode || !newMode || !oldBlob || !newBlob) {
      throw new SutureError('GIT', `unexpected git diff --raw record: ${head}`);
    }
    const two = letter === 'R' || letter === 'C';
    const first = parts[++i] ?? '';
    const second = two ? (parts[++i] ?? '') : null;
    changes.push({
      status,
      path: second ?? first,
      oldPath: two ? first : null,
      oldMode,
      newMode,
      oldBlob: ZERO_SHA.test(oldBlob) ? null : oldBlob,
      newBlob: ZERO_SHA.test(newBlob) ? null : newBlob,
      additions: 0,
      deletions: 0,
      binary: false,
    });
  }
  return changes;
}

export function parseNumstat(out: string): Map<string, { additions: number; deletions: number; binary: boolean }> {
  const parts = out.split('\0');
  const counts = new Map<string, { additions: number; deletions: number; binary: boolean }>();
  for (let i = 0; i < parts.length; i++) {
    const rec = parts[i];
    if (!rec) continue;
    const [add, del, path] = rec.split('\t');
    if (add === undefined || del === undefined || path === undefined) continue;
    // A rename is "A\tD\t" followed by the old and the new path as separate fields.
    let name = path;
    if (path === '') {
      i += 2;
      name = parts[i] ?? '';
    }
    const binary = add === '-';
    counts.set(name, { additions: binary ? 0 : Number(add), deletions: binary ? 0 : Number(del), binary });
  }
  return counts;
}

/** Reads many blobs through one `git cat-file --batch`; blobs larger than maxBytes are left out. */
export async function readBlobs(repoDir: string, ids: string[], maxBytes: number): Promise<Map<string, Buffer>> {
  const blobs = new Map<string, Buffer>();
  const unique = [...new Set(ids)];
  if (unique.length === 0) return blobs;
  await readObjects(
    await gitRepo(repoDir),
    unique,
    (id, obj) => {
      if (obj?.data) blobs.set(id, obj.data);
    },
    { maxBytes },
  );
  return blobs;
}

export type TreeFacts = {
  /** Symlink path → blob id of its target. */
  links: Map<string, string>;
  /** Submodule (gitlink) paths. */
  submodules: Set<string>;
  /** Directories holding a Helm chart or a kustomization: everything below them is deployment config. */
  deployDirs: Set<string>;
};

/** The symlinks, submodules and deployment directories of REV's tree; ls-tree reads no blob. */
export async function treeFacts(repoDir: string, rev: string): Promise<TreeFacts> {
  const out = await git(repoDir, ['ls-tree', '-r', '-z', '--full-tree', rev]);
  const facts: TreeFacts = { links: new Map(), submodules: new Set(), deployDirs: new Set() };
  for (const rec of out.split('\0')) {
    const tab = rec.indexOf('\t');
    if (tab < 0) continue;
    const [mode, , id] = rec.slice(0, tab).split(' ');
    const path = rec.slice(tab + 1);
    if (mode === '120000' && id) facts.links.set(path, id);
    else if (mode === '160000') facts.submodules.add(path);
    const slash = path.lastIndexOf('/');
    if (/^(chart\.ya?ml|kustomization\.ya?ml|kustomization)$/i.test(path.slice(slash + 1))) {
      facts.deployDirs.add(slash < 0 ? '' : path.slice(0, slash));
    }
  }
  return facts;
}

/** The blobs at PATHS in REV (path → blob id and size in bytes), without reading their content (ls-tree -l). */
export async function blobSizes(
  repoDir: string,
  rev: string,
  paths: string[],
): Promise<Map<string, { id: string; size: number }>> {
  const found = new Map<string, { id: string; size: number }>();
  const unique = [...new Set(paths)];
  for (let i = 0; i < unique.length; i += 500) {
    const chunk = unique.slice(i, i + 500);
    // Paths are literal (a `*` or `:(glob)` in a file name is that file): GIT_LITERAL_PATHSPECS.
    const out = await git(repoDir, ['ls-tree', '-l', '-z', '--full-tree', rev, '--', ...chunk], {
      env: { GIT_LITERAL_PATHSPECS: '1' },
    });
    for (const rec of out.split('\0')) {
      const m = /^\d+ blob ([0-9a-f]+) +(\d+)\t([\s\S]*)$/.exec(rec);
      if (m) found.set(m[3]!, { id: m[1]!, size: Number(m[2]) });
    }
  }
  return found;
}
