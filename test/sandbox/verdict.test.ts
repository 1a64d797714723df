/**
 * The verdict's rules on real containers: a crash that replay cannot reproduce rests on the regression
 * test; healthy traffic must answer the same after the patch (differential replay).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/config/service.ts';
import { makeGitPatch } from '../../src/diagnose/patch.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import type { Incident } from '../../src/incident/types.ts';
import { type Baseline, prepareBaseline, verifyCandidate } from '../../src/sandbox/verify.ts';
import { SERVICES } from '../helpers/repo.ts';

const dir = join(SERVICES, 'pricing-api');
const files = readdirSync(dir, { recursive: true }) as string[];
const config = loadServiceConfig(dir);
const original = readFileSync(join(dir, 'pricing.py'), 'utf8');
const fixed = original.replace(
  '    return total / len(discounts)',
  '    return total / len(discounts) if discounts else 0',
);
const captured = buildIncident(JSON.parse(readFileSync(join(dir, 'incident.json'), 'utf8')), files);

const unitTest = (assertion: string) => ({
  path: 'tests/test_average_empty.py',
  after: `import os\nimport sys\n\nsys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))\n\nfrom pricing import average_discount  # noqa: E402\n\n\ndef test_empty():\n    ${assertion}\n`,
});

describe('a crash that replay does not reproduce', () => {
  let baseline: Baseline;
  beforeAll(async () => {
    // The request carries no empty discount list: in production the crash came from state it does not carry.
    const incident: Incident = { ...captured, requests: [captured.healthyRequests[0]!] };
    baseline = await prepareBaseline({ tree: dir, config, incident });
    await baseline.ready;
  });

  it('passes on a regression test that fails on base and passes on the patch', async () => {
    const patch = makeGitPatch([
      { path: 'pricing.py', before: original, after: fixed },
      unitTest('assert average_discount([]) == 0'),
    ]);
    const v = await verifyCandidate(baseline, { patch, testFile: 'tests/test_average_empty.py' });
    expect(v.reproduced).toBe(false);
    expect(v.regressionTest).toMatchObject({ failsBefore: true, passesAfter: true });
    expect(v.verdict, v.reasons.join('; ')).toBe('pass');
    expect(v.reasons.join('\n')).toMatch(/did not reproduce the crash/);
  });

  it('fails when the regression test already passes on base', async () => {
    const patch = makeGitPatch([
      { path: 'pricing.py', before: original, after: fixed },
      unitTest('assert average_discount([{"percent": 4}]) == 4'),
    ]);
    const v = await verifyCandidate(baseline, { patch, testFile: 'tests/test_average_empty.py' });
    expect(v.verdict).toBe('fail');
    expect(v.reasons).toContain('the regression test does not fail on the base revision');
  });

  it('fails without any regression test', async () => {
    const v = await verifyCandidate(baseline, {
      patch: makeGitPatch([{ path: 'pricing.py', before: original, after: fixed }]),
    });
    expect(v.verdict).toBe('fail');
    expect(v.reasons).toContain('the crash was not reproduced and the candidate has no regression test');
  });
});

describe('differential replay', () => {
  let baseline: Baseline;
  beforeAll(async () => {
    baseline = await prepareBaseline({ tree: dir, config, incident: captured });
    await baseline.ready;
  });

  it('fails a patch that fixes the crash but changes healthy answers', async () => {
    const greedy = fixed.replace(
      '    total = sum(d["percent"] for d in discounts)',
      '    total = sum(d["percent"] for d in discounts) + 1',
    );
    const v = await verifyCandidate(baseline, {
      patch: makeGitPatch([{ path: 'pricing.py', before: original, after: greedy }]),
    });
    expect(v.fixed).toBe(true);
    expect(v.verdict).toBe('fail');
    expect(v.differential).toMatchObject({ status: 'compared', compared: 2 });
    // discount (10 + 30 + 1) / 2 = 20.5 instead of 20, and the total with it
    expect(v.differential.mismatches).toEqual([
      { request: 'POST /quote', path: '$.discount', base: 20, candidate: 20.5 },
      { request: 'POST /quote', path: '$.total', base: 24, candidate: 23.85 },
    ]);
  });
});
