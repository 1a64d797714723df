/**
 * Code excerpts around in-repo frames. Reads only through the repo root: the resolved real path must stay
 * inside it, so a symlink in the repo cannot make suture read (and later send) a file from elsewhere.
 */
import { readFile, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface Excerpt {
  file: string;
  /** 1-based line of the frame. */
  line: number;
  startLine: number;
  lines: string[];
  function?: string;
}

export async function readRepoFile(root: string, repoPath: string): Promise<string | undefined> {
  try {
    const realRoot = await realpath(root);
    const real = await realpath(join(realRoot, repoPath));
    const rel = relative(realRoot, real);
    if (rel.startsWith('..') || rel.startsWith(sep) || rel === '') return undefined;
    return await readFile(real, 'utf8');
  } catch {
    return undefined;
  }
}

export async function excerptAround(
  root: string,
  repoPath: string,
  line: number,
  context = 8,
  fn?: string,
): Promise<Excerpt | undefined> {
  const text = await readRepoFile(root, repoPath);
  if (text === undefined) return undefined;
  const all = text.split('\n');
  const startLine = Math.max(1, line - context);
  const end = Math.min(all.length, line + context);
  return { file: repoPath, line, startLine, lines: all.slice(startLine - 1, end), ...(fn ? { function: fn } : {}) };
}
