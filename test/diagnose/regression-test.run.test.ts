/**
 * Generated regression tests, run for real: for each layout (regression-layouts.ts) the crash is produced
 * by running the code, the test is generated from that trace and the repo, then run with the repo's own
 * runner through the single-test command — it must fail on the base tree and pass once the fix is applied —
 * and the repo's own test command must collect it (its full run fails on base because of it).
 * pytest, unittest, node:test and vitest run here; jest and mocha are checked by parsing (test/diagnose/
 * regression-test.styles.test.ts).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { regressionTestFromRepo } from '../../src/diagnose/regression-test.ts';
import { ROOT } from '../helpers/repo.ts';
import { configOf, LAYOUTS, type Layout, materialise, reader, writeTree } from './regression-layouts.ts';

// vitest layouts live under the checkout so that `vitest` and its imports resolve from node_modules
const SCRATCH = join(ROOT, '.scratch', 'regression-run');
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

const env = {
  PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}`,
  PYTHONDONTWRITEBYTECODE: '1',
  // the host's npm runs scripts with the Node 24 of node_modules/.bin
  npm_config_update_notifier: 'false',
};

async function sh(dir: string, command: string) {
  const r = await execa('sh', ['-c', command], { cwd: dir, reject: false, env, timeout: 120_000, all: true });
  return { code: r.exitCode, out: r.all ?? '' };
}

async function generate(l: Layout) {
  mkdirSync(SCRATCH, { recursive: true });
  const { dir, incident } = await materialise(l, l.expect.framework === 'vitest' ? SCRATCH : undefined);
  made.push(dir);
  const test = await regressionTestFromRepo({
    incident,
    config: configOf(l),
    repoFiles: Object.keys(l.files),
    readFile: reader(dir),
  });
  return { dir, incident, test };
}

describe.each(LAYOUTS.map((l) => [l.name, l] as const))('%s', (_name, l) => {
  it('is written where the repo runs it, fails on base, passes after the fix', async () => {
    const { dir, test } = await generate(l);
    expect(test, 'no test generated').toBeDefined();
    const t = test!;
    expect(t.path).toMatch(l.expect.path);
    expect({ kind: t.kind, framework: t.framework, collected: t.collected, append: t.append }).toEqual({
      kind: l.expect.kind,
      framework: l.expect.framework,
      collected: l.expect.collected,
      append: l.expect.append ?? false,
    });
    if (t.append) expect(t.before).toBe(readFileSync(join(dir, t.path), 'utf8'));
    mkdirSync(dirname(join(dir, t.path)), { recursive: true });
    writeFileSync(join(dir, t.path), t.after);

    const before = await sh(dir, t.command);
    expect(before.code, `${t.command} passed on base:\n${before.out}\n--- test ---\n${t.after}`).not.toBe(0);
    // the repo's own command runs it: its full run fails on base too
    const suite = await sh(dir, l.test);
    expect(suite.code, `${l.test} passed on base: the new test is not collected\n${suite.out}`).not.toBe(0);

    writeTree(dir, l.fixed);
    const after = await sh(dir, t.command);
    expect(after.code, `${t.command} failed after the fix:\n${after.out}\n--- test ---\n${t.after}`).toBe(0);
    // and after the fix the whole suite passes (in pytest-subdir-job: without the integration tests it must not collect)
    const fixedSuite = await sh(dir, l.test);
    expect(fixedSuite.code, `${l.test} fails after the fix:\n${fixedSuite.out}`).toBe(0);
  });
});
