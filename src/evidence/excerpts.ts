/**
 * Code excerpts around in-repo frames. Reads are confined to the tree (src/sandbox/confined.ts): a symlink
 * or special file in the repo never makes suture read (and later send) anything, and sizes are capped.
 */
import { readTextInTree } from '../sandbox/confined.ts';

/** Source files bigger than this are not read for excerpts or diagnosis. */
export const SOURCE_MAX_BYTES = 2 * 1024 * 1024;

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
    return readTextInTree(root, repoPath, SOURCE_MAX_BYTES);
  } catch {
    return undefined; // the root itself is gone
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
