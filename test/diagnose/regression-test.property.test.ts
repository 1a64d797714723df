/**
 * Incident text never becomes code (issue 8, finding 1). For arbitrary strings in every incident field that
 * reaches a generated regression test — service, environment, summary, request method, path, header names
 * and values, body — and in the service's start command, the generated Python and Node tests parse, have
 * exactly the code of a reference test (only the data literals differ), and each data literal parses back
 * to the value it was made from. Python is checked by one python3 `ast` process for the whole batch, Node
 * by the TypeScript parser.
 */
import { execa } from 'execa';
import fc from 'fast-check';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../src/config/service.ts';
import { asciiJson, jsonStringLiteral } from '../../src/diagnose/literal.ts';
import {
  committedRequest,
  incidentData,
  MAX_EMBEDDED_REQUEST,
  regressionTest,
} from '../../src/diagnose/regression-test.ts';
import type { Incident, RequestSample } from '../../src/incident/types.ts';
import { node, py as python } from './configs.ts';

const FP = '0123456789abcdef';

/** Strings made to break out of literals and comments, mixed with arbitrary code points and lone surrogates. */
const BREAKERS = [
  '"""',
  "'''",
  '"',
  "'",
  '`',
  '${',
  '\\',
  '\\u',
  '\\N{',
  '\n',
  '\r',
  '\r\n',
  '\u2028',
  '\u2029',
  '\u0085',
  '\0',
  '\x0b',
  '\x0c',
  '\u202e',
  '\ufeff',
  '*/',
  '//',
  '#',
  '</script>',
  '\nimport os; os.system("touch /tmp/pwned")\n',
  '"""; import os; os.system("id"); """',
  '\n});process.exit(0);//',
];
const hostile = fc.string({
  unit: fc.oneof(
    fc.constantFrom(...BREAKERS),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  ),
  maxLength: 20,
});

const requestArb: fc.Arbitrary<RequestSample> = fc.record(
  {
    method: hostile,
    path: hostile,
    headers: fc.dictionary(fc.oneof(hostile, fc.constantFrom('content-type', 'accept', 'authorization')), hostile, {
      maxKeys: 4,
    }),
    body: fc.oneof(
      hostile,
      hostile.map((s) => JSON.stringify({ note: s, password: s })),
    ),
    status: fc.constant(500),
  },
  { requiredKeys: ['method', 'path'] },
);

const sampleArb = fc.record({
  service: hostile,
  environment: hostile,
  summary: hostile,
  start: hostile,
  request: requestArb,
});
type Sample = typeof sampleArb extends fc.Arbitrary<infer T> ? T : never;

function incidentOf(s: Pick<Sample, 'service' | 'environment' | 'summary' | 'request'>): Incident {
  return {
    id: `${FP.slice(0, 12)}-20261123042733`,
    fingerprint: FP,
    service: s.service,
    environment: s.environment,
    signal: 'crash',
    summary: s.summary,
    detectedAt: '2026-11-23T04:27:33Z',
    logs: '',
    requests: [s.request],
    healthyRequests: [],
    labels: {},
  };
}

const REFERENCE: Sample = {
  service: 'pricing-api',
  environment: 'production',
  summary: 'ZeroDivisionError: division by zero',
  start: 'python3 app.py',
  request: { method: 'POST', path: '/quote', headers: { 'content-type': 'application/json' }, body: '{}' },
};

function generate(s: Sample, config: ServiceConfig): string {
  const edit = regressionTest(incidentOf(s), { ...config, start: s.start || 'x' }, []);
  if (!edit) throw new Error('no test generated');
  return edit.after;
}

/** What each data literal must parse back to. */
function expected(s: Sample) {
  return {
    START: s.start || 'x',
    HEALTH: '/healthz',
    INCIDENT: incidentData(incidentOf(s)),
    REQUEST: committedRequest(s.request),
  };
}

/**
 * For each source: its syntax error, or its AST dumped with the data literals replaced by a placeholder,
 * and the data literals parsed by json.loads. One process for the batch.
 */
const PY_CHECK = `
import ast, json, sys
for line in sys.stdin:
    src = json.loads(line)
    try:
        tree = ast.parse(src)
    except SyntaxError as e:
        print(json.dumps({"error": repr(e)}))
        continue
    data = {}
    for node in tree.body:
        v = getattr(node, "value", None)
        if (isinstance(node, ast.Assign) and isinstance(v, ast.Call) and isinstance(v.func, ast.Attribute)
                and v.func.attr == "loads" and len(v.args) == 1 and isinstance(v.args[0], ast.Constant)
                and isinstance(v.args[0].value, str)):
            data[node.targets[0].id] = json.loads(v.args[0].value)
            v.args[0].value = "<data>"
    print(json.dumps({"dump": ast.dump(tree), "data": data}))
`;

async function checkPython(sources: string[]): Promise<{ error?: string; dump?: string; data?: unknown }[]> {
  const r = await execa('python3', ['-c', PY_CHECK], {
    input: sources.map((s) => JSON.stringify(s)).join('\n'),
    stripFinalNewline: true,
  });
  return r.stdout.split('\n').map((l) => JSON.parse(l));
}

/** Syntax errors, the source with the data literals blanked, and the data parsed by JSON.parse. */
function checkNode(source: string): { errors: string[]; code: string; data: Record<string, unknown> } {
  const sf = ts.createSourceFile('t.test.mjs', source, ts.ScriptTarget.Latest, true, ts.ScriptKind.JS);
  const errors = ((sf as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics ?? []).map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  );
  const data: Record<string, unknown> = {};
  let code = '';
  let at = 0;
  for (const stmt of sf.statements) {
    if (!ts.isVariableStatement(stmt)) continue;
    for (const decl of stmt.declarationList.declarations) {
      const init = decl.initializer;
      if (
        init &&
        ts.isCallExpression(init) &&
        init.expression.getText(sf) === 'JSON.parse' &&
        init.arguments.length === 1 &&
        ts.isStringLiteral(init.arguments[0]!)
      ) {
        const lit = init.arguments[0] as ts.StringLiteral;
        data[decl.name.getText(sf)] = JSON.parse(lit.text);
        code += `${source.slice(at, lit.getStart(sf))}"<data>"`;
        at = lit.getEnd();
      }
    }
  }
  return { errors, code: code + source.slice(at), data };
}

describe('data literals', () => {
  it('are printable ASCII and parse back to the value, in JavaScript and (below) Python', () => {
    fc.assert(
      fc.property(fc.jsonValue(), hostile, (value, s) => {
        for (const v of [value, s, { s, value }]) {
          const lit = jsonStringLiteral(v);
          expect(lit).toMatch(/^"[\x20-\x7e]*"$/);
          expect(JSON.parse(JSON.parse(lit))).toEqual(JSON.parse(JSON.stringify(v)));
        }
      }),
    );
  });

  it('escape exactly what needs it (U+2028, lone surrogates, NUL, backslashes, quotes)', async () => {
    const tricky = ['\u2028\u2029\u0085', '\ud800', '\udfff\ud800', '\0\x7f', '\\"\\\\', '"""', '😀é'];
    for (const s of tricky) expect(asciiJson(s)).toMatch(/^"[\x20-\x7e]*"$/);
    const sources = tricky.map((s) => `import json\nV = json.loads(${jsonStringLiteral(s)})\n`);
    const results = await checkPython(sources);
    expect(results.map((r) => r.data)).toEqual(tricky.map((s) => ({ V: s })));
  });
});

describe('generated regression tests hold incident text only as data', () => {
  const seed = Date.now();
  const samples = fc.sample(sampleArb, { numRuns: 250, seed });

  it('Python: parses, same AST as the reference but for data, data round-trips', async () => {
    const sources = [REFERENCE, ...samples].map((s) => generate(s, python));
    const [ref, ...results] = await checkPython(sources);
    expect(ref!.error).toBeUndefined();
    results.forEach((r, i) => {
      const s = samples[i]!;
      expect(r.error, `seed ${seed}: ${JSON.stringify(s)}`).toBeUndefined();
      expect(r.dump, `seed ${seed}: ${JSON.stringify(s)}`).toBe(ref!.dump);
      expect(r.data, `seed ${seed}: ${JSON.stringify(s)}`).toEqual(expected(s));
    });
  });

  it('Node: parses, same code as the reference but for data, data round-trips', () => {
    const ref = checkNode(generate(REFERENCE, node));
    expect(ref.errors).toEqual([]);
    expect(Object.keys(ref.data)).toEqual(['START', 'HEALTH', 'INCIDENT', 'REQUEST']);
    for (const s of samples) {
      const r = checkNode(generate(s, node));
      expect(r.errors, `seed ${seed}: ${JSON.stringify(s)}`).toEqual([]);
      expect(r.code, `seed ${seed}: ${JSON.stringify(s)}`).toBe(ref.code);
      expect(r.data, `seed ${seed}: ${JSON.stringify(s)}`).toEqual(expected(s));
    }
  });

  it('the committed request keeps no credential, and names come only from the fingerprint', () => {
    const s: Sample = {
      ...REFERENCE,
      service: 'x"""\nimport os',
      request: {
        method: 'POST',
        path: '/pay?token=tok-s3cr3t-1',
        headers: { 'x-upstream-token': 's3cr3t-2', 'content-type': 'application/json' },
        body: JSON.stringify({ password: 's3cr3t-3', card: '4111111111111111', cvv: '123' }),
      },
    };
    const edit = regressionTest(incidentOf(s), python, ['tests/test_x.py'])!;
    expect(edit.path).toBe('tests/test_suture_0123456789ab.py');
    expect(edit.after).not.toMatch(/s3cr3t|4111|"123"/);
    expect(() => regressionTest({ ...incidentOf(s), fingerprint: 'x/../../evil' }, python, [])).toThrow(/not hex/);
  });

  it('embeds a request up to 256 KiB of literal; a bigger one is replayed by verification, not committed', () => {
    const body = (n: number) => JSON.stringify({ discounts: [], note: '\u2028'.repeat(n) });
    const small = regressionTest(
      incidentOf({ ...REFERENCE, request: { ...REFERENCE.request, body: body(20_000) } }),
      python,
      [],
    );
    expect(small!.after.length).toBeLessThan(MAX_EMBEDDED_REQUEST + 8 * 1024);
    const big = regressionTest(
      incidentOf({ ...REFERENCE, request: { ...REFERENCE.request, body: body(60_000) } }),
      python,
      [],
    );
    expect(big).toBeUndefined();
  });
});
