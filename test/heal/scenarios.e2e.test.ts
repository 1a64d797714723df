/**
 * Every crash scenario of test/fixtures/scenarios.ts through `suture heal`, as a user runs it, on a fresh
 * git repo of the fixture: the real sandbox, the real policy gate, a real branch. Per scenario: the status,
 * the strategy that won (or the classification of an escalation), 4xx where the input was bad, no branch
 * for escalations and no-fix — and, for all of them, no candidate is ever delivered without a pass.
 *
 * The heals run two at a time in one beforeAll (this is a 2-core machine; the sandbox image is shared and
 * warm), and each scenario's test then reads its result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapLimit } from '../../src/pipeline/limit.ts';
import {
  type CrashScenario,
  type HealOut,
  healScenario,
  LLM_KEY,
  mismatch,
  SCENARIOS,
  scenarioRepo,
} from '../fixtures/scenarios.ts';
import { cleanup, git, tempDir } from '../helpers/repo.ts';
import { type ScriptedServer, startScriptedServer } from '../llm/scripted-server.ts';

const made: string[] = [];
let llm: ScriptedServer | undefined;
afterAll(async () => {
  await llm?.close();
  cleanup(...made);
});

interface Healed {
  out?: HealOut;
  exitCode: number;
  stderr: string;
  repo: string;
  ms: number;
}

const results = new Map<string, Healed>();

async function healOne(s: CrashScenario): Promise<Healed> {
  const repo = await scenarioRepo(s);
  const state = tempDir('suture-state-');
  made.push(repo, state);
  if (s.llm) llm!.push({ content: s.llm.repair }, { content: s.llm.critique });
  const started = Date.now();
  const r = await healScenario(s, repo, state, s.llm ? { llm } : {});
  const ms = Date.now() - started;
  let out: HealOut | undefined;
  try {
    out = JSON.parse(r.stdout) as HealOut;
  } catch {
    out = undefined;
  }
  return { out, exitCode: r.exitCode, stderr: r.stderr, repo, ms };
}

beforeAll(async () => {
  // One LLM scenario at a time talks to the server: its replies are consumed in order.
  llm = await startScriptedServer({ apiKey: LLM_KEY });
  await mapLimit(SCENARIOS, 2, async (s) => {
    results.set(s.name, await healOne(s));
  });
}, 900_000);

describe('crash scenarios through suture heal', () => {
  it('cover every template class in two code shapes or more, in Python and Node', () => {
    const templated = SCENARIOS.filter((s) => s.expect.status === 'proposed' && !s.history && !s.llm);
    const classes = new Set(templated.map((s) => s.class));
    expect([...classes].sort()).toEqual(
      ['index', 'missing-key', 'none-operand', 'not-callable', 'nullish', 'unparseable', 'zero-division'].sort(),
    );
    for (const c of classes) expect(templated.filter((s) => s.class === c).length, c).toBeGreaterThanOrEqual(2);
    expect(new Set(templated.map((s) => s.language))).toEqual(new Set(['python', 'node']));
    // Beyond the two demo services: at least 15 scenarios.
    expect(new Set(SCENARIOS.map((s) => s.fixture)).size).toBeGreaterThanOrEqual(15);
  });

  it.each(SCENARIOS.map((s) => [s.name, s] as const))('%s', async (_name, s) => {
    const r = results.get(s.name);
    expect(r, 'healed in beforeAll').toBeDefined();
    expect(r!.exitCode, r!.stderr).toBe(0);
    const out = r!.out!;
    expect(mismatch(s, out), JSON.stringify(out.candidates.map((c) => [c.strategy, c.verdict?.verdict]))).toBe(
      undefined,
    );
    // Nothing reaches a branch without a pass: the chosen candidate passed, and only a chosen one is delivered.
    const branches = (await git(r!.repo, 'branch', '--format=%(refname:short)')).split('\n').sort();
    if (out.branch) {
      const chosen = out.candidates.find((c) => c.id === out.chosen);
      expect(chosen?.verdict?.verdict).toBe('pass');
      expect(chosen?.policy?.decision).not.toBe('deny');
      expect(await git(r!.repo, 'rev-parse', out.branch)).toBe(out.commit);
      expect(branches).toEqual(['main', out.branch].sort());
    } else {
      expect(branches).toEqual(['main']);
    }
    if (s.expect.status !== 'proposed') expect(out.branch).toBeNull();
    if (s.llm) expect(llm!.violations).toEqual([]);
  });
});
