/** Writes git-style unified diffs (`diff --git` headers) that `git apply` accepts, from whole-file edits. */
import { structuredPatch } from 'diff';
import type { FileEdit } from './types.ts';

export function makeGitPatch(edits: FileEdit[]): string {
  let out = '';
  for (const e of edits) {
    const isNew = e.before === undefined;
    const p = structuredPatch(`a/${e.path}`, `b/${e.path}`, e.before ?? '', e.after, '', '', { context: 3 });
    out += `diff --git a/${e.path} b/${e.path}\n`;
    if (isNew) out += 'new file mode 100644\n';
    out += `--- ${isNew ? '/dev/null' : `a/${e.path}`}\n+++ b/${e.path}\n`;
    for (const h of p.hunks) {
      const oldRange = h.oldLines === 1 ? `${h.oldStart}` : `${h.oldStart},${h.oldLines}`;
      const newRange = h.newLines === 1 ? `${h.newStart}` : `${h.newStart},${h.newLines}`;
      out += `@@ -${isNew ? '0,0' : oldRange} +${newRange} @@\n`;
      for (const l of h.lines) out += `${l}\n`;
    }
  }
  return out;
}

/** Repo-relative paths a patch touches (from its diff --git headers or ---/+++ lines). */
export function patchedPaths(patch: string): string[] {
  const paths = new Set<string>();
  for (const m of patch.matchAll(/^\+\+\+ b\/(.+)$/gm)) paths.add(m[1]!.trim());
  for (const m of patch.matchAll(/^--- a\/(.+)$/gm)) paths.add(m[1]!.trim());
  return [...paths];
}

/** Paths the patch creates (new files). */
export function addedPaths(patch: string): string[] {
  const added: string[] = [];
  const lines = patch.split('\n');
  for (let i = 0; i < lines.length - 1; i++) {
    if (lines[i] === '--- /dev/null') {
      const m = /^\+\+\+ b\/(.+)$/.exec(lines[i + 1] ?? '');
      if (m) added.push(m[1]!.trim());
    }
  }
  return added;
}
