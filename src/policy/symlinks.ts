/**
 * Symlinks judged the way a checkout resolves them: every link of a revision's tree is followed component by
 * component (a link inside a link's target is followed too, `..` after a link climbs from where the link
 * points), so `sub/d -> ..` plus `x -> sub/d/..` is seen to leave the repository although each target looks
 * harmless alone. Pure: the caller lists the tree's links and submodules (git ls-tree).
 */
import { posix } from 'node:path';
import type { SymlinkFact } from './types.ts';

/** Links followed while resolving one path before giving up (Linux's MAXSYMLINKS). */
export const MAX_LINK_HOPS = 40;

export type TreeLinks = {
  /** Link path → target; null when the target could not be read (too long, not text). */
  links: Map<string, string | null>;
  /** Submodule (gitlink) paths: what lies below them is not in this tree. */
  submodules: Set<string>;
};

export type Resolution = Omit<SymlinkFact, 'target'>;

function segments(path: string): string[] {
  // A checkout on Windows splits on backslashes too: judge the stricter reading.
  return path.split(/[/\\]/).filter((s) => s !== '' && s !== '.');
}

function isAbsolute(target: string): boolean {
  return /^[/\\]/.test(target) || /^[A-Za-z]:/.test(target);
}

/**
 * Resolves PATH against the tree. With `followLast`, a link at PATH itself is followed (what a read of PATH
 * opens); without, only its directories are (where PATH itself lives).
 */
export function resolvePath(tree: TreeLinks, path: string, followLast = true): Resolution {
  const done: string[] = [];
  let rest = segments(path);
  let hops = 0;
  while (rest.length > 0) {
    const [name, ...tail] = rest as [string, ...string[]];
    rest = tail;
    if (name === '..') {
      if (done.length === 0) return { resolved: null, escapesRepo: true, error: null };
      done.pop();
      continue;
    }
    const here = [...done, name].join('/');
    // The work tree's .git is not repository content: a path into it reads git's own files.
    if (done.length === 0 && name.toLowerCase().replace(/[. ]+$/, '') === '.git') {
      return { resolved: null, escapesRepo: true, error: null };
    }
    if (tree.submodules.has(here) && rest.length > 0) {
      return { resolved: null, escapesRepo: false, error: `it passes through submodule ${here}` };
    }
    if (tree.links.has(here) && (rest.length > 0 || followLast)) {
      if (++hops > MAX_LINK_HOPS) {
        return { resolved: null, escapesRepo: false, error: `it follows more than ${MAX_LINK_HOPS} links (a loop)` };
      }
      const target = tree.links.get(here);
      if (target === null || target === undefined) {
        return { resolved: null, escapesRepo: false, error: `the target of ${here} cannot be read` };
      }
      if (isAbsolute(target)) return { resolved: null, escapesRepo: true, error: null };
      rest = [...segments(target), ...rest];
      continue;
    }
    done.push(name);
  }
  return { resolved: done.join('/'), escapesRepo: false, error: null };
}

/** The fact for the link at PATH: its target and where following it ends. */
export function symlinkFact(tree: TreeLinks, path: string): SymlinkFact {
  const target = tree.links.get(path);
  if (target === null || target === undefined) {
    return { target: '', resolved: null, escapesRepo: false, error: `the target of ${path} cannot be read` };
  }
  return { target, ...resolvePath(tree, path) };
}

/**
 * Other names of a path in the tree: `L/rest` for every link L whose resolution contains the path (and names
 * of those names, to a bound). A file edited at `ci/workflows/x.yml` is `.github/workflows/x.yml` when
 * `.github -> ci`; the policies judge it by every name. Returns a lookup, built once per tree.
 */
export function aliasIndex(tree: TreeLinks, limit = 64): (path: string) => string[] {
  const targets: [string, string][] = [];
  for (const link of tree.links.keys()) {
    const r = resolvePath(tree, link);
    if (r.resolved !== null && r.resolved !== link) targets.push([link, r.resolved]);
  }
  return (path) => {
    if (targets.length === 0) return [];
    const found = new Set<string>([path]);
    const queue = [path];
    while (queue.length > 0 && found.size <= limit) {
      const p = queue.shift()!;
      for (const [link, resolved] of targets) {
        let alias: string | null = null;
        if (resolved === '') alias = posix.join(link, p);
        else if (p === resolved) alias = link;
        else if (p.startsWith(`${resolved}/`)) alias = link + p.slice(resolved.length);
        if (alias !== null && !found.has(alias)) {
          found.add(alias);
          queue.push(alias);
        }
      }
    }
    found.delete(path);
    return [...found].sort().slice(0, limit);
  };
}
