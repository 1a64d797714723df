/**
 * History questions the repair strategies ask, through the git adapter (git.ts: suture's shadow git dir,
 * never the repository's config, attributes, textconv or external diff): which recent commits changed a
 * file, and what one commit did to it. Commit messages and diffs are repository content, returned as data.
 */
import { gitRepo, tryGitIn } from './git.ts';

/** A path is that file: a `*` or `:(glob)` in a repository's file name is no pathspec magic. */
const LITERAL = { env: { GIT_LITERAL_PATHSPECS: '1' } };

export interface CommitInfo {
  sha: string;
  /** Committer time, seconds since the epoch: when the change landed where it is. */
  committedAt: number;
  subject: string;
}

/** Records of `rev-list --format`: a `commit <sha>` line, then ours (NUL-separated fields). */
const FORMAT = '%H%x00%ct%x00%s';

/**
 * Non-merge commits reachable from `rev` that changed `path`, committed at or after `since` (seconds since
 * the epoch), most recent first, at most `max`. Empty when git cannot answer (a shallow clone's boundary,
 * an unknown path).
 */
export async function commitsTouching(
  repoDir: string,
  rev: string,
  path: string,
  since: number,
  max = 20,
): Promise<CommitInfo[]> {
  const repo = await gitRepo(repoDir);
  const r = await tryGitIn(
    repo,
    [
      'rev-list',
      '--no-merges',
      `--max-count=${max}`,
      `--max-age=${Math.max(0, Math.floor(since))}`,
      `--format=${FORMAT}`,
      '--end-of-options',
      rev,
      '--',
      path,
    ],
    LITERAL,
  );
  if (r.exitCode !== 0) return [];
  const out: CommitInfo[] = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.includes('\0')) continue;
    const [sha, time, subject] = line.split('\0');
    if (!sha || !/^[0-9a-f]{40,64}$/.test(sha)) continue;
    out.push({ sha, committedAt: Number(time), subject: subject ?? '' });
  }
  return out;
}

/**
 * What commit `sha` did to `path`: its unified diff against its parent (against nothing for a root
 * commit), three lines of context, no rename detection, no textconv. Undefined when git cannot answer.
 */
export async function commitFileDiff(repoDir: string, sha: string, path: string): Promise<string | undefined> {
  const repo = await gitRepo(repoDir);
  const r = await tryGitIn(
    repo,
    [
      'diff-tree',
      '-p',
      '--root',
      '--no-commit-id',
      '--no-renames',
      '--no-color',
      '--unified=3',
      '--end-of-options',
      sha,
      '--',
      path,
    ],
    LITERAL,
  );
  return r.exitCode === 0 ? r.stdout : undefined;
}
