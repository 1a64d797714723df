/**
 * The templates end to end through `suture heal`, on services of their own: several variants per crash,
 * every one verified in the sandbox, and the fix chosen among those that pass.
 *   inventory-api — a KeyError on a nested payload field two calls below an http.server handler: the
 *     neutral default and the guard hand "" to a caller that looks it up again and crashes, so only the
 *     400 at the handler passes verification.
 *   profile-api — a destructuring of a missing address in an async class method of a node:http service.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, git, heal, repoFromService, tempDir } from '../helpers/repo.ts';

const made: string[] = [];
afterAll(() => cleanup(...made));

interface Out {
  status: string;
  chosen: string;
  branch: string;
  diagnosis: { classification: string; location: { file: string } };
  candidates: {
    id: string;
    strategy: string;
    verdict: { verdict: string; evidence: { patched?: { failing: number[] } } };
  }[];
}

async function healed(service: string): Promise<{ out: Out; repo: string }> {
  const repo = await repoFromService(service);
  const state = tempDir('suture-state-');
  made.push(repo, state);
  const r = await heal(service, repo, state, '--mode', 'propose');
  expect(r.exitCode, r.stderr).toBe(0);
  return { out: JSON.parse(r.stdout) as Out, repo };
}

describe('template variants through suture heal', () => {
  it('inventory-api: only the 400 at the handler survives verification, and it is proposed', async () => {
    const { out, repo } = await healed('inventory-api');
    expect(out.status).toBe('proposed');
    expect(out.diagnosis).toMatchObject({ classification: 'code-defect', location: { file: 'reservations.py' } });
    const strategies = out.candidates.map((c) => c.strategy);
    expect(strategies).toEqual(
      expect.arrayContaining([
        'template:missing-key:validate',
        'template:missing-key:get',
        'template:missing-key:guard',
      ]),
    );
    const passed = out.candidates.filter((c) => c.verdict.verdict === 'pass');
    expect(passed.map((c) => c.strategy)).toEqual(['template:missing-key:validate']);
    const chosen = out.candidates.find((c) => c.id === out.chosen)!;
    expect(chosen.strategy).toBe('template:missing-key:validate');
    expect(chosen.verdict.evidence.patched?.failing).toEqual([400]);
    const diff = await git(repo, 'diff', 'main', out.branch, '--', 'app.py');
    expect(diff).toContain('return self.reply(400, {"error": "warehouse.location is required"})');
  });

  it('profile-api: every variant of the destructuring crash is verified, one passing fix is proposed', async () => {
    const { out, repo } = await healed('profile-api');
    expect(out.status).toBe('proposed');
    expect(out.diagnosis.location.file).toBe('labels.js');
    const byStrategy = Object.fromEntries(out.candidates.map((c) => [c.strategy, c.verdict.verdict]));
    expect(byStrategy).toMatchObject({
      'template:nullish:validate': 'pass',
      'template:nullish:optional-chain': 'pass',
      'template:nullish:guard': 'pass',
    });
    const chosen = out.candidates.find((c) => c.id === out.chosen)!;
    expect(chosen.verdict.verdict).toBe('pass');
    const changed = (await git(repo, 'diff', '--name-only', 'main', out.branch)).split('\n');
    expect(changed).toHaveLength(2);
  });
});
