/** Throw-away copies of the repo at a revision, with or without a patch, for mounting into containers. */
import { chmod, cp, lstat, mkdir, mkdtemp, open, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { SutureError } from '../errors.ts';
import { applyInDirectory, type GitRepo, gitIn, gitRepo, readObjects } from '../gitops/git.ts';
import { parseLsTree, type TreeEntry, treePathProblem } from '../gitops/tree.ts';

export async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `suture-${prefix}-`));
}

/**
 * Exports `rev` of `repoDir` into a new temp dir, written from git blobs (ls-tree + cat-file, never archive
 * or checkout, so no filter or attribute applies): regular files with their mode, symlinks as symlinks
 * (never followed here), gitlinks (submodules) skipped. A path with a `..`, `.git` or empty component, or
 * an absolute one, refuses the whole export.
 */
export async function exportTree(repoDir: string, rev: string): Promise<string> {
  const repo = await gitRepo(repoDir);
  const entries = parseLsTree(await gitIn(repo, ['ls-tree', '-r', '-z', '--full-tree', '--end-of-options', rev]));
  for (const e of entries) {
    const problem = treePathProblem(e.path);
    if (problem) {
      throw new SutureError(
        'BAD_INPUT',
        `revision ${rev} holds a path suture will not write: ${JSON.stringify(e.path)} (${problem})`,
      );
    }
  }
  const dir = await tempDir('tree');
  try {
    await writeEntries(repo, dir, entries);
  } catch (err) {
    await removeTree(dir);
    throw err;
  }
  return dir;
}

const WRITES_IN_FLIGHT = 32;

async function writeEntries(repo: GitRepo, root: string, entries: TreeEntry[]): Promise<void> {
  // Every directory on the way is created here, or must already be a real directory: symlinks are written
  // last, so none can redirect a write, and a malformed tree that lists a path twice fails instead.
  const dirs = new Map<string, Promise<void>>([[root, Promise.resolve()]]);
  const ensureDir = (dir: string, path: string): Promise<void> => {
    let made = dirs.get(dir);
    if (!made) {
      made = ensureDir(dirname(dir), path).then(async () => {
        const st = await lstat(dir).catch(() => null);
        if (st?.isDirectory()) return;
        if (st)
          throw new SutureError('BAD_INPUT', `tree path ${path}: ${dir.slice(root.length + 1)} is not a directory`);
        await mkdir(dir);
        await chmod(dir, 0o755); // whatever the umask: the sandbox user must be able to read it
      });
      dirs.set(dir, made);
    }
    return made;
  };
  const target = async (path: string) => {
    const file = join(root, path);
    await ensureDir(dirname(file), path);
    return file;
  };
  const byOid = (kinds: TreeEntry['kind'][]) => {
    const map = new Map<string, TreeEntry[]>();
    for (const e of entries) {
      if (!kinds.includes(e.kind)) continue;
      const list = map.get(e.oid);
      if (list) list.push(e);
      else map.set(e.oid, [e]);
    }
    return map;
  };
  const blob = (oid: string, obj: { type: string; data: Buffer | null } | null, paths: TreeEntry[]) => {
    if (obj?.type !== 'blob' || !obj.data) {
      throw new SutureError('GIT', `${paths[0]?.path}: object ${oid} is missing (a partial clone? fetch it first)`);
    }
    return obj.data;
  };
  // Writes overlap (many small files), a bounded number at a time so memory stays bounded too.
  const inflight = new Set<Promise<void>>();
  let failure: unknown = null;
  const schedule = async (task: () => Promise<void>) => {
    const p: Promise<void> = task()
      .catch((err: unknown) => {
        failure ??= err;
      })
      .finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= WRITES_IN_FLIGHT) await Promise.race(inflight);
    if (failure) throw failure;
  };
  const drain = async () => {
    await Promise.all(inflight);
    if (failure) throw failure;
  };

  const files = byOid(['file', 'executable']);
  await readObjects(repo, [...files.keys()], async (oid, obj) => {
    const paths = files.get(oid) ?? [];
    const data = blob(oid, obj, paths);
    for (const e of paths) {
      const mode = e.kind === 'executable' ? 0o755 : 0o644;
      await schedule(async () => {
        const fh = await open(await target(e.path), 'wx', mode); // O_EXCL: never through an existing entry
        try {
          await fh.writeFile(data);
          await fh.chmod(mode);
        } finally {
          await fh.close();
        }
      });
    }
  });
  await drain();
  const links = byOid(['symlink']);
  await readObjects(repo, [...links.keys()], async (oid, obj) => {
    const paths = links.get(oid) ?? [];
    const to = blob(oid, obj, paths);
    if (to.length === 0 || to.includes(0)) {
      throw new SutureError('BAD_INPUT', `tree path ${paths[0]?.path}: a symlink without a valid target`);
    }
    for (const e of paths) await symlink(to, await target(e.path));
  });
}

export async function copyTree(src: string): Promise<string> {
  const dir = await tempDir('ws');
  await cp(src, dir, { recursive: true, verbatimSymlinks: true });
  return dir;
}

export class PatchError extends SutureError {
  constructor(message: string) {
    super('BAD_INPUT', message);
    this.name = 'PatchError';
  }
}

/**
 * Applies a git-style patch to a plain directory. `git apply` refuses paths outside the directory, `.git`
 * components and writes through symlinks, which matters because patches may come from an LLM; it runs
 * through the git adapter, so no repository (nor anything planted in `dir`) configures it. `include`
 * limits it to some paths.
 */
export async function applyPatch(dir: string, patch: string, include?: string[]): Promise<void> {
  const r = await applyInDirectory(dir, patch, [
    '--whitespace=nowarn',
    ...(include ?? []).map((p) => `--include=${p}`),
  ]);
  if (r.exitCode !== 0) {
    const line = r.timedOut ? 'timed out' : (r.stderr.split('\n')[0] ?? '').replace(/^error: /, '');
    throw new PatchError(`patch does not apply: ${line}`);
  }
}

export async function removeTree(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true }).catch(async () => {
    // The sandbox user may have created read-only dirs; make them writable and retry.
    await execa('chmod', ['-R', 'u+rwX', dir], { reject: false });
    await rm(dir, { recursive: true, force: true });
  });
}
