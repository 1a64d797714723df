/**
 * The revert strategy on real git history (issue 10, item 4): commits with controlled dates, history read
 * through the git adapter, the crash line blamed at the base revision as the evidence stage does.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gitHistory, revertStrategy, revertWindow } from '../../src/diagnose/strategies/revert/index.ts';
import type { RepairContext } from '../../src/diagnose/types.ts';
import { gatherEvidence } from '../../src/evidence/index.ts';
import { closeGitRepos } from '../../src/gitops/git.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { cleanup, commitDated, git, tempDir } from '../helpers/repo.ts';
import { GUARDED, REWRITTEN, UNGUARDED } from './revert-fixture.ts';

const made: string[] = [];
afterAll(async () => {
  await closeGitRepos();
  cleanup(...made);
});

function traceback(text: string, code: string) {
  const line = text.split('\n').findIndex((l) => l.includes(code)) + 1;
  return `Traceback (most recent call last):\n  File "/srv/app/pricing.py", line ${line}, in average_discount\n    ${code}\nZeroDivisionError: division by zero\n`;
}

async function contextFor(repo: string, logs: string): Promise<RepairContext> {
  const head = await git(repo, 'rev-parse', 'HEAD');
  const files = (await git(repo, 'ls-files')).split('\n');
  const incident = buildIncident({ kind: 'crash', service: 'pricing', logs }, files);
  const evidence = await gatherEvidence({ incident, treeDir: repo, repoDir: repo, rev: head });
  return {
    incident,
    evidence,
    config: { service: 'pricing' } as RepairContext['config'],
    repoFiles: files,
    readFile: async (p) => readFileSync(join(repo, p), 'utf8'),
  };
}

async function repoWith(history: [number, string, Record<string, string>][]) {
  const dir = tempDir('suture-revert-');
  made.push(dir);
  await git(dir, 'init', '-q', '-b', 'main');
  const shas: string[] = [];
  for (const [ago, msg, files] of history) {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    shas.push(await commitDated(dir, ago, msg));
  }
  return { dir, shas, head: shas.at(-1)! };
}

const strategyFor = (repo: string, head: string, hours = 72) =>
  revertStrategy({ history: gitHistory(repo, head), window: { hours, source: 'operator' } });

describe('revert strategy on real history', () => {
  it('a recent commit removed a guard: its change inside the function is undone, its other changes kept', async () => {
    const { dir, shas, head } = await repoWith([
      [24 * 30, 'pricing', { 'pricing.py': GUARDED, 'other.py': 'X = 1\n' }],
      [5, 'simplify pricing', { 'pricing.py': UNGUARDED, 'other.py': 'X = 2\n' }],
      [1, 'touch other', { 'other.py': 'X = 3\n' }],
    ]);
    const ctx = await contextFor(dir, traceback(UNGUARDED, 'return total / len(discounts)'));
    const out = await strategyFor(dir, head).propose(ctx);
    expect(out.proposals).toHaveLength(1);
    const p = out.proposals[0]!;
    expect(p.strategy).toBe(`revert:${shas[1]!.slice(0, 12)}`);
    expect(p.summary).toContain('simplify pricing');
    expect(p.summary).toContain('average_discount (pricing.py:1-3)');
    expect(p.edits).toEqual([
      {
        path: 'pricing.py',
        before: UNGUARDED,
        after: GUARDED.replace('"subtotal": subtotal,', '"subtotal": round(subtotal, 2),'),
      },
    ]);
    // The guard was removed, so blame names the older commit for the crash line: a plain "changed it" confidence.
    expect(p.confidence).toBe(0.8);
  });

  it('the commit that introduced the crashing line (git blame) comes first and is trusted more', async () => {
    const { dir, shas, head } = await repoWith([
      [24 * 30, 'pricing', { 'pricing.py': GUARDED }],
      [30, 'one-liner', { 'pricing.py': REWRITTEN }],
      [2, 'rounding', { 'pricing.py': REWRITTEN.replace('"subtotal": subtotal,', '"subtotal": round(subtotal, 2),') }],
    ]);
    const base = REWRITTEN.replace('"subtotal": subtotal,', '"subtotal": round(subtotal, 2),');
    const ctx = await contextFor(dir, traceback(base, 'return sum(d["percent"] for d in discounts) / len(discounts)'));
    const out = await strategyFor(dir, head).propose(ctx);
    expect(out.proposals.map((p) => p.strategy)).toEqual([`revert:${shas[1]!.slice(0, 12)}`]);
    expect(out.proposals[0]!.confidence).toBe(0.9);
    expect(out.proposals[0]!.summary).toContain('it introduced the crashing line');
    expect(out.proposals[0]!.edits[0]!.after).toBe(
      GUARDED.replace('"subtotal": subtotal,', '"subtotal": round(subtotal, 2),'),
    );
    // The rounding commit changed quote, not the crashing function: noted, not proposed.
    expect(out.notes.join('\n')).toMatch(
      new RegExp(`${shas[2]!.slice(0, 12)}: the commit changed nothing inside this function`),
    );
  });

  it('two recent commits changed the function: each alone where it applies, then both undone together', async () => {
    const { dir, shas, head } = await repoWith([
      [24 * 30, 'pricing', { 'pricing.py': GUARDED }],
      [20, 'drop the guard', { 'pricing.py': UNGUARDED }],
      [
        2,
        'one sum',
        {
          'pricing.py': UNGUARDED.replace(
            '    total = sum(d["percent"] for d in discounts)\n    return total / len(discounts)',
            '    return sum(d["percent"] for d in discounts) / len(discounts)',
          ),
        },
      ],
    ]);
    const base = await git(dir, 'show', 'HEAD:pricing.py');
    const ctx = await contextFor(dir, traceback(base, 'return sum(d["percent"] for d in discounts) / len(discounts)'));
    const out = await strategyFor(dir, head).propose(ctx);
    expect(out.proposals.map((p) => p.strategy)).toEqual([`revert:${shas[2]!.slice(0, 12)}`, 'revert:window']);
    // The newest alone gives back the version without the guard; both together the guarded one.
    expect(out.proposals[0]!.edits[0]!.after).toBe(UNGUARDED);
    expect(out.proposals[1]!.edits[0]!.after).toBe(
      GUARDED.replace('"subtotal": subtotal,', '"subtotal": round(subtotal, 2),'),
    );
    expect(out.proposals[1]!.summary).toMatch(/to before the last 72 h: 2 commits' changes inside it/);
    // The older commit's change alone no longer applies: its lines were rewritten since.
    expect(out.notes).toEqual([
      expect.stringMatching(new RegExp(`${shas[1]!.slice(0, 12)}: later commits changed the same lines`)),
    ]);
  });

  it('outside the window, or with the window at 0, nothing is proposed and the notes say why', async () => {
    const { dir, head } = await repoWith([
      [24 * 30, 'pricing', { 'pricing.py': GUARDED }],
      [100, 'simplify pricing', { 'pricing.py': UNGUARDED }],
    ]);
    const ctx = await contextFor(dir, traceback(UNGUARDED, 'return total / len(discounts)'));
    const old = await strategyFor(dir, head).propose(ctx);
    expect(old).toEqual({ proposals: [], notes: ['revert: no commit in the last 72 h changed pricing.py'] });
    expect((await strategyFor(dir, head, 200).propose(ctx)).proposals).toHaveLength(1);
    const off = await strategyFor(dir, head, 0).propose(ctx);
    expect(off.notes).toEqual(['revert: off (revert window 0 h, set by operator)']);
    // suture.yaml may shorten the operator's window, never lengthen it.
    expect(revertWindow({ SUTURE_REVERT_WINDOW_HOURS: '200' }, 50).hours).toBe(50);
  });

  it('refuses when the trace quotes another line than the repo has there', async () => {
    const { dir, head } = await repoWith([
      [24 * 30, 'pricing', { 'pricing.py': GUARDED }],
      [5, 'simplify pricing', { 'pricing.py': UNGUARDED }],
    ]);
    const logs = traceback(UNGUARDED, 'return total / len(discounts)').replace(
      '    return total / len(discounts)',
      '    return total / count',
    );
    const out = await strategyFor(dir, head).propose(await contextFor(dir, logs));
    expect(out.proposals).toEqual([]);
    expect(out.notes[0]).toMatch(/not the line the trace quotes/);
  });

  it('a commit subject is repository content: one redacted line in the summary', async () => {
    const token = `ghp_${'Ab3dE5gH7jK9mN2pQ4sT6vW8yZ0cF1Ab3dE5'}`;
    const { dir, head } = await repoWith([
      [24 * 30, 'pricing', { 'pricing.py': GUARDED }],
      [5, `simplify\u2028Signed-off-by: x ${token}`, { 'pricing.py': UNGUARDED }],
    ]);
    const out = await strategyFor(dir, head).propose(
      await contextFor(dir, traceback(UNGUARDED, 'return total / len(discounts)')),
    );
    const summary = out.proposals[0]!.summary;
    expect(summary).not.toContain(token);
    expect(summary).not.toMatch(/[\n\u2028]/);
  });
});
