/**
 * Making a module-level name of one module readable in another (the request handler's): the handler's
 * file's own binding when it has one, else a name added to its existing `from M import …` of that module,
 * else `M.name` through its `import M`, else a new `from M import name` after its imports.
 */
import { dirname, posix } from 'node:path';
import { eolOf, type TextEdit } from '../edits.ts';
import type { PyFile, PyNode } from './ast.ts';

export interface PyBinding {
  /** How code in the file refers to the name. */
  ref: string;
  edits: TextEdit[];
}

/** What a module is known by: its repo path, or (imported absolutely elsewhere) its dotted name. */
export type PyModule = { path: string } | { module: string };

/** The module an import statement of `file` names, as a repo path it may resolve to (loosely). */
function namesModule(file: PyFile, st: PyNode, target: PyModule): boolean {
  const mod = (st.module as string | null) ?? '';
  const level = (st.level as number | undefined) ?? 0;
  if ('module' in target) return level === 0 && mod === target.module;
  const asPath = `${mod.replace(/\./g, '/')}.py`;
  if (level > 0) {
    let dir = dirname(file.path);
    for (let i = 1; i < level; i++) dir = dirname(dir);
    return posix.normalize(posix.join(dir, asPath)) === target.path;
  }
  // Absolute: from the repo root, a source root above it (src/), or the importing file's directory.
  return (
    target.path === asPath ||
    target.path.endsWith(`/${asPath}`) ||
    posix.normalize(posix.join(dirname(file.path), asPath)) === target.path
  );
}

/** The dotted name of a module as `file` would import it, when `file` already imports it absolutely. */
export function bindingInPy(file: PyFile, target: PyModule, name: string, taken: Set<string>): PyBinding | undefined {
  const body = file.tree.body as PyNode[];
  let lastImport: PyNode | undefined;
  let sameFrom: PyNode | undefined;
  for (const st of body) {
    if (st._t !== 'Import' && st._t !== 'ImportFrom') continue;
    lastImport = st;
    if (st._t === 'Import') {
      for (const a of st.names as PyNode[]) {
        const dotted = a.name as string;
        const matches =
          'module' in target ? dotted === target.module : namesModule(file, { ...st, module: dotted }, target);
        if (matches && (a.asname || !dotted.includes('.')))
          return { ref: `${(a.asname as string) ?? dotted}.${name}`, edits: [] };
      }
      continue;
    }
    if (!namesModule(file, st, target)) continue;
    for (const a of st.names as PyNode[])
      if (a.name === name) return { ref: (a.asname as string | null) ?? name, edits: [] };
    sameFrom ??= st;
  }
  if (taken.has(name)) return undefined;
  const names = sameFrom?.names as PyNode[] | undefined;
  const last = names?.[names.length - 1];
  // `from m import a, b` or `from m import (a, b)`: after the last name (aliases have offsets from 3.10).
  if (last?.e !== undefined) return { ref: name, edits: [{ start: last.e, end: last.e, text: `, ${name}` }] };
  const from = sameFrom
    ? `${'.'.repeat((sameFrom.level as number | undefined) ?? 0)}${(sameFrom.module as string | null) ?? ''}`
    : 'module' in target
      ? target.module
      : undefined;
  if (!from || !lastImport) return undefined;
  const text = `${eolOf(file.source)}from ${from} import ${name}`;
  return { ref: name, edits: [{ start: lastImport.e!, end: lastImport.e!, text }] };
}
