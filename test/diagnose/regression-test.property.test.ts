/**
 * Incident text never becomes code (issue 8, finding 1). For arbitrary strings in every incident field that
 * reaches a generated regression test — service, environment, summary, request method, path, header names
 * and values, body — and in the service's start command, the generated Python and Node tests parse, have
 * exactly the code of a reference test (only the data literals differ), and each data literal parses back
 * to the value it was made from. Python is checked by one python3 `ast` process for the whole batch, Node
 * by the TypeScript parser. The same holds for every generator variant (pytest/unittest; HTTP replay, test
 * client fixture or imported app, function-level; node:test/jest/vitest/mocha, ESM/CommonJS/TypeScript,
 * supertest; appended to an existing file), with the names read from the trace and the repo (function,
 * fixture, attribute, export) hostile too: they are data as well. The one thing in code, the module a test
 * imports, is refused unless it is a plain module name or relative path.
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
import { type NodeBody, renderNode } from '../../src/diagnose/tests/render-node.ts';
import { type PyBody, renderPython } from '../../src/diagnose/tests/render-python.ts';
import type { Framework } from '../../src/diagnose/tests/setup.ts';
import type { NodeStyle, PythonStyle } from '../../src/diagnose/tests/style.ts';
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
    for node in ast.walk(tree):
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
function checkNode(
  source: string,
  kind = ts.ScriptKind.JS,
): { errors: string[]; code: string; data: Record<string, unknown> } {
  const sf = ts.createSourceFile('t.test.mjs', source, ts.ScriptTarget.Latest, true, kind);
  const errors = ((sf as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics ?? []).map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  );
  const data: Record<string, unknown> = {};
  const literals: ts.StringLiteral[] = [];
  const visit = (n: ts.Node) => {
    if (ts.isVariableDeclaration(n)) {
      const init = n.initializer;
      if (
        init &&
        ts.isCallExpression(init) &&
        init.expression.getText(sf) === 'JSON.parse' &&
        init.arguments.length === 1 &&
        ts.isStringLiteral(init.arguments[0]!)
      ) {
        const lit = init.arguments[0] as ts.StringLiteral;
        data[n.name.getText(sf)] = JSON.parse(lit.text);
        literals.push(lit);
      }
    }
    n.forEachChild(visit);
  };
  visit(sf);
  let code = '';
  let at = 0;
  for (const lit of literals.sort((a, b) => a.getStart(sf) - b.getStart(sf))) {
    code += `${source.slice(at, lit.getStart(sf))}"<data>"`;
    at = lit.getEnd();
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

describe('every generator variant holds incident and repo text only as data', () => {
  const seed = Date.now() + 1;
  const json = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      hostile,
      fc.integer(),
      fc.constant(null),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(hostile, tie('v'), { maxKeys: 3 }),
    ),
  })).v;
  const variantArb = fc.record({
    sample: sampleArb,
    name: hostile,
    path: hostile,
    args: fc.dictionary(hostile, json, { maxKeys: 3 }),
    list: fc.array(json, { maxLength: 3 }),
  });
  type V = typeof variantArb extends fc.Arbitrary<infer T> ? T : never;
  const samples = fc.sample(variantArb, { numRuns: 40, seed });
  const ref: V = { sample: REFERENCE, name: 'client', path: '', args: { orders: [] }, list: [{ a: 1 }] };

  const pyBodies = (v: V): [string, PyBody][] => {
    const request = committedRequest(v.sample.request);
    return [
      ['http', { kind: 'http', start: v.sample.start, health: '/healthz', request }],
      ...(['werkzeug', 'httpx', 'verbs'] as const).map(
        (api) =>
          [`fixture-${api}`, { kind: 'client', client: { via: 'fixture', fixture: v.name, api }, request }] as [
            string,
            PyBody,
          ],
      ),
      ...(['werkzeug', 'httpx'] as const).map(
        (api) =>
          [
            `import-${api}`,
            {
              kind: 'client',
              client: {
                via: 'import',
                sysPath: v.path,
                module: 'app.main',
                attr: v.name,
                factory: api === 'httpx',
                api,
              },
              request,
            },
          ] as [string, PyBody],
      ),
      [
        'function',
        {
          kind: 'function',
          call: {
            language: 'python',
            file: 'pkg/jobs.py',
            function: v.name,
            isAsync: false,
            module: 'pkg.jobs',
            sysPath: v.path,
            kwargs: v.args,
            exception: v.sample.summary,
          },
        },
      ],
    ];
  };
  const pyStyles: [string, PythonStyle][] = [
    ['pytest', { kind: 'function', functionPrefix: 'test', markers: [] }],
    ['unittest', { kind: 'testcase', functionPrefix: 'test', markers: [] }],
    ['pytest-marked', { kind: 'function', functionPrefix: 'check', markers: ['unit'] }],
  ];
  const pyVariants = pyStyles.flatMap(([sn, style]) =>
    pyBodies(ref).flatMap(([bn], bi) =>
      [false, true].map((append) => ({
        name: `${sn} ${bn}${append ? ' appended' : ''}`,
        render: (v: V) =>
          renderPython({
            fp: FP.slice(0, 12),
            style,
            depth: 1,
            incident: incidentData(incidentOf(v.sample)),
            body: pyBodies(v)[bi]![1],
            append,
          }),
      })),
    ),
  );

  it(`Python (${pyVariants.length} variants): parse, same AST as their reference but for data, data round-trips`, async () => {
    const sources = pyVariants.flatMap((x) => [x.render(ref), ...samples.map((v) => x.render(v))]);
    const results = await checkPython(sources);
    pyVariants.forEach((x, i) => {
      const [r0, ...rs] = results.slice(i * (samples.length + 1), (i + 1) * (samples.length + 1));
      expect(r0!.error, x.name).toBeUndefined();
      rs.forEach((r, j) => {
        const where = `${x.name}, seed ${seed}: ${JSON.stringify(samples[j])}`;
        expect(r.error, where).toBeUndefined();
        expect(r.dump, where).toBe(r0!.dump);
        const body = pyBodies(samples[j]!)[pyBodies(ref).findIndex(([bn]) => x.name.includes(` ${bn}`))]!;
        expect(Object.keys(r.data as object).sort(), where).toEqual(Object.keys(r0!.data as object).sort());
        expect((r.data as Record<string, unknown>).INCIDENT, where).toEqual(
          incidentData(incidentOf(samples[j]!.sample)),
        );
        if (body[1].kind !== 'function')
          expect((r.data as Record<string, unknown>).REQUEST, where).toEqual(
            committedRequest(samples[j]!.sample.request),
          );
        else
          expect((r.data as Record<string, unknown>).ARGS, where).toEqual(JSON.parse(JSON.stringify(samples[j]!.args)));
      });
    });
  });

  const nodeBodies = (v: V): [string, NodeBody][] => {
    const request = committedRequest(v.sample.request);
    return [
      ['http', { kind: 'http', start: v.sample.start, health: '/healthz', request }],
      ['supertest', { kind: 'supertest', app: { spec: '../src/app.js', binding: v.name, factory: true }, request }],
      [
        'function',
        {
          kind: 'function',
          spec: '../lib/jobs.js',
          binding: v.name,
          fn: v.name,
          exception: v.sample.summary,
          args: v.list,
        },
      ],
    ];
  };
  const base: NodeStyle = {
    syntax: 'esm',
    runtime: 'esm',
    typescript: false,
    assertion: 'node-assert',
    jestGlobals: false,
    mochaUi: 'bdd',
    tsImportExt: '',
  };
  const nodeStyles: [string, Framework, NodeStyle, 'require' | 'import', boolean][] = [
    ['node:test esm', 'node-test', base, 'import', true],
    ['node:test cjs', 'node-test', { ...base, syntax: 'cjs' }, 'require', true],
    ['node:test ts', 'node-test', { ...base, typescript: true }, 'import', false],
    ['jest cjs', 'jest', { ...base, syntax: 'cjs', assertion: 'expect' }, 'require', false],
    ['jest babel esm', 'jest', { ...base, assertion: 'expect', jestGlobals: true }, 'require', false],
    ['jest ts', 'jest', { ...base, assertion: 'expect', typescript: true }, 'require', false],
    ['vitest ts', 'vitest', { ...base, assertion: 'expect', typescript: true }, 'import', false],
    ['mocha chai cjs', 'mocha', { ...base, syntax: 'cjs', assertion: 'chai' }, 'require', true],
    ['mocha tdd esm', 'mocha', { ...base, mochaUi: 'tdd' }, 'import', true],
  ];
  const nodeVariants = nodeStyles.flatMap(([sn, framework, style, loader, appendable]) =>
    nodeBodies(ref).flatMap(([bn], bi) =>
      (appendable ? [false, true] : [false]).map((append) => ({
        name: `${sn} ${bn}${append ? ' appended' : ''}`,
        ts: style.typescript,
        render: (v: V) =>
          renderNode({
            fp: FP.slice(0, 12),
            framework,
            style,
            depth: 1,
            incident: incidentData(incidentOf(v.sample)),
            body: nodeBodies(v)[bi]![1],
            loader,
            append,
          }),
      })),
    ),
  );

  it(`Node (${nodeVariants.length} variants): parse, same code as their reference but for data, data round-trips`, () => {
    for (const x of nodeVariants) {
      const kind = x.ts ? ts.ScriptKind.TS : ts.ScriptKind.JS;
      const r0 = checkNode(x.render(ref), kind);
      expect(r0.errors, x.name).toEqual([]);
      samples.forEach((v) => {
        const where = `${x.name}, seed ${seed}: ${JSON.stringify(v)}`;
        const r = checkNode(x.render(v), kind);
        expect(r.errors, where).toEqual([]);
        expect(r.code, where).toBe(r0.code);
        expect(Object.keys(r.data).sort(), where).toEqual(Object.keys(r0.data).sort());
        expect(r.data.INCIDENT, where).toEqual(incidentData(incidentOf(v.sample)));
        if ('ARGS' in r.data) expect(r.data.ARGS, where).toEqual(JSON.parse(JSON.stringify(v.list)));
        else expect(r.data.REQUEST, where).toEqual(committedRequest(v.sample.request));
      });
    }
  });

  it('the module a test imports is code: only a plain module name or relative path is accepted', () => {
    const style = pyStyles[0]![1];
    const call = (module: string) => ({
      language: 'python' as const,
      file: 'x.py',
      function: 'f',
      isAsync: false,
      module,
      sysPath: '',
      kwargs: {},
      exception: 'E',
    });
    const render = (module: string) => () =>
      renderPython({
        fp: 'abcdefabcdef',
        style,
        depth: 1,
        incident: {},
        body: { kind: 'function', call: call(module) },
        append: false,
      });
    expect(render('pkg.jobs')).not.toThrow();
    for (const bad of ['os; import shutil', 'a.b as c', 'x\nimport os', 'class', '', 'a..b', 'pkg.jobs#'])
      expect(render(bad)).toThrow(/not a module name/);
    const node = (spec: string) => () =>
      renderNode({
        fp: 'abcdefabcdef',
        framework: 'node-test',
        style: base,
        depth: 1,
        incident: {},
        body: { kind: 'function', spec, binding: 'f', fn: 'f', exception: 'E', args: [] },
        loader: 'import',
        append: false,
      });
    expect(node('../lib/jobs.js')).not.toThrow();
    for (const bad of [
      'fs',
      '/etc/passwd',
      '../x.js"); process.exit(0); ("',
      "./a'b.js",
      './a b.js',
      '.../x.js',
      './x\n.js',
      '',
    ]) {
      expect(node(bad)).toThrow(/not a relative module path/);
    }
  });
});
