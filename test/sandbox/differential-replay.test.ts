/**
 * Differential replay on real containers, with invoice-api: its healthy answers carry an id, amounts and a
 * due date derived from the order, and what differs on every call (a millisecond timestamp, a random
 * request id, a random id per invoice line, an id drawn once per process, a receipt text printed with a
 * second-precision clock). A fix passes without any configuration; the same fix plus one changed id, number
 * or date fails, naming the path with both values.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig } from '../../src/config/service.ts';
import { makeGitPatch } from '../../src/diagnose/patch.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { type Baseline, prepareBaseline, verifyCandidate } from '../../src/sandbox/verify.ts';
import { SERVICES } from '../helpers/repo.ts';

const dir = join(SERVICES, 'invoice-api');
const files = readdirSync(dir, { recursive: true }) as string[];
const config = loadServiceConfig(dir);
const incident = buildIncident(JSON.parse(readFileSync(join(dir, 'incident.json'), 'utf8')), files);
const invoicePy = readFileSync(join(dir, 'invoice.py'), 'utf8');
const appPy = readFileSync(join(dir, 'app.py'), 'utf8');

/** The crash fix (an empty invoice averages 0), plus `change` applied to invoice.py. */
function withFix(change: (src: string) => string = (s) => s) {
  const fixed = invoicePy.replace(
    '"averageLine": round(total / len(lines), 2),',
    '"averageLine": round(total / len(lines), 2) if lines else 0,',
  );
  return { patch: makeGitPatch([{ path: 'invoice.py', before: invoicePy, after: change(fixed) }]) };
}

function replaced(from: string, to: string) {
  return (src: string) => {
    expect(src).toContain(from);
    return src.replace(from, to);
  };
}

let baseline: Baseline;
beforeAll(async () => {
  baseline = await prepareBaseline({ tree: dir, config, incident });
  await baseline.ready;
  expect(baseline.reasons).toEqual([]);
  expect(baseline.reproduced).toBe(true);
});

describe('a service whose answers carry timestamps and random ids', () => {
  it('passes a fix without any configuration: what differs between two base instances is noise', async () => {
    const v = await verifyCandidate(baseline, withFix());
    expect(v.verdict, v.reasons.join('; ')).toBe('pass');
    expect(v.fixedStatusClass).toBe('2xx');
    expect(v.differential).toMatchObject({ status: 'compared', compared: 3, mismatches: [], unstable: [] });
    const noise = Object.fromEntries(v.differential.noise.map((n) => [n.request, n.paths]));
    expect(noise['POST /invoices']).toEqual(['$.generatedAt', '$.instance', '$.lines[*].lineId', '$.requestId']);
    // the receipt's "printed 2026-…T…Z": one token of the text, second precision
    expect(noise['POST /invoices/receipt']).toEqual([expect.stringMatching(/^\$~\d+$/)]);
    expect(noise['GET /healthz']).toBeUndefined();
  });

  it('records a 4xx for a fix that refuses the invalid order', async () => {
    const refusing = invoicePy.replace(
      '    lines = [',
      '    if not order["items"]:\n        raise ValueError("an invoice needs at least one line")\n    lines = [',
    );
    const app = appPy.replace(
      '        except Exception:\n',
      '        except ValueError as err:\n            return self.reply(400, {"error": str(err)})\n        except Exception:\n',
    );
    const v = await verifyCandidate(baseline, {
      patch: makeGitPatch([
        { path: 'invoice.py', before: invoicePy, after: refusing },
        { path: 'app.py', before: appPy, after: app },
      ]),
    });
    expect(v.verdict, v.reasons.join('; ')).toBe('pass');
    expect(v.fixedStatusClass).toBe('4xx');
    expect(v.evidence.patched?.failing).toEqual([400]);
  });
});

describe('a fix that changes a healthy answer', () => {
  it.each([
    [
      'one id',
      replaced('% 1000000', '% 1000000 + 1'),
      (m: { base: unknown; candidate: unknown }) => m.candidate === (m.base as number) + 1,
      '$.invoiceId',
    ],
    [
      'one number',
      replaced('"total": total,', '"total": round(total * 1.19, 2),'),
      (m: { base: unknown; candidate: unknown }) => m.base === 28.2 && m.candidate === 33.56,
      '$.total',
    ],
    [
      'one date',
      replaced('PAYMENT_DAYS = 30', 'PAYMENT_DAYS = 31'),
      (m: { base: unknown; candidate: unknown }) => m.base === '2026-12-20' && m.candidate === '2026-12-21',
      '$.dueDate',
    ],
  ])('fails when the fix also changes %s', async (_what, change, values, path) => {
    const v = await verifyCandidate(baseline, withFix(change));
    expect(v.fixed).toBe(true);
    expect(v.verdict).toBe('fail');
    const at = v.differential.mismatches.filter((m) => m.request === 'POST /invoices' && m.path === path);
    expect(at).toHaveLength(1);
    expect(values(at[0]!), JSON.stringify(at[0])).toBe(true);
    expect(v.reasons.join('\n')).toMatch(/healthy request\(s\) answer differently after the patch/);
  });

  it('passes when the team lists the changed field as volatile in differential.ignore', async () => {
    const plusOne = withFix(
      replaced('"averageLine": round(total / len(lines), 2) if', '"averageLine": round(total / len(lines) + 1, 2) if'),
    );
    const strict = await verifyCandidate(baseline, plusOne);
    expect(strict.differential.mismatches.map((m) => m.path)).toEqual(['$.averageLine']);
    const lenient = await prepareBaseline({
      tree: dir,
      config: { ...config, differential: { maxSamples: 20, ignore: ['$.averageLine'] } },
      incident,
    });
    const v = await verifyCandidate(lenient, plusOne);
    expect(v.verdict, v.reasons.join('; ')).toBe('pass');
  });
});
