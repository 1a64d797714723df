/**
 * Candidate patches are untrusted (they may come from an LLM fed attacker text). Only changes to regular
 * files are accepted: a patch that creates a symlink or a gitlink, changes a mode to one, carries a binary
 * hunk, or writes through or over a symlink or special file of the tree is refused before it is applied
 * anywhere that matters, and the result of applying it to a scratch copy is checked again (the tree must
 * hold no new symlink or special file). Git itself says which paths it will write (`git apply --numstat`),
 * so what is checked is what git applies.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyInDirectory } from '../gitops/git.ts';
import { type EntryKind, entryKind, listTree, splitRepoPath } from './confined.ts';
import { applyPatch, PatchError } from './trees.ts';

const REGULAR_MODES = new Set(['100644', '100755']);
const MODE_LINE = /^(new file mode|deleted file mode|old mode|new mode) (.*)$/;
const INDEX_LINE = /^index [0-9a-f]+\.\.[0-9a-f]+ (.*)$/;
const DESCRIBE_MODE: Record<string, string> = { '120000': 'a symbolic link', '160000': 'a gitlink (submodule)' };

/**
 * Pure: why the patch's git headers are unacceptable (modes other than regular files, binary content), or
 * an empty list. Header-like lines anywhere count: git reads headers only between files, so extra ones can
 * only make this stricter than git.
 */
export function patchShapeProblems(patch: string): string[] {
  const problems: string[] = [];
  let file = '';
  for (const raw of patch.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.startsWith('diff --git ')) file = line.slice('diff --git '.length);
    const mode = MODE_LINE.exec(line)?.[2] ?? INDEX_LINE.exec(line)?.[1];
    if (mode !== undefined && !REGULAR_MODES.has(mode.trim())) {
      const what = DESCRIBE_MODE[mode.trim()] ?? `mode ${mode.trim()}`;
      problems.push(`the patch makes or changes ${what}${file ? ` (${file})` : ''}: only regular files may change`);
    }
    if (/^GIT binary patch$/.test(line) || /^Binary files .* differ$/.test(line)) {
      problems.push(`the patch carries binary content${file ? ` (${file})` : ''}: only text changes are verified`);
    }
  }
  return [...new Set(problems)];
}

/** The paths git will write for this patch, and which of them are binary (from `git apply --numstat -z`). */
export async function gitPatchPaths(patch: string, include?: string[]): Promise<{ path: string; binary: boolean }[]> {
  const dir = await mkdtemp(join(tmpdir(), 'suture-numstat-'));
  try {
    // --numstat only reads the patch: nothing is written to the (empty) directory.
    const r = await applyInDirectory(dir, patch, ['--numstat', '-z', ...(include ?? []).map((p) => `--include=${p}`)]);
    if (r.exitCode !== 0) {
      throw new PatchError(`patch is not a valid diff: ${(r.stderr.split('\n')[0] ?? '').replace(/^error: /, '')}`);
    }
    return r.stdout
      .split('\0')
      .filter(Boolean)
      .map((rec) => {
        const [added, , path] = rec.split('\t');
        return { path: path ?? '', binary: added === '-' };
      });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** What a patch changed in a tree, by comparing the tree before and after (not by trusting the patch). */
export interface TreeChange {
  added: string[];
  deleted: string[];
  /** Paths git wrote that existed before. */
  modified: string[];
}

const UNSAFE: EntryKind[] = ['symlink', 'special'];

/**
 * Applies `patch` to `dir` (a scratch copy of a tree) only if it changes regular files and nothing else;
 * throws PatchError (BAD_INPUT, one line) otherwise. `include` limits it to some paths, as for applyPatch.
 */
export async function applyPatchGuarded(dir: string, patch: string, include?: string[]): Promise<TreeChange> {
  const problem = patchShapeProblems(patch)[0];
  if (problem) throw new PatchError(problem);
  const paths = await gitPatchPaths(patch, include);
  for (const { path, binary } of paths) {
    if (binary) throw new PatchError(`the patch carries binary content (${path}): only text changes are verified`);
    if (!splitRepoPath(path)) throw new PatchError(`patch does not apply: it writes outside the tree (${path})`);
    if (UNSAFE.includes(entryKind(dir, path) as EntryKind)) {
      throw new PatchError(`the patch writes through or over a symbolic link or special file of the tree: ${path}`);
    }
  }
  const before = listTree(dir);
  await applyPatch(dir, patch, include);
  const after = listTree(dir);
  for (const [path, kind] of after) {
    if (UNSAFE.includes(kind) && before.get(path) !== kind) {
      throw new PatchError(
        `applying the patch made ${path} a ${kind === 'symlink' ? 'symbolic link' : 'special file'}`,
      );
    }
  }
  for (const { path } of paths) {
    const kind = after.get(path);
    if (kind !== undefined && kind !== 'file') throw new PatchError(`the patch leaves ${path} not a regular file`);
  }
  const files = (m: Map<string, EntryKind>) => new Set([...m].filter(([, k]) => k !== 'dir').map(([p]) => p));
  const [was, is] = [files(before), files(after)];
  return {
    added: [...is].filter((p) => !was.has(p)).sort(),
    deleted: [...was].filter((p) => !is.has(p)).sort(),
    modified: paths.map((p) => p.path).filter((p) => was.has(p) && is.has(p)),
  };
}
