/**
 * The revert strategy's pure parts (issue 10, item 4): the function boundaries (a heuristic of its own,
 * behind BoundaryFinder) and revertInFunction — one commit's change blocks inside one function undone,
 * everything else in the file kept as it is at the base revision.
 */
import { createTwoFilesPatch } from 'diff';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { heuristicBoundaries, revertInFunction } from '../../src/diagnose/strategies/revert/index.ts';
import { revertWindow } from '../../src/diagnose/strategies/revert/window.ts';
import { GUARDED, lineOf, UNGUARDED } from './revert-fixture.ts';

/** A commit's diff of one file, as git prints it (3 lines of context). */
const diffOf = (before: string, after: string, path = 'f') =>
  createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, '', '', { context: 3 });

const fnAt = (path: string, text: string, line: number) => {
  const fn = heuristicBoundaries.enclosingFunction(path, text, line);
  if (!fn) throw new Error(`no function at ${path}:${line}`);
  return fn;
};

const PY_BEFORE = GUARDED;
const PY_AFTER = UNGUARDED;

describe('revertInFunction', () => {
  it('undoes the commit inside the crashing function only', () => {
    const crash = lineOf(PY_AFTER, 'return total / len');
    const r = revertInFunction(PY_AFTER, diffOf(PY_BEFORE, PY_AFTER), fnAt('q.py', PY_AFTER, crash));
    expect(r).toMatchObject({ ok: true, reverted: 1, outside: 1 });
    if (!r.ok) return;
    expect(r.text).toContain('    if not discounts:\n        return 0\n    total =');
    expect(r.text).toContain('round(subtotal, 2)');
    expect(r.text).toBe(PY_BEFORE.replace('"subtotal": subtotal,', '"subtotal": round(subtotal, 2),'));
  });

  it('finds the change where it is now, after later commits moved the function', () => {
    const later = `import math\nimport os\n\n\ndef helper():\n    return 1\n${PY_AFTER}`;
    const crash = lineOf(later, 'return total / len');
    const r = revertInFunction(later, diffOf(PY_BEFORE, PY_AFTER), fnAt('q.py', later, crash));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.text).toContain('def average_discount(discounts):\n    if not discounts:\n        return 0\n');
    if (r.ok) expect(r.text.startsWith('import math\nimport os\n')).toBe(true);
  });

  it('refuses when later commits rewrote the same lines of the function', () => {
    const later = PY_AFTER.replace(
      '    total = sum(d["percent"] for d in discounts)\n',
      '    total = sum(map(pct, discounts))\n',
    );
    const crash = lineOf(later, 'return total / len');
    const r = revertInFunction(later, diffOf(PY_BEFORE, PY_AFTER), fnAt('q.py', later, crash));
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/no longer applies/) });
  });

  it('refuses a commit that changed nothing inside the function, created the file, or rewrote its header', () => {
    const onlyQuote = PY_BEFORE.replace('"subtotal": subtotal,', '"subtotal": round(subtotal, 2),');
    const crash = lineOf(onlyQuote, 'return total / len');
    expect(revertInFunction(onlyQuote, diffOf(PY_BEFORE, onlyQuote), fnAt('q.py', onlyQuote, crash))).toEqual({
      ok: false,
      reason: expect.stringMatching(/changed nothing inside this function/),
    });
    expect(
      revertInFunction(PY_AFTER, diffOf('', PY_AFTER).replace('--- a/f', '--- /dev/null'), fnAt('q.py', PY_AFTER, 7)),
    ).toEqual({
      ok: false,
      reason: expect.stringMatching(/created this file/),
    });
    const renamed = PY_BEFORE.replace(
      'def average_discount(discounts):\n    if not discounts:\n        return 0\n',
      'def average_discount(discounts, default=0):\n',
    );
    const at = lineOf(renamed, 'return total / len');
    expect(revertInFunction(renamed, diffOf(PY_BEFORE, renamed), fnAt('q.py', renamed, at))).toEqual({
      ok: false,
      reason: expect.stringMatching(/header/),
    });
  });

  it('a whole function the commit added is not "reverted" away', () => {
    const added = `${PY_BEFORE}\n\ndef ratio(a, b):\n    return a / b\n`;
    const r = revertInFunction(added, diffOf(PY_BEFORE, added), fnAt('q.py', added, lineOf(added, 'return a / b')));
    expect(r.ok).toBe(false);
  });

  it('JavaScript: a handler whose destructuring a commit changed, other handlers kept', () => {
    const before = [
      "import express from 'express';",
      'const app = express();',
      '',
      "app.post('/ship', async (req, res) => {",
      '  const address = req.body.shipping?.address ?? {};',
      '  const { city, country } = address;',
      '  res.json({ city: city ?? null, country: country ?? null });',
      '});',
      '',
      "app.get('/healthz', (req, res) => {",
      "  res.json({ status: 'ok' });",
      '});',
      '',
    ].join('\n');
    const after = before
      .replace(
        '  const address = req.body.shipping?.address ?? {};\n  const { city, country } = address;',
        '  const { city, country } = req.body.shipping.address;',
      )
      .replace("res.json({ status: 'ok' })", "res.json({ status: 'ok', version: 2 })");
    const crash = lineOf(after, 'req.body.shipping.address');
    const fn = fnAt('server.js', after, crash);
    expect(fn.start).toBe(lineOf(after, "app.post('/ship'"));
    const r = revertInFunction(after, diffOf(before, after), fn);
    expect(r).toMatchObject({ ok: true, reverted: 1, outside: 1 });
    if (r.ok)
      expect(r.text).toBe(before.replace("res.json({ status: 'ok' })", "res.json({ status: 'ok', version: 2 })"));
  });

  it('keeps CRLF line endings', () => {
    const crlf = (s: string) => s.replace(/\n/g, '\r\n');
    const r = revertInFunction(
      crlf(PY_AFTER),
      diffOf(crlf(PY_BEFORE), crlf(PY_AFTER)),
      fnAt('q.py', crlf(PY_AFTER), lineOf(PY_AFTER, 'return total / len')),
    );
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.text).toContain('    if not discounts:\r\n        return 0\r\n');
  });

  it('a diff it cannot read is a reason, never an exception', () => {
    const r = revertInFunction(PY_AFTER, '@@ -1,2 +1,9 @@\n garbage\n', { start: 1, end: 3 });
    expect(r.ok).toBe(false);
  });
});

describe('revertInFunction: properties', () => {
  // Files of small functions; a commit edits their bodies (never a `def` line).
  const body = fc.array(fc.constantFrom('x = 1', 'y = x + 2', 'return y', 'z = [x, y]', 'print(z)', 'pass'), {
    minLength: 1,
    maxLength: 5,
  });
  const file = fc.array(body, { minLength: 2, maxLength: 5 });
  const render = (fns: string[][]) =>
    fns.map((b, i) => `def f${i}(a):\n${b.map((l) => `    ${l}`).join('\n')}\n`).join('\n');

  it('whatever the commit did, no line outside the function changes', () => {
    fc.assert(
      fc.property(file, file, fc.nat(), (olds, news, pick) => {
        const n = Math.min(olds.length, news.length);
        const before = render(olds.slice(0, n));
        const after = render(news.slice(0, n));
        const k = pick % n;
        const fn = fnAt('m.py', after, lineOf(after, `def f${k}(a):`) + 1);
        const r = revertInFunction(after, diffOf(before, after), fn);
        if (!r.ok) return;
        const a = after.split('\n');
        const t = r.text.split('\n');
        expect(t.slice(0, fn.start - 1)).toEqual(a.slice(0, fn.start - 1));
        expect(t.slice(r.range.end)).toEqual(a.slice(fn.end));
      }),
      { numRuns: 300 },
    );
  });

  it('a commit that changed only that function is undone exactly', () => {
    fc.assert(
      fc.property(file, body, fc.nat(), (fns, changed, pick) => {
        const k = pick % fns.length;
        fc.pre(changed.join() !== fns[k]!.join());
        const before = render(fns);
        const after = render(fns.map((b, i) => (i === k ? changed : b)));
        const fn = fnAt('m.py', after, lineOf(after, `def f${k}(a):`) + 1);
        const r = revertInFunction(after, diffOf(before, after), fn);
        expect(r.ok && r.text).toBe(before);
      }),
      { numRuns: 300 },
    );
  });
});

describe('heuristicBoundaries', () => {
  it('Python: the innermost def, decorators and nested helpers, multi-line signatures, module level', () => {
    const src = [
      'import os', // 1
      '', // 2
      '@app.route("/x")', // 3
      'def handler(', // 4
      '    a,', // 5
      '    b=(1,', // 6
      '2),', // 7
      '):', // 8
      '    def inner(v):', // 9
      '        return v / a', // 10
      '', // 11
      '    # a comment at column 0 below does not end the function', // 12
      '# stray', // 13
      '    if a:', // 14
      '        return inner(b)', // 15
      '    return 0', // 16
      '', // 17
      'X = handler(1)', // 18
      'class K:', // 19
      '    async def m(self):', // 20
      '        await self.go()', // 21
    ].join('\n');
    const at = (l: number) => heuristicBoundaries.enclosingFunction('a.py', src, l);
    expect(at(10)).toEqual({ start: 9, end: 10, name: 'inner' });
    expect(at(15)).toEqual({ start: 4, end: 16, name: 'handler' });
    expect(at(4)).toEqual({ start: 4, end: 16, name: 'handler' });
    expect(at(21)).toEqual({ start: 20, end: 21, name: 'm' });
    expect(at(18)).toBeUndefined();
    expect(at(1)).toBeUndefined();
  });

  it('JavaScript/TypeScript: functions, arrows, methods, typed returns; not if-blocks or object literals', () => {
    const src = [
      'export function total(items) {', // 1
      '  if (items.length) {', // 2
      '    return items.reduce((a, b) => {', // 3
      '      return a + b.price;', // 4
      '    }, 0);', // 5
      '  }', // 6
      '  const s = `{ $' + "{items.map((i) => i.id).join('}')} }`;", // 7
      '  const re = /[{]/;', // 8
      '  return { zero: 0 }; // }', // 9
      '}', // 10
      'class Cart {', // 11
      '  async load(id: string): Promise<Map<string, number>> {', // 12
      '    const opts = { id };', // 13
      '    return this.db.get(opts);', // 14
      '  }', // 15
      '}', // 16
      'const handler = async (req, res) =>', // 17
      '{', // 18
      '  res.end(req.body.a.b);', // 19
      '};', // 20
      'if (x) {', // 21
      '  y();', // 22
      '}', // 23
    ].join('\n');
    const at = (l: number) => heuristicBoundaries.enclosingFunction('a.ts', src, l);
    expect(at(4)).toMatchObject({ start: 3, end: 5 });
    expect(at(2)).toEqual({ start: 1, end: 10, name: 'total' });
    expect(at(9)).toEqual({ start: 1, end: 10, name: 'total' });
    expect(at(13)).toEqual({ start: 12, end: 15, name: 'load' });
    expect(at(19)).toMatchObject({ start: 17, end: 20 });
    expect(at(22)).toBeUndefined();
    expect(heuristicBoundaries.enclosingFunction('a.rb', src, 4)).toBeUndefined();
  });
});

describe('revertWindow', () => {
  it('72 h by default; the operator sets it; suture.yaml may only shorten it', () => {
    expect(revertWindow({})).toEqual({ hours: 72, source: 'default' });
    expect(revertWindow({ SUTURE_REVERT_WINDOW_HOURS: '240' })).toEqual({ hours: 240, source: 'operator' });
    expect(revertWindow({ SUTURE_REVERT_WINDOW_HOURS: '0' })).toEqual({ hours: 0, source: 'operator' });
    expect(revertWindow({}, 24)).toEqual({ hours: 24, source: 'suture.yaml' });
    expect(revertWindow({}, 0)).toEqual({ hours: 0, source: 'suture.yaml' });
    expect(revertWindow({ SUTURE_REVERT_WINDOW_HOURS: '12' }, 9000)).toEqual({ hours: 12, source: 'operator' });
    expect(revertWindow({}, 100000)).toEqual({ hours: 72, source: 'default' });
  });

  it('an operator value that is not a number of hours is a configuration error', () => {
    for (const v of ['-1', 'abc', '1e9', 'Infinity']) {
      expect(() => revertWindow({ SUTURE_REVERT_WINDOW_HOURS: v })).toThrow(/SUTURE_REVERT_WINDOW_HOURS/);
    }
  });
});
