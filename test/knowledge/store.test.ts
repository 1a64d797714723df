/**
 * The knowledge store (issue 10, item 7): one record per heal keyed by fingerprint, redacted on the way in,
 * safe under concurrent writers (serve runs heals in child processes), and the knowledge strategy that
 * proposes the fix that verified before when it still applies.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { makeGitPatch } from '../../src/diagnose/patch.ts';
import { knowledgeStrategy } from '../../src/diagnose/strategies/knowledge/index.ts';
import type { RepairContext } from '../../src/diagnose/types.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import {
  historyOf,
  KNOWLEDGE_FILE,
  type KnowledgeRecord,
  listKnowledge,
  previousFixes,
  recordHeal,
  sha256,
} from '../../src/knowledge/store.ts';
import { cleanup, cli, ROOT, tempDir } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));
const stateDir = () => {
  const d = tempDir('suture-knowledge-');
  made.push(d);
  return d;
};

const TOKEN = `ghp_${'a1B2c3D4e5'.repeat(4)}`;
const SRC = 'def average(xs):\n    return sum(xs) / len(xs)\n';
const FIXED = 'def average(xs):\n    if not xs:\n        return 0\n    return sum(xs) / len(xs)\n';
const TEST = { path: 'tests/test_suture_abc.py', after: 'def test_x():\n    assert True\n' };
const PATCH = makeGitPatch([{ path: 'stats.py', before: SRC, after: FIXED }, TEST]);

function record(over: Partial<KnowledgeRecord> & { patch?: string } = {}): KnowledgeRecord {
  const patch = over.patch ?? PATCH;
  return {
    fingerprint: '0123456789abcdef',
    incident: '0123456789ab-20261127',
    service: 'stats-api',
    recordedAt: '2026-11-27T10:00:00.000Z',
    status: 'proposed',
    reason: 'verified fix c1 on suture/0123456789ab',
    base: 'a'.repeat(40),
    diagnosis: { classification: 'code-defect', rootCause: 'ZeroDivisionError', location: null, confidence: 0.85 },
    candidates: [
      { id: 'c1', strategy: 'template:zero-division', summary: 'guard', confidence: 0.85, verdict: null, policy: null },
    ],
    chosen: {
      candidate: 'c1',
      strategy: 'template:zero-division',
      summary: 'guard the division',
      confidence: 0.85,
      patch,
      patchSha256: sha256(patch),
      testFile: TEST.path,
    },
    branch: 'suture/0123456789ab',
    commit: 'b'.repeat(40),
    ...over,
  };
}

describe('the store', () => {
  it('keeps each heal, most recent first, redacted, in an owner-only file', () => {
    const dir = stateDir();
    recordHeal(dir, record({ reason: `policy said review: ${TOKEN}` }));
    recordHeal(dir, record({ recordedAt: '2026-11-27T11:00:00.000Z', status: 'duplicate', chosen: null }));
    recordHeal(dir, record({ fingerprint: 'ffffffffffffffff', service: 'other' }));
    const heals = historyOf(dir, '0123456789abcdef');
    expect(heals.map((h) => h.status)).toEqual(['duplicate', 'proposed']);
    expect(heals[1]!.reason).not.toContain(TOKEN);
    expect(heals[1]!.reason).toContain('[REDACTED:github-token]');
    expect(statSync(join(dir, KNOWLEDGE_FILE)).mode & 0o777).toBe(0o600);
    expect(listKnowledge(dir)).toEqual([
      expect.objectContaining({ fingerprint: 'ffffffffffffffff', runs: 1 }),
      {
        fingerprint: '0123456789abcdef',
        service: 'stats-api',
        runs: 2,
        lastStatus: 'duplicate',
        lastRecordedAt: '2026-11-27T11:00:00.000Z',
        fix: {
          strategy: 'template:zero-division',
          summary: 'guard the division',
          recordedAt: '2026-11-27T10:00:00.000Z',
          status: 'proposed',
        },
      },
    ]);
  });

  it('reads nothing, and creates nothing, where no heal was recorded', () => {
    const dir = join(stateDir(), 'never');
    expect(listKnowledge(dir)).toEqual([]);
    expect(historyOf(dir, '0123456789abcdef')).toEqual([]);
    expect(() => statSync(dir)).toThrow();
  });

  it('previous fixes: merged before proposed before observed, newest first, one per patch, none a canary aborted', () => {
    const dir = stateDir();
    const other = makeGitPatch([{ path: 'stats.py', before: SRC, after: SRC.replace('len(xs)', 'max(len(xs), 1)') }]);
    const third = makeGitPatch([{ path: 'stats.py', before: SRC, after: SRC.replace('sum(xs)', 'sum(xs or [0])') }]);
    recordHeal(dir, record({ status: 'observed', recordedAt: '2026-11-01T00:00:00Z' }));
    recordHeal(dir, record({ status: 'proposed', recordedAt: '2026-11-02T00:00:00Z' }));
    recordHeal(dir, record({ status: 'fixed', recordedAt: '2026-11-03T00:00:00Z', patch: other }));
    recordHeal(dir, record({ status: 'no-fix', recordedAt: '2026-11-04T00:00:00Z', chosen: null }));
    recordHeal(dir, record({ status: 'proposed', recordedAt: '2026-11-05T00:00:00Z', patch: third }));
    recordHeal(dir, record({ status: 'aborted', recordedAt: '2026-11-06T00:00:00Z', patch: third }));
    const fixes = previousFixes(dir, '0123456789abcdef');
    expect(fixes.map((f) => [f.status, f.recordedAt, f.intact])).toEqual([
      ['fixed', '2026-11-03T00:00:00Z', true],
      ['proposed', '2026-11-02T00:00:00Z', true],
    ]);
  });

  it('a patch redaction altered is stored as known-altered', () => {
    const dir = stateDir();
    const leaky = makeGitPatch([{ path: 'stats.py', before: SRC, after: `${SRC}API = "${TOKEN}"\n` }]);
    recordHeal(dir, record({ patch: leaky }));
    const [fix] = previousFixes(dir, '0123456789abcdef');
    expect(fix!.patch).not.toContain(TOKEN);
    expect(fix!.intact).toBe(false);
  });

  it('concurrent writers from separate processes lose nothing and corrupt nothing', async () => {
    const dir = stateDir();
    const writers = 6;
    const each = 25;
    const script = `
      import { recordHeal } from ${JSON.stringify(join(ROOT, 'src', 'knowledge', 'store.ts'))};
      const base = JSON.parse(process.argv[1]);
      for (let i = 0; i < ${each}; i++) {
        recordHeal(process.argv[2], { ...base, fingerprint: 'f' + process.argv[3] + 'x'.repeat(14), incident: 'i' + i });
      }`;
    await Promise.all(
      Array.from({ length: writers }, (_, w) =>
        execa(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(record()), dir, String(w)]),
      ),
    );
    const summaries = listKnowledge(dir);
    expect(summaries).toHaveLength(writers);
    expect(summaries.every((s) => s.runs === each)).toBe(true);
    const db = new DatabaseSync(join(dir, KNOWLEDGE_FILE));
    try {
      expect(db.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' });
    } finally {
      db.close();
    }
  });
});

describe('the knowledge strategy', () => {
  const TB =
    'Traceback (most recent call last):\n  File "/srv/app/stats.py", line 2, in average\n    return sum(xs) / len(xs)\nZeroDivisionError: division by zero\n';

  function ctx(files: Record<string, string>): RepairContext {
    const incident = buildIncident({ kind: 'crash', service: 'stats-api', logs: TB }, Object.keys(files));
    return {
      incident,
      evidence: { frames: [], excerpts: [], commits: [], logs: '', redactions: 0 },
      config: { service: 'stats-api' } as RepairContext['config'],
      repoFiles: Object.keys(files),
      readFile: async (p) => files[p],
    };
  }

  const strategyWith = (dir: string) => knowledgeStrategy({ previousFixes: (fp) => previousFixes(dir, fp) });

  it('proposes the earlier fix first-class, without its old regression test', async () => {
    const dir = stateDir();
    const c = ctx({ 'stats.py': SRC, 'app.py': 'import stats\n' });
    recordHeal(dir, record({ fingerprint: c.incident.fingerprint }));
    const out = await strategyWith(dir).propose(c);
    expect(out.notes).toEqual([]);
    expect(out.proposals).toEqual([
      {
        strategy: 'knowledge:template:zero-division',
        summary: 'the fix that verified for this crash on 2026-11-27: guard the division',
        confidence: 0.95,
        edits: [{ path: 'stats.py', before: SRC, after: FIXED }],
      },
    ]);
  });

  it('still applies after unrelated lines moved; not when the code changed under it or already holds it', async () => {
    const dir = stateDir();
    const moved = `import math\n\n\n${SRC}`;
    const c1 = ctx({ 'stats.py': moved });
    recordHeal(dir, record({ fingerprint: c1.incident.fingerprint }));
    expect((await strategyWith(dir).propose(c1)).proposals[0]!.edits[0]!.after).toBe(`import math\n\n\n${FIXED}`);

    const changed = ctx({ 'stats.py': SRC.replace('sum(xs)', 'math.fsum(xs)') });
    const out = await strategyWith(dir).propose(changed);
    expect(out.proposals).toEqual([]);
    expect(out.notes).toEqual([
      expect.stringMatching(/^knowledge: the fix proposed on .*: it no longer applies to stats\.py$/),
    ]);

    const done = await strategyWith(dir).propose(ctx({ 'stats.py': FIXED }));
    expect(done.notes[0]).toMatch(/no longer applies|already holds it/);
  });

  it('never reuses an altered patch, or one that reaches outside the repo files', async () => {
    const dir = stateDir();
    const c = ctx({ 'stats.py': SRC });
    const leaky = makeGitPatch([{ path: 'stats.py', before: SRC, after: `${FIXED}API = "${TOKEN}"\n` }]);
    recordHeal(dir, record({ fingerprint: c.incident.fingerprint, patch: leaky }));
    const escaping = makeGitPatch([{ path: 'stats.py', before: SRC, after: FIXED }]).replace(
      /stats\.py/g,
      '../outside/stats.py',
    );
    recordHeal(dir, record({ fingerprint: c.incident.fingerprint, patch: escaping, status: 'fixed' }));
    const out = await strategyWith(dir).propose(c);
    expect(out.proposals).toEqual([]);
    expect(out.notes).toEqual([
      expect.stringMatching(/it names a path with a "\.\." component$/),
      expect.stringMatching(/was altered by redaction when stored; not reused$/),
    ]);
  });
});

describe('suture knowledge', () => {
  it('list on an empty store, show of what is not there, a bad fingerprint: clear lines and exit codes', async () => {
    const dir = stateDir();
    const empty = await cli(['knowledge', 'list', '--state', dir]);
    expect(empty).toMatchObject({ exitCode: 0, stdout: 'the knowledge store is empty' });
    const missing = await cli(['knowledge', 'show', 'abcdef123456', '--state', dir]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr.trim()).toBe('suture: the knowledge store holds nothing for abcdef123456');
    const bad = await cli(['knowledge', 'show', '--state', dir, '--', '--rm']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('show prints the heals redacted, the chosen candidate marked, the patch', async () => {
    const dir = stateDir();
    recordHeal(dir, record({ reason: `review: ${TOKEN}` }));
    const r = await cli(['knowledge', 'show', '0123456789ab', '--state', dir]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toContain(TOKEN);
    expect(r.stdout).toContain('0123456789abcdef (stats-api): 1 heal(s), most recent first');
    expect(r.stdout).toContain('* c1 template:zero-division: not verified — guard');
    expect(r.stdout).toContain('+    if not xs:');
  });
});
