/**
 * The revert strategy: when the crashing function was changed by a recent commit (within the revert window),
 * propose undoing that commit's change blocks inside the crashing function — not the whole commit — and let
 * verification decide, as for any candidate. The commit that introduced the crashing line (blame at the base
 * revision, from the evidence) comes first; a crash that a commit caused by removing a guard leaves no line
 * to blame, so every recent commit that changed the function is considered, most recent first, and finally
 * all of them together (the function as it was before the window).
 *
 * The adapter part is `gitHistory` (src/gitops/history.ts); the decision is revertInFunction (core.ts) on
 * the function found by a BoundaryFinder (boundaries.ts).
 */
import { type CommitInfo, commitFileDiff, commitsTouching } from '../../../gitops/history.ts';
import { safeLine } from '../../../incident/display.ts';
import { innermostRepoFrame } from '../../../incident/paths.ts';
import { sourceMatches } from '../../source-match.ts';
import type { RepairContext } from '../../types.ts';
import type { Proposal, Strategy, StrategyOutcome } from '../types.ts';
import { type BoundaryFinder, type FunctionRange, heuristicBoundaries } from './boundaries.ts';
import { revertInFunction } from './core.ts';
import type { RevertWindow } from './window.ts';

export { type BoundaryFinder, type FunctionRange, heuristicBoundaries } from './boundaries.ts';
export { revertInFunction } from './core.ts';
export { DEFAULT_REVERT_WINDOW_HOURS, type RevertWindow, revertWindow } from './window.ts';

/** Commits examined per incident (each is one git call and one diff). */
const MAX_COMMITS = 8;
/** A commit's diff of one source file bigger than this is not a change to revert in part. */
const MAX_DIFF_CHARS = 4 * 1024 * 1024;
/** Proposals per incident: each costs a sandbox run. */
const MAX_PROPOSALS = 3;

/** What the strategy asks of history. */
export interface RevertHistory {
  /** Non-merge commits that changed `path` since `since` (seconds since the epoch), most recent first. */
  commitsTouching(path: string, since: number): Promise<CommitInfo[]>;
  /** One commit's unified diff of `path` against its parent. */
  fileDiff(sha: string, path: string): Promise<string | undefined>;
}

/** History of `repoDir` as seen from `rev` (the base revision), through the git adapter. */
export function gitHistory(repoDir: string, rev: string): RevertHistory {
  return {
    commitsTouching: (path, since) => commitsTouching(repoDir, rev, path, since, MAX_COMMITS),
    fileDiff: (sha, path) => commitFileDiff(repoDir, sha, path),
  };
}

export interface RevertOptions {
  history: RevertHistory;
  window: RevertWindow;
  boundaries?: BoundaryFinder;
  /** Milliseconds since the epoch; the window ends now. */
  now?: () => number;
}

const CONFIDENCE = { introducedCrashLine: 0.9, changedFunction: 0.8, cumulative: 0.75 } as const;

function describe(fn: FunctionRange, path: string): string {
  return `${fn.name ?? 'the crashing function'} (${path}:${fn.start}-${fn.end})`;
}

export function revertStrategy(opts: RevertOptions): Strategy {
  const boundaries = opts.boundaries ?? heuristicBoundaries;
  const now = opts.now ?? Date.now;
  return {
    name: 'revert',
    async propose(ctx: RepairContext): Promise<StrategyOutcome> {
      const notes: string[] = [];
      const none = (why: string): StrategyOutcome => ({ proposals: [], notes: [...notes, `revert: ${why}`] });
      const { hours, source } = opts.window;
      if (hours <= 0) return none(`off (revert window 0 h, set by ${source})`);
      const frame = ctx.incident.trace ? innermostRepoFrame(ctx.incident.trace) : undefined;
      if (!frame?.repoPath || !frame.line) return none('no frame of the crash is in the repo');
      const path = frame.repoPath;
      const line = frame.line;
      const text = await ctx.readFile(path);
      if (text === undefined) return none(`${path} cannot be read at the base revision`);
      if (!sourceMatches(frame, text)) {
        return none(`${path}:${line} is not the line the trace quotes: the crash happened in another revision`);
      }
      const fn = boundaries.enclosingFunction(path, text, line);
      if (!fn) return none(`no function around ${path}:${line} could be delimited`);

      const since = Math.floor(now() / 1000) - hours * 3600;
      const commits = (await opts.history.commitsTouching(path, since)).slice(0, MAX_COMMITS);
      if (commits.length === 0) return none(`no commit in the last ${hours} h changed ${path}`);
      // The commit git blame names for the crashing line, at the base revision (gathered as evidence).
      const blamed = ctx.evidence.commits.find((c) => c.file === path && c.line === line)?.sha;

      const singles: { commit: CommitInfo; after: string; reverted: number; outside: number }[] = [];
      let cumulative = text;
      let cumulativeRange = fn;
      let cumulated = 0;
      for (const commit of commits) {
        const diff = await opts.history.fileDiff(commit.sha, path);
        if (diff === undefined || diff.length > MAX_DIFF_CHARS) {
          notes.push(`revert: the diff of ${commit.sha.slice(0, 12)} cannot be read or is too big`);
          continue;
        }
        const alone = revertInFunction(text, diff, fn);
        if (alone.ok) singles.push({ commit, after: alone.text, reverted: alone.reverted, outside: alone.outside });
        else notes.push(`revert: ${commit.sha.slice(0, 12)}: ${alone.reason}`);
        // Most recent first: each older commit's change applies to the function as the newer ones left it.
        const together = revertInFunction(cumulative, diff, cumulativeRange);
        if (together.ok) {
          cumulative = together.text;
          cumulativeRange = together.range;
          cumulated++;
        }
      }
      // The commit that introduced the crashing line first, then the most recent.
      singles.sort((a, b) => Number(b.commit.sha === blamed) - Number(a.commit.sha === blamed));
      const proposals: Proposal[] = singles.map((s) => {
        const introduced = s.commit.sha === blamed;
        return {
          strategy: `revert:${s.commit.sha.slice(0, 12)}`,
          summary: safeLine(
            `revert ${s.commit.sha.slice(0, 12)} ("${safeLine(s.commit.subject, 80)}") in ${describe(fn, path)}: ` +
              `${s.reverted} change block(s)${s.outside ? `, ${s.outside} outside the function kept` : ''}` +
              (introduced ? '; it introduced the crashing line' : ''),
            300,
          ),
          confidence: introduced ? CONFIDENCE.introducedCrashLine : CONFIDENCE.changedFunction,
          edits: [{ path, before: text, after: s.after }],
        };
      });
      if (cumulated > 1 && !singles.some((s) => s.after === cumulative) && cumulative !== text) {
        proposals.push({
          strategy: 'revert:window',
          summary: safeLine(
            `revert ${describe(fn, path)} to before the last ${hours} h: ${cumulated} commits' changes inside it`,
            300,
          ),
          confidence: CONFIDENCE.cumulative,
          edits: [{ path, before: text, after: cumulative }],
        });
      }
      if (proposals.length === 0) return none(`no recent commit's change inside ${describe(fn, path)} can be reverted`);
      return { proposals: proposals.slice(0, MAX_PROPOSALS), notes };
    },
  };
}
