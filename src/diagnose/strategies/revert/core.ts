/**
 * Reverting one commit's changes inside one function, not the whole commit. Given the file at the base
 * revision, the commit's diff of that file (git's unified diff, with context) and the function's lines at
 * base, it undoes exactly the commit's change blocks that fall inside the function and leaves every other
 * line of the file — other functions the commit touched, later commits' work — as it is at base. Pure.
 *
 * Each change block (a run of `-`/`+` lines) is found in the base file by its new side with the context
 * around it, nearest to where the diff puts it (the file may have moved since), as `patch` does; when later
 * commits have edited those very lines, the block no longer applies and the revert is refused, never
 * guessed. A block that rewrites the function's header (its name, its parameters) is not reverted: callers
 * written since may depend on it, and a revert that removes the whole function is no fix. A block that runs
 * past the function's end is not split: the revert is refused.
 */
import { parsePatch } from 'diff';
import type { FunctionRange } from './boundaries.ts';

export interface RevertResult {
  /** The base file with the blocks reverted. */
  text: string;
  /** Change blocks of the commit reverted (inside the function). */
  reverted: number;
  /** Change blocks of the commit left alone (outside the function). */
  outside: number;
  /** The function's lines in `text`. */
  range: FunctionRange;
}

export type RevertOutcome = ({ ok: true } & RevertResult) | { ok: false; reason: string };

/** Change blocks in one commit's diff of one file beyond which nothing is reverted (each is searched for). */
export const MAX_BLOCKS = 2000;

interface Block {
  /** Context before, the lines the commit removed, the lines it added, context after. */
  before: string[];
  removed: string[];
  added: string[];
  after: string[];
  /** 0-based index in the commit's version of the file where `before` starts. */
  expected: number;
}

/** A hunk's lines cut into change blocks, each with up to `context` lines of context on either side. */
function blocksOf(hunk: { newStart: number; lines: string[] }, context = 3): Block[] {
  const lines = hunk.lines.filter((l) => !l.startsWith('\\')); // "\ No newline at end of file"
  const blocks: Block[] = [];
  let newLine = hunk.newStart - 1; // 0-based position in the new file of lines[i] (for ' ' and '+')
  let i = 0;
  while (i < lines.length) {
    if (lines[i]!.startsWith(' ')) {
      i++;
      newLine++;
      continue;
    }
    // A change block starts at i: context before it is the ' ' lines just above, in this hunk.
    const before: string[] = [];
    for (let k = i - 1; k >= 0 && lines[k]!.startsWith(' ') && before.length < context; k--) {
      before.unshift(lines[k]!.slice(1));
    }
    const removed: string[] = [];
    const added: string[] = [];
    const start = newLine;
    while (i < lines.length && !lines[i]!.startsWith(' ')) {
      const l = lines[i]!;
      if (l.startsWith('-')) removed.push(l.slice(1));
      else {
        added.push(l.slice(1));
        newLine++;
      }
      i++;
    }
    const after: string[] = [];
    for (let k = i; k < lines.length && lines[k]!.startsWith(' ') && after.length < context; k++) {
      after.push(lines[k]!.slice(1));
    }
    blocks.push({ before, removed, added, after, expected: start - before.length });
  }
  return blocks;
}

function matchesAt(base: string[], at: number, seq: string[]): boolean {
  if (at < 0 || at + seq.length > base.length) return false;
  for (let k = 0; k < seq.length; k++) if (base[at + k] !== seq[k]) return false;
  return true;
}

/**
 * Where the block's new side (context and added lines) sits in `base`, nearest to `expected`; with less
 * context when the full context no longer matches (at least one line of context, or the added lines
 * alone when there are some). Returns the 0-based index of its first added line (or where a pure
 * deletion is to be undone), or -1.
 */
function locate(base: string[], b: Block): number {
  for (let trim = 0; trim <= 3; trim++) {
    const before = b.before.slice(Math.min(trim, b.before.length));
    const after = b.after.slice(0, Math.max(0, b.after.length - trim));
    const seq = [...before, ...b.added, ...after];
    // A pure deletion needs context on some side to be placed at all.
    if (seq.length === 0 || (b.added.length === 0 && before.length + after.length === 0)) break;
    const expected = b.expected + (b.before.length - before.length);
    for (let d = 0; d <= base.length; d++) {
      for (const at of d === 0 ? [expected] : [expected - d, expected + d]) {
        if (matchesAt(base, at, seq)) return at + before.length;
      }
      if (expected - d < 0 && expected + d + seq.length > base.length) break;
    }
    if (trim >= b.before.length && trim >= b.after.length) break;
  }
  return -1;
}

/**
 * Reverts the change blocks of `diff` (one file's unified diff, as `git diff-tree -p` prints it) that lie
 * inside `fn` (lines of `base`). A block inside the function that no longer applies to `base` refuses the
 * whole revert; blocks outside it are never looked at beyond finding where they are.
 */
export function revertInFunction(base: string, diff: string, fn: FunctionRange): RevertOutcome {
  let patches: ReturnType<typeof parsePatch>;
  try {
    patches = parsePatch(diff);
  } catch (err) {
    return { ok: false, reason: `the commit's diff cannot be read (${(err as Error).message.split('\n')[0]})` };
  }
  const hunks = patches.flatMap((p) => p.hunks);
  if (patches.length !== 1 || hunks.length === 0) {
    return { ok: false, reason: 'the commit changes no text in this file' };
  }
  if (patches[0]!.oldFileName === '/dev/null') return { ok: false, reason: 'the commit created this file' };
  const blocks = hunks.flatMap((h) => blocksOf(h));
  if (blocks.length > MAX_BLOCKS)
    return { ok: false, reason: `the commit changes this file in ${blocks.length} places` };
  const lines = base.split('\n');
  const chosen: { at: number; block: Block }[] = [];
  let outside = 0;
  let headerChanged = false;
  for (const block of blocks) {
    const at = locate(lines, block);
    if (at < 0) {
      // Where it would be, by the diff's numbers: inside the function, a block that does not apply refuses.
      const guess = block.expected + block.before.length + 1;
      if (guess >= fn.start && guess <= fn.end) {
        return {
          ok: false,
          reason: 'later commits changed the same lines of the function; its change no longer applies',
        };
      }
      outside++;
      continue;
    }
    // 1-based lines of base the block's added lines occupy; a pure deletion sits between `at` and `at + 1`.
    const first = at + 1;
    const last = at + block.added.length;
    const inside = block.added.length > 0 ? first <= fn.end && last >= fn.start : at >= fn.start && at <= fn.end;
    if (!inside) {
      outside++;
      continue;
    }
    if (block.added.length > 0 && first <= fn.start && last >= fn.start) {
      headerChanged = true;
      continue;
    }
    // One change that runs past the function's end (into the next function, say): undoing it would touch
    // lines outside the function, and undoing half of it cannot be matched to what it replaced.
    if (last > fn.end) {
      return { ok: false, reason: "the commit's change runs past the end of this function; it is not split" };
    }
    chosen.push({ at, block });
  }
  if (chosen.length === 0) {
    return {
      ok: false,
      reason: headerChanged
        ? "the commit's change to this function includes its header (name or parameters); it is not reverted"
        : 'the commit changed nothing inside this function',
    };
  }
  chosen.sort((a, b) => a.at - b.at);
  for (let k = 1; k < chosen.length; k++) {
    const prev = chosen[k - 1]!;
    if (prev.at + prev.block.added.length > chosen[k]!.at) {
      return { ok: false, reason: "the commit's changes to this function overlap once placed in the current file" };
    }
  }
  // Bottom up, so the indexes of the blocks above stay valid.
  let delta = 0;
  for (const { at, block } of [...chosen].reverse()) {
    lines.splice(at, block.added.length, ...block.removed);
    delta += block.removed.length - block.added.length;
  }
  const range = { ...fn, end: fn.end + delta };
  return { ok: true, text: lines.join('\n'), reverted: chosen.length, outside, range };
}
