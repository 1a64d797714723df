/**
 * Trees read as data: `git ls-tree` records, and the checks that decide what may be
 * written to the host from a tree (paths) or committed by suture (no links). Pure.
 */

export type TreeEntryKind = 'file' | 'executable' | 'symlink' | 'gitlink';

export interface TreeEntry {
  kind: TreeEntryKind;
  oid: string;
  path: string;
}

const KIND_BY_MODE: Record<string, TreeEntryKind> = {
  '100644': 'file',
  '100664': 'file', // written by very old gits, read by git as a regular file
  '100755': 'executable',
  '120000': 'symlink',
  '160000': 'gitlink',
};

/** `git ls-tree -r -z` output: `<mode> <type> <oid>\t<path>\0` records. */
export function parseLsTree(out: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  for (const rec of out.split('\0')) {
    if (rec === '') continue;
    const tab = rec.indexOf('\t');
    const [mode, , oid] = rec.slice(0, tab).split(' ');
    const kind = KIND_BY_MODE[mode ?? ''];
    if (tab < 0 || !kind || !oid) throw new Error(`unexpected git ls-tree record: ${rec.slice(0, 80)}`);
    entries.push({ kind, oid, path: rec.slice(tab + 1) });
  }
  return entries;
}

/**
 * Why a tree path may not be written under a directory on the host, or null when it may: no absolute path,
 * no `.`/`..`/empty component, no `.git` component (any case, as git refuses it on checkout).
 */
export function treePathProblem(path: string): string | null {
  if (path === '' || path.includes('\0')) return 'an empty path';
  if (path.startsWith('/')) return 'an absolute path';
  for (const c of path.split('/')) {
    if (c === '' || c === '.' || c === '..') return `a "${c || '//'}" component`;
    if (c.toLowerCase().replace(/[. ]+$/, '') === '.git') return 'a .git component';
  }
  return null;
}

/** The first change that leaves a symlink or a gitlink in the new tree, described, or null. */
export function linkChangeProblem(changes: { newMode: string; path: string }[]): string | null {
  for (const c of changes) {
    if (c.newMode === '120000') return `it would create or change a symlink at ${c.path}`;
    if (c.newMode === '160000') return `it would create or change a gitlink (submodule) at ${c.path}`;
  }
  return null;
}
