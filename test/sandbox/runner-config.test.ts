/**
 * Tests cannot be forged green (real containers). Every candidate below carries the real fix and a real
 * regression test but also breaks an existing unit test, and tries to hide that: by editing test-runner
 * configuration (a conftest.py hook, package.json's test script, pytest addopts in pyproject.toml) or by
 * adding a test file that patches pytest at import. Each would pass if the suite ran with the candidate's
 * runner configuration and test files; each must end as `fail` with a reason.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig, type ServiceConfig } from '../../src/config/service.ts';
import { makeGitPatch } from '../../src/diagnose/patch.ts';
import { regressionTest } from '../../src/diagnose/regression-test.ts';
import type { FileEdit } from '../../src/diagnose/types.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { type Baseline, prepareBaseline, verifyCandidate } from '../../src/sandbox/verify.ts';
import { SERVICES } from '../helpers/repo.ts';

function fixture(service: string, overrides: Partial<ServiceConfig> = {}) {
  const dir = join(SERVICES, service);
  const files = readdirSync(dir, { recursive: true }) as string[];
  const loaded = loadServiceConfig(dir);
  const config: ServiceConfig = {
    ...loaded,
    ...overrides,
    limits: { ...loaded.limits, stepTimeoutSec: 20, outputBytes: 64 * 1024 },
  };
  const incident = buildIncident(JSON.parse(readFileSync(join(dir, 'incident.json'), 'utf8')), files);
  return { dir, config, incident, test: regressionTest(incident, config, files)! };
}

describe('python: conftest hooks, pyproject addopts and runner-patching test files', () => {
  const f = fixture('pricing-api');
  const original = readFileSync(join(f.dir, 'pricing.py'), 'utf8');
  // The fix, plus a regression that only the existing unit test test_quote_with_discount catches (items
  // without a qty); the replayed requests all carry one, so the replay alone would not notice.
  const fixedButBroken = original
    .replace('    return total / len(discounts)', '    return total / len(discounts) if discounts else 0')
    .replace('item.get("qty", 1)', 'item.get("qty", 0)');
  let baseline: Baseline;
  beforeAll(async () => {
    baseline = await prepareBaseline({ tree: f.dir, config: f.config, incident: f.incident });
    await baseline.ready;
    expect(baseline.reproduced).toBe(true);
  });

  const candidate = (...extra: FileEdit[]) => ({
    patch: makeGitPatch([{ path: 'pricing.py', before: original, after: fixedButBroken }, f.test, ...extra]),
    testFile: f.test.path,
  });

  it('control: the broken unit test fails the candidate', async () => {
    const v = await verifyCandidate(baseline, candidate());
    expect(v.verdict).toBe('fail');
    expect(v.reasons).toContain('the test command failed (exit 1)');
  });

  it('a pytest_runtest_makereport hook in the root conftest.py fails unrun', async () => {
    const hook = `import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    report.outcome = "passed"
    report.longrepr = None
`;
    const v = await verifyCandidate(baseline, candidate({ path: 'conftest.py', after: hook }));
    expect(v.verdict).toBe('fail');
    expect(v.reasons).toEqual(['the change adds conftest.py, which configures the test runner']);
    expect(v.evidence.tests).toBeUndefined();
  });

  it('pytest addopts that ignore the failing test file fail unrun', async () => {
    const pyproject = '[tool.pytest.ini_options]\naddopts = "--ignore=tests/test_pricing.py"\n';
    const v = await verifyCandidate(baseline, candidate({ path: 'pyproject.toml', after: pyproject }));
    expect(v.verdict).toBe('fail');
    expect(v.reasons[0]).toMatch(/test-runner settings of pyproject.toml \(tool.pytest\)/);
    expect(v.evidence.tests).toBeUndefined();
  });

  it('a new test file that patches pytest at import cannot turn the suite green', async () => {
    const forge = `import gc

import pytest
from _pytest.config import Config


class _Forge:
    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        outcome = yield
        report = outcome.get_result()
        report.outcome = "passed"
        report.longrepr = None


for _obj in gc.get_objects():
    if isinstance(_obj, Config):
        _obj.pluginmanager.register(_Forge(), "forge")
        break


def test_nothing():
    assert True
`;
    const v = await verifyCandidate(baseline, candidate({ path: 'tests/test_aaa_helpers.py', after: forge }));
    expect(v.verdict).toBe('fail');
    expect(v.reasons).toContain('the test command failed (exit 1)');
    expect(v.evidence.tests?.output).toMatch(/test_quote_with_discount/);
    // the candidate's regression test still ran on its own, and proved the fix
    expect(v.regressionTest).toMatchObject({ failsBefore: true, passesAfter: true });
  });
});

describe('node: the test script in package.json', () => {
  // The repo's test command goes through npm, so package.json's scripts decide what runs.
  const f = fixture('orders-api', { test: 'npm test --silent' });
  const original = readFileSync(join(f.dir, 'orders.js'), 'utf8');
  const pkg = readFileSync(join(f.dir, 'package.json'), 'utf8');
  let baseline: Baseline;
  beforeAll(async () => {
    baseline = await prepareBaseline({ tree: f.dir, config: f.config, incident: f.incident });
    await baseline.ready;
  });

  it('scripts.test changed to `true` fails unrun', async () => {
    const broken = original
      .replace('order.shipping.address.country', 'order.shipping.address?.country')
      .replace('FR: 5.9', 'FR: 6.9');
    const patch = makeGitPatch([
      { path: 'orders.js', before: original, after: broken },
      { path: 'package.json', before: pkg, after: pkg.replace('"test": "node --test"', '"test": "true"') },
      f.test,
    ]);
    const v = await verifyCandidate(baseline, { patch, testFile: f.test.path });
    expect(v.verdict).toBe('fail');
    expect(v.reasons).toEqual(['the change edits the test-runner settings of package.json (scripts)']);
    expect(v.evidence.tests).toBeUndefined();
  });
});
