/**
 * `suture verify` refuses a patch that would create or change anything but a regular file before anything
 * is applied or run: exit 2, one line, and nothing a link points at reaches the output.
 */
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, cli, git, repoFromService, SERVICES, tempDir, writeIn } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

async function verify(patch: string, prepare?: (repo: string) => Promise<void>) {
  const repo = await repoFromService('pricing-api');
  const d = tempDir();
  made.push(repo, d);
  await prepare?.(repo);
  return cli(
    [
      'verify',
      '--repo',
      repo,
      '--incident',
      join(SERVICES, 'pricing-api', 'incident.json'),
      '--patch',
      writeIn(d, 'c.diff', patch),
      '--json',
    ],
    { SUTURE_PLANTED: 'planted-secret-77ab' },
  );
}

describe('suture verify refuses non-regular-file patches', () => {
  it.each([
    [
      'a test file added as a symlink to the process environment',
      'diff --git a/tests/test_env.py b/tests/test_env.py\nnew file mode 120000\nindex 0000000..1111111\n--- /dev/null\n+++ b/tests/test_env.py\n@@ -0,0 +1 @@\n+/proc/self/environ\n\\ No newline at end of file\n',
      /symbolic link \(a\/tests\/test_env.py b\/tests\/test_env.py\)/,
    ],
    [
      'a binary hunk',
      'diff --git a/tests/x.bin b/tests/x.bin\nnew file mode 100644\nindex 0000000..8835708\nGIT binary patch\nliteral 2\nJcmZQz1ONa700IC2\n\nliteral 0\nHcmV?d00001\n\n--- a\n+++ b\n@@ -0,0 +1 @@\n',
      /binary content/,
    ],
  ])('%s → exit 2, one line', async (_what, patch, message) => {
    const r = await verify(patch);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
  });

  it('a text change to a committed symlink (git would rewrite its target) → exit 2, nothing leaks', async () => {
    const r = await verify(
      '--- a/tests/test_link.py\n+++ b/tests/test_link.py\n@@ -1 +1 @@\n-../pricing.py\n\\ No newline at end of file\n+/proc/self/environ\n\\ No newline at end of file\n',
      async (repo) => {
        symlinkSync('../pricing.py', join(repo, 'tests', 'test_link.py'));
        await git(repo, 'add', '-A');
        await git(repo, 'commit', '-q', '-m', 'link');
      },
    );
    expect(r.exitCode).toBe(2);
    expect(r.stderr.trim().split('\n').pop()).toMatch(/symbolic link or special file of the tree: tests\/test_link.py/);
    expect(r.stdout + r.stderr).not.toContain('planted-secret-77ab');
  });
});
