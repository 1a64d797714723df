/** The commits that last touched the crashing lines (git blame on the base revision). */
import { execa } from 'execa';

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
  const r = await execa('git', ['blame', '--porcelain', '-L', `${line},${line}`, rev, '--', file], {
    cwd: repoDir,
    reject: false,
  });
  if (r.exitCode !== 0) return undefined;
  const out = r.stdout;
  const sha = out.slice(0, 40);
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
