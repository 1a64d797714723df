/** The slice of a repository test detection reads: its file list and the text of the files it asks for. */
import { posix } from 'node:path';

export interface RepoView {
  /** Repo-relative POSIX paths at the base revision. */
  files: string[];
  /** A file's text, when it was gathered (configs, tests, the sources the trace names); else undefined. */
  read(path: string): string | undefined;
}

export function viewOf(files: string[], texts: Map<string, string> | Record<string, string>): RepoView {
  const map = texts instanceof Map ? texts : new Map(Object.entries(texts));
  return { files, read: (p) => map.get(p) };
}

/** `a/b` joined and normalised, '' for the root; undefined when it leaves the repo. */
export function joinRel(dir: string, p: string): string | undefined {
  const n = posix.normalize(posix.join(dir || '.', p.replace(/^\.\/+/, ''))).replace(/\/+$/, '');
  if (n === '.' || n === '') return '';
  if (n.startsWith('../') || n === '..' || posix.isAbsolute(n)) return undefined;
  return n;
}

/** Whether `p` is `dir` itself or inside it ('' holds everything). */
export function within(p: string, dir: string): boolean {
  return dir === '' || p === dir || p.startsWith(`${dir}/`);
}

export function relTo(p: string, dir: string): string {
  return dir === '' ? p : p.slice(dir.length + 1);
}

export function dirOf(p: string): string {
  const d = posix.dirname(p);
  return d === '.' ? '' : d;
}

export function isDir(view: RepoView, p: string): boolean {
  return p === '' || view.files.some((f) => f.startsWith(`${p}/`));
}
