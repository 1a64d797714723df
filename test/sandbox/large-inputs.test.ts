/**
 * Plans reach the driver through a file: a failing request of ~100 KB or ~1 MB (far past the 128 KiB a
 * single argv string may hold) is replayed like any other, reproduces the crash and verifies the fix.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/config/service.ts';
import { makeGitPatch } from '../../src/diagnose/patch.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import type { Incident } from '../../src/incident/types.ts';
import { prepareBaseline, verifyCandidate } from '../../src/sandbox/verify.ts';
import { SERVICES } from '../helpers/repo.ts';

const dir = join(SERVICES, 'pricing-api');
const config = loadServiceConfig(dir);
const captured = buildIncident(
  JSON.parse(readFileSync(join(dir, 'incident.json'), 'utf8')),
  readdirSync(dir, { recursive: true }) as string[],
);
const original = readFileSync(join(dir, 'pricing.py'), 'utf8');
const fixed = original.replace(
  '    return total / len(discounts)',
  '    return total / len(discounts) if discounts else 0',
);

describe('large failing requests', () => {
  it.each([
    ['~100 KB', 100 * 1024],
    ['~1 MB', 1024 * 1024],
  ])('a %s request body is replayed and verified', async (_label, size) => {
    const body = JSON.stringify({ items: [{ price: 10.0, qty: 1 }], discounts: [], note: 'n'.repeat(size) });
    const incident: Incident = {
      ...captured,
      requests: [{ method: 'POST', path: '/quote', headers: { 'content-type': 'application/json' }, body }],
    };
    const baseline = await prepareBaseline({ tree: dir, config, incident });
    await baseline.ready;
    expect(baseline.reasons).toEqual([]);
    expect(baseline.reproduced).toBe(true);
    const v = await verifyCandidate(baseline, {
      patch: makeGitPatch([{ path: 'pricing.py', before: original, after: fixed }]),
    });
    expect(v.fixed).toBe(true);
    expect(v.evidence.patched?.failing).toEqual([200]);
  });
});
