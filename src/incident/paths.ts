/**
 * Maps the paths in a stack trace (the container's: /srv/<svc>/x.py, /app/..., /usr/src/app/..., file:// URLs)
 * to files of the repo by the longest suffix match on path components. A tie between two repo files is
 * left unresolved rather than guessed, and only files the repo lists can ever be the answer, so a frame
 * can never resolve outside the repo root.
 */
import type { ParsedTrace, StackFrame } from './types.ts';

function components(p: string): string[] {
  return p
    .replace(/^file:\/\//, '')
    .replace(/\\/g, '/')
    .split('/')
    .filter((c) => c !== '' && c !== '.');
}

export interface PathIndex {
  resolve(tracePath: string): string | undefined;
}

/** Builds a suffix index over repo-relative POSIX paths (as `git ls-tree -r --name-only` prints them). */
export function buildPathIndex(repoFiles: string[]): PathIndex {
  const byBase = new Map<string, string[][]>();
  for (const f of repoFiles) {
    const parts = components(f);
    if (parts.includes('..')) continue;
    const base = parts[parts.length - 1];
    if (!base) continue;
    const list = byBase.get(base) ?? [];
    list.push(parts);
    byBase.set(base, list);
  }
  return {
    resolve(tracePath: string): string | undefined {
      const parts = components(tracePath);
      if (parts.includes('..')) return undefined;
      const candidates = byBase.get(parts[parts.length - 1] ?? '');
      if (!candidates) return undefined;
      // Rank: a candidate whose every component matched (the container path may be longer) beats one that
      // disagrees on a directory; then the longer matched suffix wins.
      let best: string[] | undefined;
      let bestScore = -1;
      let tie = false;
      for (const cand of candidates) {
        let n = 0;
        while (n < cand.length && n < parts.length && cand[cand.length - 1 - n] === parts[parts.length - 1 - n]) n++;
        const consistent = n === cand.length || n === parts.length;
        const score = (consistent ? 1000 : 0) + n;
        if (score > bestScore) {
          best = cand;
          bestScore = score;
          tie = false;
        } else if (score === bestScore) {
          tie = true;
        }
      }
      return best && !tie ? best.join('/') : undefined;
    },
  };
}

const EXTERNAL = [/(^|\/)(site-packages|dist-packages|node_modules)\//, /^node:/, /^<[^>]+>$/, /^internal\//];

/** Sets `repoPath` / `external` on every frame of the trace and its causes. */
export function mapTrace(trace: ParsedTrace, index: PathIndex): ParsedTrace {
  const frames: StackFrame[] = trace.frames.map((f) => {
    if (f.external || EXTERNAL.some((re) => re.test(f.file))) return { ...f, external: true, repoPath: undefined };
    const repoPath = index.resolve(f.file);
    return repoPath ? { ...f, external: false, repoPath } : { ...f, external: true, repoPath: undefined };
  });
  return { ...trace, frames, ...(trace.cause ? { cause: mapTrace(trace.cause, index) } : {}) };
}

/** The innermost frame that belongs to the repo (where the crash surfaced in the team's own code). */
export function innermostRepoFrame(trace: ParsedTrace): StackFrame | undefined {
  for (let i = trace.frames.length - 1; i >= 0; i--) {
    const f = trace.frames[i]!;
    if (!f.external && f.repoPath) return f;
  }
  return undefined;
}
