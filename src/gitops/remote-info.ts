/**
 * What the providers read from the repository, through the git adapter (git.ts): origin's URL (the
 * repository's config read as data, never as git's configuration), a file at a revision as a blob (never
 * from the working tree, so no symlink, filter or checkout is involved), and the paths a change touches.
 */
import { parseRaw } from '../policy/git.ts';
import { gitIn, gitRepo, readLocalConfigText, readObjects, syncRefs, tryGitIn } from './git.ts';
import { parseConfigList } from './remote.ts';
import { parseLsTree } from './tree.ts';

/** remote.origin.url as the repository's config says it, or null when there is none. */
export async function originUrl(repoDir: string): Promise<string | null> {
  const config = parseConfigList(await readLocalConfigText(await gitRepo(repoDir)));
  return config.get('remote.origin.url')?.[0] ?? null;
}

/**
 * The content of `path` at `rev` when it is a regular file of at most `maxBytes`; null when it is absent, a
 * symlink or a submodule, or too large. The revision must resolve (a SutureError('GIT') otherwise).
 */
export async function readBlobAt(repoDir: string, rev: string, path: string, maxBytes: number): Promise<Buffer | null> {
  const g = await gitRepo(repoDir);
  await syncRefs(g);
  const listed = await tryGitIn(g, ['ls-tree', '-z', '--end-of-options', rev, '--', path]);
  if (listed.exitCode !== 0) {
    await gitIn(g, ['rev-parse', '--verify', '--end-of-options', `${rev}^{tree}`]);
    return null;
  }
  const entry = parseLsTree(listed.stdout).find((e) => e.path === path);
  if (!entry || (entry.kind !== 'file' && entry.kind !== 'executable')) return null;
  let data: Buffer | null = null;
  await readObjects(
    g,
    [entry.oid],
    (_spec, obj) => {
      data = obj?.type === 'blob' ? obj.data : null;
    },
    { maxBytes },
  );
  return data;
}

/** The paths that differ between two revisions (renames as a delete and an add; both paths listed). */
export async function changedPaths(repoDir: string, base: string, head: string): Promise<string[]> {
  const g = await gitRepo(repoDir);
  await syncRefs(g);
  const raw = await gitIn(g, ['diff-tree', '-r', '-z', '--raw', '--no-renames', '--end-of-options', base, head]);
  return [...new Set(parseRaw(raw).map((c) => c.path))];
}
