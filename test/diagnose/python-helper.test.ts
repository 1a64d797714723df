/**
 * The python3 helper: the stdlib `ast` with exact offsets (UTF-16, as JavaScript indexes the source),
 * parsing only — what it reads is never run — and one clear line when python3 is missing.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isNode, type PyNode } from '../../src/diagnose/strategies/template/python/ast.ts';
import { PythonParser } from '../../src/diagnose/strategies/template/python/helper.ts';
import { SutureError } from '../../src/errors.ts';

const parser = new PythonParser();
afterAll(() => parser.close());

function nodes(n: PyNode, out: PyNode[] = []): PyNode[] {
  out.push(n);
  for (const v of Object.values(n)) {
    if (isNode(v)) nodes(v, out);
    else if (Array.isArray(v)) for (const x of v) if (isNode(x)) nodes(x, out);
  }
  return out;
}

describe('python3 helper', () => {
  it('gives every node its exact span, across non-ASCII text and every line ending', async () => {
    const names = fc.constantFrom('a', 'x1', 'café', 'λ', 'naïve_total', '変数');
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '😀', '中', ' ', '—', 'ß'), maxLength: 12 });
    const eol = fc.constantFrom('\n', '\r\n', '\r');
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(names, text), { minLength: 1, maxLength: 6 }), eol, async (lines, nl) => {
        const source = lines.map(([n, t]) => `${n} = "${t}"; y_${n.length} = ${n}`).join(nl) + nl;
        const r = await parser.parse(source);
        expect(r.ok).toBe(true);
        if (!r.ok) return;
        for (const n of nodes(r.tree)) {
          if (n._t === 'Name') expect(source.slice(n.s, n.e)).toBe(n.id);
          if (n._t === 'Constant' && typeof n.value === 'string') expect(source.slice(n.s, n.e)).toBe(`"${n.value}"`);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('reports a syntax error instead of a tree, and checks against an older grammar', async () => {
    expect(await parser.parse('def f(:\n    pass\n')).toMatchObject({
      ok: false,
      error: expect.stringMatching(/^SyntaxError: .*line 1/),
    });
    expect(await parser.check('if (n := 1):\n    pass\n')).toBeUndefined();
    expect(await parser.check('if (n := 1):\n    pass\n', [3, 7])).toMatch(/SyntaxError/);
  });

  it('never runs what it parses, nor imports from where it runs', async () => {
    const marker = join(tmpdir(), `suture-helper-ran-${process.pid}`);
    // A module named like a stdlib one in the helper's working directory must not shadow it.
    writeFileSync(join(tmpdir(), 'json.py'), `open(${JSON.stringify(marker)}, "w").write("imported")\n`);
    const r = await parser.parse(
      `open(${JSON.stringify(marker)}, "w").write("ran")\nimport os\nos.system("touch ${marker}")\n`,
    );
    expect(r.ok).toBe(true);
    expect(existsSync(marker)).toBe(false);
    const fresh = new PythonParser();
    try {
      expect((await fresh.parse('x = 1\n')).ok).toBe(true);
      expect(existsSync(marker)).toBe(false);
    } finally {
      fresh.close();
    }
  });

  it('fails with one clear line when python3 is not there', async () => {
    const previous = process.env.SUTURE_PYTHON;
    process.env.SUTURE_PYTHON = '/nonexistent/python3';
    const missing = new PythonParser();
    try {
      const err = await missing.parse('x = 1\n').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SutureError);
      expect((err as Error).message).toMatch(/^\/nonexistent\/python3 not found on PATH: suture needs python3/);
      expect((err as Error).message).not.toContain('\n');
    } finally {
      missing.close();
      if (previous === undefined) delete process.env.SUTURE_PYTHON;
      else process.env.SUTURE_PYTHON = previous;
    }
  });
});
