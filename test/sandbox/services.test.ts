/**
 * Ordinary services with real dependencies, end to end: a Flask service (PyPI, a venv) and an Express
 * service (the npm registry, `npm ci`) are prepared from the registries, through this machine's
 * TLS-inspecting proxy (the host's CA bundle is handed to install), their crash is reproduced without
 * network, and a fix is verified.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/config/service.ts';
import { makeGitPatch } from '../../src/diagnose/patch.ts';
import { regressionTest } from '../../src/diagnose/regression-test.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { prepareBaseline, verifyCandidate } from '../../src/sandbox/verify.ts';
import { SERVICES } from '../helpers/repo.ts';

const FIXES: Record<string, { file: string; from: string; to: string }> = {
  'flask-api': {
    file: 'basket.py',
    from: '    percent = basket["coupon"]["percent"] if "coupon" in basket else 0',
    to: '    percent = (basket.get("coupon") or {}).get("percent", 0)',
  },
  'express-api': {
    file: 'cart.js',
    from: '  const shipping = cart.shipping.cost;',
    to: '  const shipping = cart.shipping?.cost ?? 0;',
  },
};

const images: string[] = [];
afterAll(async () => {
  // Fresh from the registries on every run: the prepared images are not kept.
  if (images.length) await execa('docker', ['rmi', '-f', ...images], { reject: false });
});

describe.each(Object.keys(FIXES))('%s from its registry', (service) => {
  it('is prepared with its dependencies, reproduces its crash and verifies a fix', async () => {
    const dir = join(SERVICES, service);
    const files = readdirSync(dir, { recursive: true }) as string[];
    const config = loadServiceConfig(dir);
    const incident = buildIncident(JSON.parse(readFileSync(join(dir, 'incident.json'), 'utf8')), files);
    const test = regressionTest(incident, config, files)!;
    const fix = FIXES[service]!;
    const before = readFileSync(join(dir, fix.file), 'utf8');
    expect(before).toContain(fix.from);
    const candidate = {
      patch: makeGitPatch([{ path: fix.file, before, after: before.replace(fix.from, fix.to) }, test]),
      testFile: test.path,
    };

    const baseline = await prepareBaseline({ tree: dir, config, incident, candidates: [candidate] });
    images.push(baseline.image);
    await baseline.ready;
    expect(baseline.image).toMatch(new RegExp(`^suture-prepared:${service}-`));
    expect(baseline.installNetwork).toBe('host'); // no bridge on this engine
    expect(baseline.reasons).toEqual([]);
    expect(baseline.reproduced).toBe(true);

    const v = await verifyCandidate(baseline, candidate);
    expect(v.verdict, v.reasons.join('; ')).toBe('pass');
    expect(v).toMatchObject({
      reproduced: true,
      fixed: true,
      testsPassed: true,
      regressionTest: { failsBefore: true, passesAfter: true },
      differential: { compared: 2, mismatches: [] },
    });
  }, 300_000);
});
