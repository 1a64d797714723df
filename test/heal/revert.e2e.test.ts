/**
 * End to end through `suture heal` (issue 10, items 4, 7 and 8) on a repo whose crash a recent commit
 * introduced (test/fixtures/regressions/discount-api): the revert strategy's candidate passes verification
 * and is chosen; the knowledge store remembers it and offers it first when the crash comes back; an
 * incident naming the revision that crashed is healed from that commit, whatever HEAD holds now.
 */
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, cli, commitDated, FIXTURES, git, tempDir, writeIn } from '../helpers/repo.ts';

const FIXTURE = join(FIXTURES, 'regressions', 'discount-api');
const INCIDENT = join(FIXTURE, 'incident.json');
const made: string[] = [];
afterAll(() => cleanup(...made));

/** The service a month ago, then the recent commit that broke it (3 h ago). */
async function regressionRepo() {
  const dir = tempDir('suture-discount-api-');
  made.push(dir);
  cpSync(join(FIXTURE, 'base'), dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  const old = await commitDated(dir, 24 * 30, 'discount-api: quotes with discounts');
  cpSync(join(FIXTURE, 'recent'), dir, { recursive: true });
  const recent = await commitDated(dir, 3, 'pricing: simplify average_discount, name the currency');
  return { dir, old, recent };
}

const heal = (repo: string, state: string, incident = INCIDENT, ...extra: string[]) =>
  cli(['heal', '--repo', repo, '--incident', incident, '--state', state, '--json', ...extra]);

interface Out {
  status: string;
  chosen: string;
  branch: string;
  commit: string;
  incident: { fingerprint: string; revision?: string };
  notes: string[];
  candidates: { id: string; strategy: string; summary: string; verdict: { verdict: string } | null }[];
}

const chosenOf = (out: Out) => out.candidates.find((c) => c.id === out.chosen)!;

describe('a regression introduced by a recent commit', () => {
  let first: { repo: string; state: string; out: Out; recent: string };

  it('revert wins: the commit undone inside the crashing function only, verified, on a branch', async () => {
    const { dir: repo, recent } = await regressionRepo();
    const state = tempDir('suture-state-');
    made.push(state);
    const r = await heal(repo, state);
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Out;
    expect(out.status).toBe('proposed');
    const chosen = chosenOf(out);
    expect(chosen.strategy).toBe(`revert:${recent.slice(0, 12)}`);
    expect(chosen.verdict?.verdict).toBe('pass');
    expect(chosen.summary).toMatch(/average_discount \(pricing\.py:4-5\).*introduced the crashing line/);
    // Every candidate is listed with its verdict: the revert competed with the templates and won.
    expect(out.candidates.every((c) => c.verdict !== null)).toBe(true);

    // Not the whole commit: the guard is back, the currency (same commit, other function) and its test stay.
    const fixed = await git(repo, 'show', `${out.branch}:pricing.py`);
    expect(fixed).toContain(
      '    if not discounts:\n        return 0.0\n    total = sum(d["percent"] for d in discounts)\n',
    );
    expect(fixed).toContain('"currency": cart.get("currency", "EUR")');
    expect(await git(repo, 'show', `${out.branch}:tests/test_pricing.py`)).toContain('test_quote_names_its_currency');
    const changed = (await git(repo, 'diff', '--name-only', recent, out.branch)).split('\n');
    expect(changed).toContain('pricing.py');
    expect(changed.filter((f) => f !== 'pricing.py').every((f) => /suture/.test(f))).toBe(true);
    first = { repo, state, out, recent };
  });

  it('the knowledge store remembers it, and the crash coming back gets that fix first', async () => {
    expect(first, 'needs the first test').toBeDefined();
    const { repo, state, out } = first;
    const list = await cli(['knowledge', 'list', '--state', state, '--json']);
    expect(list.exitCode, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout).entries).toEqual([
      expect.objectContaining({
        fingerprint: out.incident.fingerprint,
        service: 'discount-api',
        runs: 1,
        lastStatus: 'proposed',
        fix: expect.objectContaining({ strategy: chosenOf(out).strategy, status: 'proposed' }),
      }),
    ]);
    const show = await cli(['knowledge', 'show', out.incident.fingerprint.slice(0, 12), '--state', state]);
    expect(show.exitCode, show.stderr).toBe(0);
    expect(show.stdout).toContain(`* ${out.chosen} ${chosenOf(out).strategy}: pass`);
    expect(show.stdout).toContain('+    if not discounts:');

    // The branch was merged and deleted, the crash is back: the earlier fix is candidate c1, and it wins again.
    await git(repo, 'branch', '-D', out.branch);
    const again = await heal(repo, state);
    expect(again.exitCode, again.stderr).toBe(0);
    const second = JSON.parse(again.stdout) as Out;
    expect(second.status).toBe('proposed');
    expect(second.candidates[0]).toMatchObject({
      id: 'c1',
      strategy: `knowledge:${chosenOf(out).strategy}`,
      verdict: expect.objectContaining({ verdict: 'pass' }),
    });
    expect(second.chosen).toBe('c1');
    const shown = JSON.parse(
      (await cli(['knowledge', 'show', out.incident.fingerprint, '--state', state, '--json'])).stdout,
    );
    expect(shown.heals.map((h: { status: string }) => h.status)).toEqual(['proposed', 'proposed']);
  });

  it("heals the incident's revision, not HEAD, when the incident names it", async () => {
    const { dir: repo, recent } = await regressionRepo();
    // HEAD moved on: a new function above shifts every line the trace names.
    const pricing = readFileSync(join(repo, 'pricing.py'), 'utf8').replace(
      '\n\ndef average_discount',
      '\n\ndef percent(d):\n    return d["percent"]\n\n\ndef average_discount',
    );
    writeFileSync(join(repo, 'pricing.py'), pricing);
    await commitDated(repo, 1, 'pricing: percent helper');
    const state = tempDir('suture-state-');
    made.push(state);
    const incident = JSON.parse(readFileSync(INCIDENT, 'utf8'));
    const file = writeIn(state, 'incident.json', JSON.stringify({ ...incident, revision: recent }));
    const r = await heal(repo, state, file, '--mode', 'observe');
    expect(r.exitCode, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as Out;
    expect(out.incident.revision).toBe(recent);
    expect(out.status).toBe('observed');
    expect(chosenOf(out).verdict?.verdict).toBe('pass');
    expect(r.stderr).toContain(`healing the incident's revision ${recent}`);
    // At HEAD the trace's lines say something else: that is noted, not patched.
    const atHead = await heal(repo, state, INCIDENT, '--mode', 'observe');
    const headOut = JSON.parse(atHead.stdout) as Out;
    expect(headOut.notes.join('\n')).toMatch(
      /pricing\.py:5 at the revision being healed is not the line the trace quotes/,
    );
  });

  it('an unknown revision is bad input: exit 2, one line, nothing made', async () => {
    const { dir: repo } = await regressionRepo();
    const state = tempDir('suture-state-');
    made.push(state);
    const incident = JSON.parse(readFileSync(INCIDENT, 'utf8'));
    for (const revision of ['0123456789abcdef0123456789abcdef01234567', 'v9.9.9']) {
      const file = writeIn(state, 'incident.json', JSON.stringify({ ...incident, revision }));
      const r = await heal(repo, state, file);
      expect(r.exitCode).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(new RegExp(`the incident's revision ${revision} is not a commit in`));
      // suture verify judges a patch against the same revision, so the same answer.
      const patch = writeIn(state, 'fix.diff', '--- a/pricing.py\n+++ b/pricing.py\n@@ -1 +1 @@\n-x\n+y\n');
      const v = await cli(['verify', '--repo', repo, '--incident', file, '--patch', patch]);
      expect(v.exitCode).toBe(2);
      expect(v.stderr).toMatch(new RegExp(`the incident's revision ${revision} is not a commit in`));
    }
    const file = writeIn(state, 'incident.json', JSON.stringify({ ...incident, revision: '--output=/tmp/x' }));
    const bad = await heal(repo, state, file);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim()).toMatch(/crash report: revision: must not start with "-"$/);
    expect(await git(repo, 'branch', '--format=%(refname:short)')).toBe('main');
  });
});
