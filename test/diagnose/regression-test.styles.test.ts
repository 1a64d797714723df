/**
 * The generated test follows the repo's style where the runner is not installed here (jest, mocha,
 * supertest; vitest and node:test run for real in regression-test.run.test.ts): it parses, uses the
 * runner's structure and assertions, CommonJS or ESM as the repo's tests do, stays within ES2017 (an old
 * Babel in front of jest must parse it), and TypeScript tests type-check under `strict`.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { regressionTestFromRepo } from '../../src/diagnose/regression-test.ts';
import { buildIncidentFrom, normaliseIncidentInput } from '../../src/incident/intake.ts';
import type { Incident, ParsedTrace, RequestSample } from '../../src/incident/types.ts';
import { py } from './configs.ts';

const FP = 'feedc0ffee12';

function incident(trace: ParsedTrace, request?: RequestSample): Incident {
  return {
    id: `${FP}-20261127000000`,
    fingerprint: `${FP}0000`,
    service: 'svc',
    environment: 'production',
    signal: 'crash',
    summary: `${trace.exceptionType}: ${trace.message}`,
    detectedAt: '2026-11-27T00:00:00Z',
    trace,
    logs: '',
    requests: request ? [request] : [],
    healthyRequests: [],
    labels: {},
  };
}

/** A V8 trace at `needle` in `file` (1-based line and column of its first character). */
function jsTrace(files: Record<string, string>, frames: [string, string, string][], message: string): ParsedTrace {
  return {
    language: 'node',
    exceptionType: 'TypeError',
    message,
    frames: frames
      .map(([file, fn, needle]) => {
        const lines = files[file]!.split('\n');
        const line = lines.findIndex((l) => l.includes(needle));
        return {
          file: `/srv/app/${file}`,
          repoPath: file,
          line: line + 1,
          column: lines[line]!.indexOf(needle) + 1,
          function: fn,
          external: false,
        };
      })
      .reverse(),
  };
}

async function generate(files: Record<string, string>, test: string, inc: Incident, start?: string) {
  const config = { ...py, language: 'node' as const, test, ...(start ? { start } : { start: undefined }) };
  const t = await regressionTestFromRepo({
    incident: inc,
    config,
    repoFiles: Object.keys(files),
    readFile: async (p) => files[p],
  });
  expect(t, 'no test generated').toBeDefined();
  return t!;
}

/** Syntax newer than ES2017 that an old Babel (or Node) in front of the runner would not parse. */
function newerSyntax(sf: ts.SourceFile): string[] {
  const out: string[] = [];
  const visit = (n: ts.Node) => {
    if (
      (ts.isPropertyAccessExpression(n) || ts.isElementAccessExpression(n) || ts.isCallExpression(n)) &&
      n.questionDotToken
    )
      out.push('?.');
    if (ts.isBinaryExpression(n) && n.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken) out.push('??');
    if (ts.isSpreadAssignment(n)) out.push('object spread');
    if (ts.isCatchClause(n) && !n.variableDeclaration) out.push('optional catch binding');
    n.forEachChild(visit);
  };
  visit(sf);
  return out;
}

function parse(path: string, text: string) {
  const kind = /\.tsx?$/.test(path) ? ts.ScriptKind.TS : ts.ScriptKind.JS;
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, kind);
  const errors = (sf as unknown as { parseDiagnostics: ts.Diagnostic[] }).parseDiagnostics.map((d) =>
    ts.flattenDiagnosticMessageText(d.messageText, '\n'),
  );
  return { sf, errors };
}

/** Type-checks a generated TypeScript test under strict, with the repo's sources and stand-in runner types. */
function typeErrors(files: Record<string, string>, testPath: string, testText: string, ambient: string): string[] {
  const all: Record<string, string> = { ...files, [testPath]: testText, 'ambient.d.ts': ambient };
  const options: ts.CompilerOptions = {
    strict: true,
    noUnusedLocals: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: false,
    types: ['node'],
    typeRoots: [`${process.cwd()}/node_modules/@types`],
  };
  const host = ts.createCompilerHost(options);
  const read = host.readFile.bind(host);
  const exists = host.fileExists.bind(host);
  host.readFile = (f) => (f.startsWith('/repo/') ? all[f.slice(6)] : read(f));
  host.fileExists = (f) => (f.startsWith('/repo/') ? f.slice(6) in all : exists(f));
  host.directoryExists = (d) =>
    d === '/repo' || Object.keys(all).some((f) => `/repo/${f}`.startsWith(`${d}/`)) || ts.sys.directoryExists(d);
  host.getSourceFile = (f, lang) => {
    const text = host.readFile(f);
    return text === undefined ? undefined : ts.createSourceFile(f, text, lang);
  };
  const program = ts.createProgram([`/repo/${testPath}`, '/repo/ambient.d.ts'], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === `/repo/${testPath}`)
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

const ORDERS = `function cityOf(order) {
  const { city } = order.shipping.address;
  return city.toUpperCase();
}

function labels(batch) {
  return batch.orders.map((o) => cityOf(o));
}

module.exports = { labels };
`;
const ORDERS_TRACE = (files: Record<string, string>, file: string) =>
  jsTrace(
    files,
    [
      [file, 'cityOf', 'order.shipping.address'],
      [file, '<anonymous>', 'cityOf(o)'],
      [file, 'labels', 'batch.orders.map'],
    ],
    "Cannot destructure property 'city' of 'order.shipping.address' as it is undefined.",
  );

describe('jest', () => {
  it('CommonJS tests with globals: describe/it/expect, require, a timeout, ES2017', async () => {
    const files = {
      'package.json': JSON.stringify({ scripts: { test: 'jest' }, devDependencies: { jest: '^29' } }),
      'lib/orders.js': ORDERS,
      '__tests__/orders.test.js':
        "const { labels } = require('../lib/orders');\n\ntest('x', () => expect(labels({ orders: [] })).toEqual([]));\n",
    };
    const t = await generate(files, 'npm test', incident(ORDERS_TRACE(files, 'lib/orders.js')));
    expect(t.path).toBe(`__tests__/suture-${FP}.test.js`);
    expect(t.command).toBe(`npx jest --runTestsByPath '__tests__/suture-${FP}.test.js'`);
    const { sf, errors } = parse(t.path, t.after);
    expect(errors).toEqual([]);
    expect(newerSyntax(sf)).toEqual([]);
    expect(t.after).toMatch(/^describe\("suture feedc0ffee12", \(\) => \{$/m);
    expect(t.after).toMatch(/^ {2}it\("the crashing function no longer throws", async \(\) => \{$/m);
    expect(t.after).toContain('}, 60000);');
    expect(t.after).toContain('pick(require("../lib/orders.js"), TARGET.export)');
    expect(t.after).toMatch(
      /expect\(error === undefined \? undefined : `\$\{TARGET\.function\}\(\) still throws .*`\)\.toBeUndefined\(\);/,
    );
    expect(t.after).not.toMatch(/^import /m);
    expect(t.after).toContain('const ARGS = JSON.parse("[{\\"orders\\":[{\\"shipping\\":{}}]}]");');
  });

  it('Babel-transformed ESM tests importing @jest/globals: import syntax, still require for the module', async () => {
    const files = {
      'package.json': JSON.stringify({
        scripts: { test: 'jest' },
        devDependencies: { jest: '^29', 'babel-jest': '^29' },
      }),
      'src/orders.js': ORDERS,
      'src/orders.test.js':
        "import { describe, expect, it } from '@jest/globals';\nimport { labels } from './orders';\n",
    };
    const t = await generate(files, 'npm test', incident(ORDERS_TRACE(files, 'src/orders.js')));
    expect(t.path).toBe(`src/suture-${FP}.test.js`);
    expect(t.after).toContain("import { describe, expect, it } from '@jest/globals';");
    expect(t.after).toContain('require("./orders.js")');
    expect(newerSyntax(parse(t.path, t.after).sf)).toEqual([]);
  });

  it('ts-jest: a TypeScript test that type-checks under strict and noUnusedLocals', async () => {
    const src = `export interface Order {\n  shipping: { address?: { city: string } };\n}\n\nexport function cityOf(order: Order): string {\n  const { city } = order.shipping.address!;\n  return city.toUpperCase();\n}\n`;
    const files = {
      'package.json': JSON.stringify({ scripts: { test: 'jest' }, devDependencies: { jest: '^29', 'ts-jest': '^29' } }),
      'jest.config.js': "module.exports = { preset: 'ts-jest' };\n",
      'src/orders.ts': src,
      'src/orders.test.ts':
        "import { cityOf } from './orders';\n\ndescribe('x', () => it('y', () => expect(cityOf({ shipping: { address: { city: 'a' } } })).toBe('A')));\n",
    };
    const trace = jsTrace(
      files,
      [['src/orders.ts', 'cityOf', 'order.shipping.address']],
      "Cannot destructure property 'city' of 'order.shipping.address' as it is undefined.",
    );
    const t = await generate(files, 'npx jest', incident(trace));
    expect(t.path).toBe(`src/suture-${FP}.test.ts`);
    expect(t.after).toContain('require("./orders")');
    expect(parse(t.path, t.after).errors).toEqual([]);
    const ambient = 'declare const describe: any;\ndeclare const it: any;\ndeclare const expect: any;\n';
    expect(typeErrors(files, t.path, t.after, ambient)).toEqual([]);
  });

  it('supertest with the app the tests import: no server started', async () => {
    const app = `const express = require('express');\nconst { total } = require('./total');\n\nconst app = express();\napp.post('/total', (req, res) => res.json(total(req.body)));\n\nmodule.exports = app;\n`;
    const files = {
      'package.json': JSON.stringify({
        scripts: { test: 'jest' },
        devDependencies: { jest: '^29', supertest: '^7' },
        dependencies: { express: '^4' },
      }),
      'src/app.js': app,
      'src/total.js': 'exports.total = (cart) => cart.items.reduce((s, i) => s + i.price, 0);\n',
      'test/app.test.js':
        "const request = require('supertest');\nconst app = require('../src/app');\n\ntest('ok', async () => {\n  await request(app).post('/total').send({ items: [] });\n});\n",
    };
    const trace = jsTrace(
      files,
      [['src/total.js', 'exports.total', 'cart.items.reduce']],
      "Cannot read properties of undefined (reading 'reduce')",
    );
    const req = { method: 'POST', path: '/total', headers: { 'content-type': 'application/json' }, body: '{}' };
    const t = await generate(files, 'npm test', incident(trace, req), 'node server.js');
    expect(t.kind).toBe('client');
    expect(t.path).toBe(`test/suture-${FP}.test.js`);
    expect(t.after).toContain("const supertest = require('supertest');");
    expect(t.after).toContain('pick(require("../src/app"), APP.export)');
    expect(t.after).toContain('const APP = JSON.parse("{\\"export\\":\\"*\\",\\"factory\\":false}");');
    expect(t.after).not.toMatch(/spawn|START/);
    expect(newerSyntax(parse(t.path, t.after).sf)).toEqual([]);
  });
});

describe('mocha', () => {
  it('bdd with chai, CommonJS: describe/it with function() and this.timeout, chai expect', async () => {
    const files = {
      'package.json': JSON.stringify({ scripts: { test: 'mocha' }, devDependencies: { mocha: '^10', chai: '^4' } }),
      'lib/orders.js': ORDERS,
      'test/orders.spec.js':
        "const { expect } = require('chai');\nconst { labels } = require('../lib/orders');\n\ndescribe('labels', () => {\n  it('empty', () => expect(labels({ orders: [] })).to.eql([]));\n});\n",
    };
    const t = await generate(files, 'npm test', incident(ORDERS_TRACE(files, 'lib/orders.js')));
    expect(t.path).toBe(`test/suture-${FP}.spec.js`);
    expect(t.command).toBe(`npx mocha --grep 'suture ${FP}' 'test/suture-${FP}.spec.js'`);
    expect(t.after).toContain("const { expect } = require('chai');");
    expect(t.after).toMatch(
      /describe\("suture feedc0ffee12", function \(\) \{\n {2}it\("the crashing function no longer throws", async function \(\) \{\n {4}this\.timeout\(60000\);/,
    );
    expect(t.after).toMatch(/expect\(error, MSG|expect\(error, `/);
    expect(parse(t.path, t.after).errors).toEqual([]);
    expect(newerSyntax(parse(t.path, t.after).sf)).toEqual([]);
  });

  it('tdd interface, ESM package: suite/test, node:assert, import()', async () => {
    const files = {
      'package.json': JSON.stringify({
        type: 'module',
        scripts: { test: 'mocha --ui tdd' },
        devDependencies: { mocha: '^10' },
      }),
      'src/orders.js': ORDERS.replace('module.exports = { labels };', 'export { labels };'),
      'test/orders.test.js':
        "import assert from 'node:assert';\nimport { labels } from '../src/orders.js';\n\nsuite('labels', () => {\n  test('empty', () => assert.deepEqual(labels({ orders: [] }), []));\n});\n",
    };
    const t = await generate(files, 'npm test', incident(ORDERS_TRACE(files, 'src/orders.js')));
    expect(t.after).toMatch(/^suite\("suture feedc0ffee12", function \(\) \{$/m);
    expect(t.after).toMatch(/^ {2}test\("the crashing function no longer throws", async function \(\) \{$/m);
    expect(t.after).toContain("import * as assert from 'node:assert/strict';");
    expect(t.after).toContain('pick(await import("../src/orders.js"), TARGET.export)');
    expect(parse(t.path, t.after).errors).toEqual([]);
  });
});

describe('vitest and node:test in TypeScript', () => {
  it('vitest: imports its API, loads the module with import(), type-checks under strict', async () => {
    const src = `export function total(cart: { items?: { price: number }[] }): number {\n  return cart.items!.reduce((s, i) => s + i.price, 0);\n}\n`;
    const files = {
      'package.json': JSON.stringify({
        type: 'module',
        scripts: { test: 'vitest run' },
        devDependencies: { vitest: '^3' },
      }),
      'src/total.ts': src,
      'src/total.test.ts': "import { expect, it } from 'vitest';\nimport { total } from './total';\n",
    };
    const trace = jsTrace(
      files,
      [['src/total.ts', 'total', 'cart.items!.reduce']],
      "Cannot read properties of undefined (reading 'reduce')",
    );
    const t = await generate(files, 'npm test', incident(trace));
    expect(t.path).toBe(`src/suture-${FP}.test.ts`);
    expect(t.command).toBe(`npx vitest run 'src/suture-${FP}.test.ts'`);
    expect(t.after).toContain("import { describe, expect, it } from 'vitest';");
    expect(t.after).toContain('await import("./total")');
    const ambient =
      "declare module 'vitest' {\n  export const describe: any;\n  export const it: any;\n  export const expect: any;\n}\n";
    expect(typeErrors(files, t.path, t.after, ambient)).toEqual([]);
  });
});

describe('TypeScript run as CommonJS', () => {
  it('node:test through a Babel register hook in a CommonJS package: the test finds the repo by __dirname, never import.meta', async () => {
    // The split-api crash scenario as it is: `import` syntax in .ts files, Babel's commonjs transform at load.
    const dir = join(import.meta.dirname, '..', 'fixtures', 'services', 'split-api');
    const names = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) =>
      statSync(join(dir, p)).isFile(),
    );
    const files = Object.fromEntries(names.map((p) => [p, readFileSync(join(dir, p), 'utf8')]));
    const raw = JSON.parse(files['incident.json']!);
    const inc = buildIncidentFrom(normaliseIncidentInput(raw), names);
    const t = await generate(
      files,
      'node -r ./register.js --test test/*.test.ts',
      inc,
      'node -r ./register.js src/server.ts',
    );
    expect(t.path).toMatch(/\.test\.ts$/);
    expect(t.after).not.toContain('import.meta');
    expect(t.after).toMatch(/const ROOT = path\.join\(__dirname\b/);
  });
});
