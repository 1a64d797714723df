/** `suture verify` as a user runs it: the DESIGN.md verdict shape, and bad patch files as exit 2. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, cli, git, repoFromService, SERVICES, tempDir, writeIn } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));
const incident = join(SERVICES, 'pricing-api', 'incident.json');

describe('suture verify', () => {
  it('passes the real fix (as git diff prints it) and fails a patch that fixes nothing', async () => {
    const repo = await repoFromService('pricing-api');
    const d = tempDir();
    made.push(repo, d);
    // Write the fix by hand in a scratch branch and take its diff, as a user would.
    await git(repo, 'checkout', '-q', '-b', 'fix');
    const pricing = join(repo, 'pricing.py');
    const { readFileSync } = await import('node:fs');
    writeFileSync(
      pricing,
      readFileSync(pricing, 'utf8').replace(
        '    return total / len(discounts)',
        '    return total / len(discounts) if discounts else 0',
      ),
    );
    const good = join(d, 'good.diff');
    writeFileSync(good, await git(repo, 'diff'));
    await git(repo, 'checkout', '-q', '--', 'pricing.py');
    writeFileSync(join(repo, 'README.md'), 'docs\n');
    await git(repo, 'add', 'README.md');
    const useless = join(d, 'useless.diff');
    writeFileSync(useless, `${await git(repo, 'diff', '--cached')}\n`);
    await git(repo, 'reset', '-q', '--hard');
    await git(repo, 'checkout', '-q', 'main');

    const ok = await cli(['verify', '--repo', repo, '--incident', incident, '--patch', good, '--json']);
    expect(ok.exitCode, ok.stderr).toBe(0);
    const v = JSON.parse(ok.stdout);
    expect(Object.keys(v)).toEqual(
      expect.arrayContaining([
        'verdict',
        'reproduced',
        'fixed',
        'testsPassed',
        'regressionTest',
        'differential',
        'reasons',
        'durationMs',
      ]),
    );
    expect(v).toMatchObject({
      verdict: 'pass',
      reproduced: true,
      fixed: true,
      testsPassed: true,
      regressionTest: null,
    });
    expect(v.differential).toMatchObject({ status: 'compared', compared: 2, mismatches: [] });
    expect(v.fixedStatusClass).toBe('2xx');
    expect(v.reasons).toContain('the candidate has no regression test');

    const bad = await cli(['verify', '--repo', repo, '--incident', incident, '--patch', useless, '--json']);
    expect(bad.exitCode, bad.stderr).toBe(0);
    const w = JSON.parse(bad.stdout);
    expect(w).toMatchObject({ verdict: 'fail', reproduced: true, fixed: false });
    expect(w.reasons[0]).toMatch(/still fail/);
  });

  it('rejects patch files that are missing, empty, not a diff, or do not apply', async () => {
    const repo = await repoFromService('pricing-api');
    const d = tempDir();
    made.push(repo, d);
    const write = (name: string, text: string) => writeIn(d, name, text);
    const cases: [string, RegExp][] = [
      [join(d, 'none.diff'), /patch file not found/],
      [write('empty.diff', '\n'), /is empty/],
      [write('prose.diff', 'please divide carefully\n'), /is not a unified diff/],
      [
        write('stale.diff', '--- a/pricing.py\n+++ b/pricing.py\n@@ -1,1 +1,1 @@\n-no such line\n+x\n'),
        /patch does not apply/,
      ],
      [
        write('escape.diff', '--- a/../../etc/passwd\n+++ b/../../etc/passwd\n@@ -1,1 +1,1 @@\n-root\n+evil\n'),
        /patch does not apply/,
      ],
    ];
    for (const [patch, message] of cases) {
      const r = await cli(['verify', '--repo', repo, '--incident', incident, '--patch', patch, '--json'], {
        SUTURE_QUIET: '1',
      });
      expect(r.exitCode, patch).toBe(2);
      expect(r.stderr.trim()).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stdout).toBe('');
    }
  });
});
