/**
 * The repair templates never write incident text into the code they patch (issue 8, finding 1): whatever an
 * exception message or a frame's function name holds, the lines a template adds to the service's source
 * are made of that source and the template's own tokens only.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../src/config/service.ts';
import { diagnose } from '../../src/diagnose/index.ts';
import type { RepairContext } from '../../src/diagnose/types.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { node, py } from './configs.ts';

/** Text an attacker puts in an exception message or a function name; `EVIL` marks it. */
const hostile = fc
  .array(
    fc.oneof(
      fc.constantFrom('EVIL', '"', "'", '`', ']', ')', '(', '\\', '\n', ' ', '#', '//', ';', 'coupon', 'country', '${'),
      fc.string({ maxLength: 3 }),
    ),
    { maxLength: 12 },
  )
  .map((parts) => `${parts.join('')}EVIL`);

function context(logs: string, file: string, src: string, config: ServiceConfig): RepairContext {
  const incident = buildIncident(
    { kind: 'crash', service: 'svc', logs, requests: [{ method: 'POST', path: '/x', body: '{}' }] },
    [file],
  );
  return {
    incident,
    config,
    evidence: { frames: [], excerpts: [], commits: [], logs, redactions: 0 },
    repoFiles: [file],
    readFile: async (p) => (p === file ? src : undefined),
  };
}

/** Lines the candidates add to `file` (the regression test is checked by its own property test). */
async function addedLines(ctx: RepairContext, file: string): Promise<string[]> {
  const { candidates } = await diagnose(ctx);
  return candidates.flatMap((c) =>
    c.patch
      .split(/^diff --git /m)
      .filter((section) => section.startsWith(`a/${file} `))
      .flatMap((section) => section.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'))),
  );
}

const PY_SRC = 'def price(order, xs):\n    total = order["coupon"] + order["country"]\n    return total / len(xs)\n';
const pyTrace = (line: number, fn: string, exception: string) =>
  `Traceback (most recent call last):\n  File "/srv/svc/calc.py", line ${line}, in ${fn}\n    x\n${exception}\n`;

describe('templates keep incident text out of patched code', () => {
  it('dict-get: whatever the KeyError message holds', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, hostile, async (key, fn) => {
        for (const message of [`'${key}'`, `"${key}"`, key]) {
          const ctx = context(pyTrace(2, fn.replace(/\n/g, ' '), `KeyError: ${message}`), 'calc.py', PY_SRC, py);
          for (const line of await addedLines(ctx, 'calc.py')) expect(line).not.toContain('EVIL');
        }
      }),
      { numRuns: 150 },
    );
  });

  it('zero-division: whatever the function name and message hold', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, hostile, async (fn, message) => {
        const ctx = context(pyTrace(3, fn.replace(/\n/g, ' '), `ZeroDivisionError: ${message}`), 'calc.py', PY_SRC, py);
        const lines = await addedLines(ctx, 'calc.py');
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines) expect(line).not.toContain('EVIL');
      }),
      { numRuns: 150 },
    );
  });

  it('optional-chaining: whatever the TypeError names as the property', async () => {
    const src = 'export function rate(o) {\n  return o.shipping.address.country;\n}\n';
    await fc.assert(
      fc.asyncProperty(hostile, fc.integer({ min: 1, max: 40 }), async (prop, col) => {
        for (const p of [prop, `country${prop}`, prop.replace(/'/g, '')]) {
          const logs = `TypeError: Cannot read properties of undefined (reading '${p}')\n    at rate (file:///app/orders.js:2:${col})\n`;
          for (const line of await addedLines(context(logs, 'orders.js', src, node), 'orders.js')) {
            expect(line).not.toContain('EVIL');
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
