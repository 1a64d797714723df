/**
 * Reads the part of a repository test detection looks at, within bounds: runner configuration, package
 * manifests, conftest.py files, a sample of the existing tests (nearest the crashing file first), the
 * trace's source files, and the modules those tests import an app from. Adapter: the reads go through the
 * caller's `readFile` (git blobs or confined reads), never the filesystem directly.
 */
import { posix } from 'node:path';
import { listTree, readTextInTree } from '../../sandbox/confined.ts';
import { type RepoView, viewOf } from './repo-view.ts';

export const GATHER_LIMITS = { fileBytes: 512 * 1024, tests: 60, files: 200 };

const CONFIG =
  /(^|\/)(package\.json|pytest\.ini|\.pytest\.ini|pyproject\.toml|tox\.ini|setup\.cfg|requirements[\w.-]*\.txt|conftest\.py|(jest|vitest|vite)\.config\.[cm]?[jt]s(on)?|\.mocharc(\.[\w]+)?)$/;
const TEST =
  /(^|\/)(tests?|__tests__|spec)\/.*\.(py|[cm]?[jt]sx?)$|(^|\/)test_[^/]*\.py$|_test\.py$|[.\-_](test|spec)\.[cm]?[jt]sx?$/;

function depth(p: string): number {
  return p.split('/').length;
}

function sharedPrefix(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  let n = 0;
  while (n < x.length - 1 && n < y.length - 1 && x[n] === y[n]) n++;
  return n;
}

export async function gatherRepoView(
  repoFiles: string[],
  readFile: (p: string) => Promise<string | undefined>,
  hints: { sources: string[] },
): Promise<RepoView> {
  const files = repoFiles.filter((f) => !f.split('/').includes('node_modules'));
  const texts = new Map<string, string>();
  const read = async (p: string) => {
    if (texts.has(p) || texts.size >= GATHER_LIMITS.files || !files.includes(p)) return;
    const t = await readFile(p);
    if (t !== undefined && t.length <= GATHER_LIMITS.fileBytes) texts.set(p, t);
  };
  for (const f of files.filter((f) => CONFIG.test(f) && depth(f) <= 4)) await read(f);
  for (const s of hints.sources) await read(s);
  const near = hints.sources[0] ?? '';
  const tests = files
    .filter((f) => TEST.test(f))
    .sort((a, b) => sharedPrefix(b, near) - sharedPrefix(a, near) || depth(a) - depth(b) || (a < b ? -1 : 1))
    .slice(0, GATHER_LIMITS.tests);
  for (const t of tests) await read(t);
  // the modules the tests import an app from (`from app import create_app`)
  for (const t of tests) {
    const text = texts.get(t) ?? '';
    for (const m of text.matchAll(/^\s*from\s+([\w.]+)\s+import\b/gm)) {
      const rel = m[1]!.split('.').join('/');
      for (const root of ['', 'src', posix.dirname(t)]) {
        const base = root && root !== '.' ? `${root}/${rel}` : rel;
        await read(`${base}.py`);
        await read(`${base}/__init__.py`);
      }
    }
  }
  return viewOf(files, texts);
}

/** The same view of a checked-out tree (the sandbox's base tree), read confined to it. */
export function repoViewOfTree(tree: string): RepoView {
  const files = [...listTree(tree).entries()].filter(([, k]) => k === 'file').map(([p]) => p);
  const cache = new Map<string, string | undefined>();
  return {
    files,
    read(p) {
      if (!cache.has(p)) cache.set(p, readTextInTree(tree, p, GATHER_LIMITS.fileBytes));
      return cache.get(p);
    },
  };
}
