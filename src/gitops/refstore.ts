/**
 * The repository's refs as files (git's "files" backend): read without running git, and the one write
 * suture makes to a repository's refs (creating its branch) done with git's own lock-file protocol, so no
 * git command, and therefore no hook, reference-transaction or otherwise, runs in the repository.
 * Nothing here follows a symlink: a symlinked ref, refs directory or packed-refs file is not read.
 */
import { lstat, mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SutureError } from '../errors.ts';
import {
  followSymref,
  isOid,
  isValidRefName,
  type LooseRef,
  mergeRefs,
  type ObjectFormat,
  parseLooseRef,
  parsePackedRefs,
  refConflict,
} from './refs.ts';

export interface RefSnapshot {
  /** Full ref name → object id. */
  refs: Map<string, string>;
  /** What HEAD names: a branch (symref) or a detached commit. */
  head: { symref: string | null; oid: string | null };
}

const MAX_LOOSE_REF = 4096;
const MAX_PACKED_REFS = 512 * 1024 * 1024;

/** The content of a regular file no larger than `max`, or null (missing, a symlink, a directory, too big). */
async function readRegular(path: string, max: number): Promise<string | null> {
  const st = await lstat(path).catch(() => null);
  if (!st?.isFile() || st.size > max) return null;
  return readFile(path, 'utf8').catch(() => null);
}

async function walkLoose(dir: string, prefix: string, format: ObjectFormat, out: Map<string, LooseRef>) {
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const path = join(dir, name);
    const st = await lstat(path).catch(() => null);
    const ref = `${prefix}/${name}`;
    if (st?.isDirectory()) await walkLoose(path, ref, format, out);
    else if (st?.isFile() && isValidRefName(ref)) {
      const parsed = parseLooseRef((await readRegular(path, MAX_LOOSE_REF)) ?? '', format);
      if (parsed) out.set(ref, parsed);
    }
  }
}

export async function readRefs(gitDir: string, commonDir: string, format: ObjectFormat): Promise<RefSnapshot> {
  if ((await lstat(join(commonDir, 'reftable')).catch(() => null))?.isDirectory()) {
    throw new SutureError('BAD_INPUT', `${commonDir} stores its refs in a reftable, which suture does not read yet`);
  }
  const packed = parsePackedRefs((await readRegular(join(commonDir, 'packed-refs'), MAX_PACKED_REFS)) ?? '', format);
  const loose = new Map<string, LooseRef>();
  await walkLoose(join(commonDir, 'refs'), 'refs', format, loose);
  const refs = mergeRefs(packed, loose);
  const head = parseLooseRef((await readRegular(join(gitDir, 'HEAD'), MAX_LOOSE_REF)) ?? '', format);
  if (!head) return { refs, head: { symref: null, oid: null } };
  if ('oid' in head) return { refs, head: { symref: null, oid: head.oid } };
  return { refs, head: { symref: head.symref, oid: followSymref(head.symref, refs, loose) } };
}

/**
 * Creates ref `name` at `oid` in the repository, refusing when it (or a conflicting name) exists: takes
 * `<ref>.lock` with O_EXCL as git does, so it cannot race a git command updating the same ref. Each
 * directory on the way must be a real directory (never a symlink).
 */
export async function createLooseRef(
  gitDir: string,
  commonDir: string,
  format: ObjectFormat,
  name: string,
  oid: string,
): Promise<void> {
  if (!isValidRefName(name) || !isOid(oid, format)) {
    throw new SutureError('INTERNAL', `refusing to write ref ${name} = ${oid}`);
  }
  const conflict = refConflict(name, (await readRefs(gitDir, commonDir, format)).refs.keys());
  if (conflict) throw new SutureError('GIT', `cannot create ${name}: ${conflict}`);
  const parts = name.split('/');
  let dir = commonDir;
  for (const part of parts.slice(0, -1)) {
    dir = join(dir, part);
    const st = await lstat(dir).catch(() => null);
    if (!st)
      await mkdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'EEXIST' ? undefined : Promise.reject(e)));
    else if (!st.isDirectory()) throw new SutureError('GIT', `cannot create ${name}: ${dir} is not a directory`);
  }
  const path = join(commonDir, ...parts);
  const lock = `${path}.lock`;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(lock, 'wx', 0o644);
  } catch (err) {
    const busy = (err as NodeJS.ErrnoException).code === 'EEXIST';
    throw new SutureError(
      'GIT',
      `cannot create ${name}: ${busy ? `${lock} exists (another git is updating it)` : (err as Error).message}`,
    );
  }
  try {
    await handle.writeFile(`${oid}\n`);
    await handle.sync();
    await handle.close();
    // Re-checked under the lock: a git that created the ref in between holds no lock any more.
    if (await lstat(path).catch(() => null)) throw new SutureError('GIT', `cannot create ${name}: it already exists`);
    await rename(lock, path);
  } catch (err) {
    await handle.close().catch(() => undefined);
    await rm(lock, { force: true });
    throw err;
  }
}
