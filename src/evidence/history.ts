/**
 * The commits that last touched the crashing lines: git blame on the base revision, run through the git
 * adapter (in suture's shadow git dir, without textconv and without the repository's attributes or config).
 */
import { gitRepo, tryGitIn } from '../gitops/git.ts';

export interface CommitRef {
  sha: string;
  author: string;
  date: string;
  subject: string;
  file: string;
  line: number;
}

export async function blameLine(
  repoDir: string,
  rev: string,
  file: string,
  line: number,
): Promise<CommitRef | undefined> {
  const repo = await gitRepo(repoDir).catch(() => null);
  if (!repo) return undefined;
  const r = await tryGitIn(repo, ['blame', '--porcelain', '-L', `${line},${line}`, rev, '--', file]);
  if (r.exitCode !== 0) return undefined;
  const out = r.stdout;
  const sha = out.slice(0, Math.max(0, out.indexOf(' ')));
  const field = (k: string) => new RegExp(`^${k} (.*)$`, 'm').exec(out)?.[1] ?? '';
  const time = Number(field('author-time'));
  return {
    sha,
    author: field('author'),
    date: time ? new Date(time * 1000).toISOString() : '',
    subject: field('summary'),
    file,
    line,
  };
}
