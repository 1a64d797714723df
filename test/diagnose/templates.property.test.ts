/**
 * The repair templates never write incident text into the code they patch (issue 8, finding 1): whatever an
 * exception message or a frame's function name holds, the lines a template adds to the service's source
 * are made of that source and the template's own tokens only.
 */
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../src/config/service.ts';
import { makeGitPatch } from '../../src/diagnose/patch.ts';
import { templateProposals } from '../../src/diagnose/strategies/template/index.ts';
import { syntaxError } from '../../src/diagnose/strategies/template/js/ast.ts';
import type { RepairContext } from '../../src/diagnose/types.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { node, py } from './configs.ts';
import { closeParser, contextFor, sharedParser } from './harness.ts';
import { changedSpan } from './locality.ts';

afterAll(() => closeParser());

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

/**
 * Lines the template variants add to `file`, as their git patches carry them (the regression test is
 * checked by its own property test). One python3 helper for the whole file keeps 150 runs quick.
 */
async function addedLines(ctx: RepairContext, file: string): Promise<string[]> {
  const { proposals } = await templateProposals(ctx, sharedParser);
  return proposals.flatMap((p) =>
    makeGitPatch(p.edits)
      .split(/^diff --git /m)
      .filter((section) => section.startsWith(`a/${file} `))
      .flatMap((section) => section.split('\n').filter((l) => l.startsWith('+') && !l.startsWith('+++'))),
  );
}

const PY_SRC = 'def price(order, xs):\n    total = order["coupon"] + order["country"]\n    return total / len(xs)\n';
/** The frame quotes the real line (a trace quoting another line is refused before any template runs). */
const pyTrace = (line: number, fn: string, exception: string) =>
  `Traceback (most recent call last):\n  File "/srv/svc/calc.py", line ${line}, in ${fn}\n    ${PY_SRC.split('\n')[line - 1]!.trim()}\n${exception}\n`;

describe('templates keep incident text out of patched code', () => {
  it('dict-get: whatever the KeyError message holds', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, hostile, async (key, fn) => {
        for (const message of [`'${key}'`, `"${key}"`, key, "'coupon'"]) {
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

/**
 * Generated modules: padding functions around a target whose nested read fails at a random step. Every
 * variant parses and changes only the target function (no handler on these stacks, so nothing else).
 */
describe('template edits stay inside the crashing function', () => {
  const ident = fc
    .stringMatching(/^[a-z][a-z0-9_]{0,6}$/)
    .filter(
      (s) =>
        !/^(if|in|is|or|and|not|for|def|del|try|as|new|var|let|do|return|class|with|from|None|True|False|pass|else|elif|while|break|yield|lambda|global|import|raise|assert|continue|finally|except|async|await|nonlocal|this|null|void|case|enum|typeof|delete|switch|default|const|function|export|super|throw|catch|instanceof|debugger|extends|implements|interface|package|private|protected|public|static|true|false|undefined|order)$/.test(
          s,
        ),
    );
  const program = fc.record({
    before: fc.array(ident, { maxLength: 3 }),
    after: fc.array(ident, { maxLength: 3 }),
    keys: fc.uniqueArray(ident, { minLength: 2, maxLength: 4 }),
    failAt: fc.nat(),
    use: fc.constantFrom('upper', 'plain', 'arith'),
  });

  it('Python: KeyError at any step of a nested read', async () => {
    const parser = sharedParser();
    await fc.assert(
      fc.asyncProperty(program, async ({ before, after, keys, failAt, use }) => {
        const pad = (names: string[], tag: string) =>
          names.map((n, i) => `def ${tag}_${n}_${i}(v):\n    return v\n\n\n`).join('');
        const read = `order${keys.map((k) => `["${k}"]`).join('')}`;
        const value = use === 'upper' ? 'value.upper()' : use === 'arith' ? 'value * 2' : 'value';
        const target = `def target(order):\n    value = ${read}\n    return ${value}\n`;
        const src = `${pad(before, 'a')}${target}\n\n${pad(after, 'b')}`;
        const line = src.split('\n').findIndex((l) => l.includes('value = ')) + 1;
        const missing = keys[failAt % keys.length]!;
        const logs = `Traceback (most recent call last):\n  File "/srv/app/mod.py", line ${line}, in target\n    value = ${read}\nKeyError: '${missing}'\n`;
        const { proposals } = await templateProposals(contextFor('python', { 'mod.py': src }, logs), () => parser);
        expect(proposals.length).toBeGreaterThan(0);
        const start = src.indexOf('def target');
        const end = start + target.length;
        for (const p of proposals) {
          const e = p.edits[0]!;
          expect(await parser.check(e.after)).toBeUndefined();
          const [a, b] = changedSpan(src, e.after);
          expect(a).toBeGreaterThanOrEqual(start);
          expect(b).toBeLessThanOrEqual(end);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('JavaScript: undefined at any step of a nested read', async () => {
    await fc.assert(
      fc.asyncProperty(program, fc.boolean(), async ({ before, after, keys, failAt, use }, destructure) => {
        const pad = (names: string[], tag: string) =>
          names.map((n, i) => `function ${tag}_${n}_${i}(v) {\n  return v;\n}\n\n`).join('');
        const at = 1 + (failAt % (keys.length - 1));
        const read = `order.${keys.join('.')}`;
        const last = keys[keys.length - 1]!;
        const value = use === 'upper' ? `${last}.toUpperCase()` : use === 'arith' ? `${last} * 2` : last;
        const body = destructure
          ? `  const { ${last} } = order.${keys.slice(0, -1).join('.')};\n  return ${value};\n`
          : `  const ${last} = ${read};\n  return ${value};\n`;
        const target = `export function target(order) {\n${body}}\n`;
        const src = `${pad(before, 'a')}${target}\n${pad(after, 'b')}`;
        const lines = src.split('\n');
        const line = lines.findIndex((l) => l.includes(`const `) && l.includes('order.')) + 1;
        const text = lines[line - 1]!;
        const prop = destructure ? keys[Math.min(at, keys.length - 2)]! : keys[at]!;
        const message =
          destructure && at >= keys.length - 1
            ? `Cannot destructure property '${last}' of 'order.${keys.slice(0, -1).join('.')}' as it is undefined.`
            : `Cannot read properties of undefined (reading '${prop}')`;
        const col = destructure && at >= keys.length - 1 ? text.indexOf('{') + 1 : text.indexOf(`.${prop}`) + 2;
        const logs = `TypeError: ${message}\n    at target (file:///srv/app/mod.js:${line}:${col})\n`;
        const { proposals } = await templateProposals(contextFor('node', { 'mod.js': src }, logs), sharedParser);
        expect(proposals.length).toBeGreaterThan(0);
        const start = src.indexOf('export function target');
        const end = start + target.length;
        for (const p of proposals) {
          const e = p.edits[0]!;
          expect(syntaxError('mod.js', e.after)).toBeUndefined();
          const [a, b] = changedSpan(src, e.after);
          expect(a).toBeGreaterThanOrEqual(start);
          expect(b).toBeLessThanOrEqual(end);
        }
      }),
      { numRuns: 60 },
    );
  });
});
