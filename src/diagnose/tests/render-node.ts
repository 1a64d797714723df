/**
 * JavaScript/TypeScript regression tests for node:test, jest, vitest or mocha (node:assert, expect or
 * chai), ESM or CommonJS as the repo writes them: replaying the crashing request against `start`, through
 * supertest with the app the repo's tests import, or calling the crashing function with the input that
 * reproduced it. Incident text and repo-derived names enter only as data (`JSON.parse` of a
 * `jsonStringLiteral`); the one thing in code is the relative path of the module a test loads, a literal
 * checked to hold nothing but path characters (a load chosen at run time is what the policy gate cannot
 * read). The code sticks to ES2017 (no `?.`, `??`, object spread or optional catch binding)
 * so that an old Babel in front of the runner still parses it. Pure.
 */
import { jsonStringLiteral } from '../literal.ts';
import type { Framework } from './setup.ts';
import type { AppRef, NodeStyle } from './style.ts';

export type NodeBody =
  | { kind: 'http'; start: string; health: string; request: unknown }
  | { kind: 'supertest'; app: AppRef; request: unknown }
  | { kind: 'function'; spec: string; binding: string; fn: string; exception: string; args: unknown[] };

export interface NodeTestSpec {
  fp: string;
  framework: Framework;
  style: NodeStyle;
  /** Directories from the test file up to the repo root. */
  depth: number;
  incident: Record<string, string>;
  body: NodeBody;
  /** How modules are loaded at run time: `require` (CommonJS, Babel-transformed jest) or dynamic `import()`. */
  loader: 'require' | 'import';
  append: boolean;
}

/** What a test title carries so the runner's name filter finds it (`--test-name-pattern`, `-t`, `--grep`). */
export const titleMarker = (fp: string) => `suture ${fp}`;

/** Failure messages: template literals of the generated test, not of this module. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal in the generated test
const MSG_STATUS = '`${REQUEST.method} ${REQUEST.path} still answers ${status} (incident ${INCIDENT.id})`';
// biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal in the generated test
const MSG_VERB = '`supertest has no method for ${REQUEST.method}`';
// biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal in the generated test
const MSG_RES_STATUS = '`${REQUEST.method} ${REQUEST.path} still answers ${res.status} (incident ${INCIDENT.id})`';
const MSG_THROWS =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template literal in the generated test
  '`${TARGET.function}() still throws on the input that crashed it (incident ${INCIDENT.id}, ${TARGET.exception}): ${error}`';

const TIMEOUT_MS = 60_000;

interface Parts {
  doc: string[];
  /** Modules imported at top level: [binding pattern, module]. */
  modules: [string, string][];
  data: [string, unknown][];
  helpers: string[];
  body: string;
  title: string;
}

function any(style: NodeStyle): string {
  return style.typescript ? ': any' : '';
}

/**
 * Assertions in the runner's idiom. jest's expect takes no message: the message is what it receives when the
 * check fails (`expected "GET /x still answers 500 …" to be true`).
 */
function asserts(spec: NodeTestSpec) {
  const a = spec.style.assertion;
  return {
    ok: (cond: string, msg: string) =>
      a === 'expect'
        ? `expect(${cond} ? true : ${msg}).toBe(true);`
        : a === 'chai'
          ? `expect(${cond}, ${msg}).to.equal(true);`
          : `assert.ok(${cond}, ${msg});`,
    below: (value: string, limit: string, msg: string) =>
      a === 'expect'
        ? `expect(${value} < ${limit} ? true : ${msg}).toBe(true);`
        : a === 'chai'
          ? `expect(${value}, ${msg}).to.be.below(${limit});`
          : `assert.ok(${value} < ${limit}, ${msg});`,
    none: (value: string, msg: string) =>
      a === 'expect'
        ? `expect(${value} === undefined ? undefined : ${msg}).toBeUndefined();`
        : a === 'chai'
          ? `expect(${value}, ${msg}).to.equal(undefined);`
          : `assert.equal(${value}, undefined, ${msg});`,
  };
}

/** A relative specifier that can only name a file of the repo. */
export function isRelativeSpecifier(spec: string): boolean {
  return /^\.\.?\/(?:[\w@.+-]+\/)*[\w@+-][\w@.+-]*$/.test(spec) && !/(^|\/)\.{3,}/.test(spec);
}

function load(spec: NodeTestSpec, specifier: string): string {
  if (!isRelativeSpecifier(specifier))
    throw new Error(`internal: ${JSON.stringify(specifier)} is not a relative module path`);
  const lit = JSON.stringify(specifier);
  return spec.loader === 'require' ? `require(${lit})` : `await import(${lit})`;
}

const PICK = (t: string) => `function pick(mod${t}, name${t}) {
  // '*': the whole CommonJS module; 'default'; or a named export (also when CommonJS is imported from ESM)
  const whole = mod && mod.__esModule === undefined && mod.default !== undefined ? mod.default : mod;
  if (name === '*') return whole;
  if (name === 'default') return mod.default !== undefined ? mod.default : mod;
  return mod[name] !== undefined ? mod[name] : whole[name];
}`;

const CALL = (
  t: string,
) => `function call(port${t}, method${t}, target${t}, headers${t}, body${t})${t ? ': Promise<number>' : ''} {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: target, headers: headers || {} }, (res${t}) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode${t ? ' as number' : ''}));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timed out')));
    if (typeof body === 'string') req.write(body);
    req.end();
  });
}`;

const FREE_PORT = (t: string) => `function freePort()${t ? ': Promise<number>' : ''} {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address()${t ? ' as any' : ''}).port;
      s.close(() => resolve(port));
    });
  });
}`;

const VALUE = (t: string) => `function value(v${t})${t} {
  // arguments as data: {"$suture": "undefined"} is undefined
  if (Array.isArray(v)) return v.map(value);
  if (v && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 1 && v.$suture === 'undefined') return undefined;
    const out${t} = {};
    keys.forEach((k) => {
      out[k] = value(v[k]);
    });
    return out;
  }
  return v;
}`;

const VERBS = `{ GET: 'get', POST: 'post', PUT: 'put', PATCH: 'patch', DELETE: 'delete', HEAD: 'head', OPTIONS: 'options' }`;

function httpParts(spec: NodeTestSpec, b: Extract<NodeBody, { kind: 'http' }>): Parts {
  const t = any(spec.style);
  const A = asserts(spec);
  return {
    doc: [
      'Replays the request that crashed the service (INCIDENT and REQUEST below say which, as data) against the',
      'service started with its own start command; it must not answer 5xx.',
    ],
    modules: [
      ['http', 'node:http'],
      ['net', 'node:net'],
      ['childProcess', 'node:child_process'],
    ],
    data: [
      ['START', b.start],
      ['HEALTH', b.health],
      ['INCIDENT', spec.incident],
      ['REQUEST', b.request],
    ],
    helpers: [FREE_PORT(t), CALL(t)],
    title: 'the crashing request no longer fails',
    body: `const port = await freePort();
const env${t} = {};
Object.keys(process.env).forEach((k) => {
  env[k] = process.env[k];
});
env.PORT = String(port);
const child = childProcess.spawn(START, { shell: true, cwd: ROOT, env, stdio: 'ignore', detached: true });
let exited = false;
child.on('exit', () => {
  exited = true;
});
try {
  const deadline = Date.now() + 15000;
  for (;;) {
    ${A.ok('!exited', "'the service exited before it became healthy'")}
    let healthy = false;
    try {
      healthy = (await call(port, 'GET', HEALTH)) < 500;
    } catch (err) {
      healthy = false;
    }
    if (healthy) break;
    ${A.ok('Date.now() < deadline', "'the service did not become healthy'")}
    await new Promise((r) => setTimeout(r, 50));
  }
  const status = await call(port, REQUEST.method, REQUEST.path, REQUEST.headers, REQUEST.body);
  ${A.below('status', '500', MSG_STATUS)}
  ${A.below("await call(port, 'GET', HEALTH)", '500', "'the service is unhealthy after the request'")}
} finally {
  try {
    process.kill(-${t ? '(child.pid as number)' : 'child.pid'}, 'SIGKILL');
  } catch (err) {
    // already gone
  }
}`,
  };
}

function supertestParts(spec: NodeTestSpec, b: Extract<NodeBody, { kind: 'supertest' }>): Parts {
  const t = any(spec.style);
  const A = asserts(spec);
  return {
    doc: [
      "Sends the request that crashed the service (INCIDENT and REQUEST below say which, as data) to the app the repo's",
      'tests import (APP says where) through supertest, as they do; it must not answer 5xx.',
    ],
    modules: [['supertest', 'supertest']],
    data: [
      ['APP', { export: b.app.binding, factory: b.app.factory }],
      ['INCIDENT', spec.incident],
      ['REQUEST', b.request],
    ],
    helpers: [PICK(t)],
    title: 'the crashing request no longer fails',
    body: `let app${t} = pick(${load(spec, b.app.spec)}, APP.export);
if (APP.factory) app = await app();
const verbs${t} = ${VERBS};
const verb = verbs[String(REQUEST.method).toUpperCase()];
${A.ok('verb !== undefined', MSG_VERB)}
const agent${t} = (supertest${t ? ' as any' : ''}).default || supertest;
let req = agent(app)[verb](REQUEST.path);
const headers = REQUEST.headers || {};
Object.keys(headers).forEach((k) => {
  req = req.set(k, headers[k]);
});
if (typeof REQUEST.body === 'string') req = req.send(REQUEST.body);
const res = await req;
${A.below('res.status', '500', MSG_RES_STATUS)}`,
  };
}

function functionParts(spec: NodeTestSpec, b: Extract<NodeBody, { kind: 'function' }>): Parts {
  const t = any(spec.style);
  const A = asserts(spec);
  return {
    doc: [
      'Calls the function that crashed (TARGET says which, as data) with an input rebuilt from the crash (ARGS), and',
      'fails while it still throws.',
    ],
    modules: [],
    data: [
      ['TARGET', { export: b.binding, function: b.fn, exception: b.exception }],
      ['INCIDENT', spec.incident],
      ['ARGS', b.args],
    ],
    helpers: [PICK(t), VALUE(t)],
    title: 'the crashing function no longer throws',
    body: `const fn = pick(${load(spec, b.spec)}, TARGET.export);
let error${t};
try {
  await fn.apply(undefined, ARGS.map(value));
} catch (err) {
  error = err;
}
${A.none('error', MSG_THROWS)}`,
  };
}

function partsOf(spec: NodeTestSpec): Parts {
  switch (spec.body.kind) {
    case 'http':
      return httpParts(spec, spec.body);
    case 'supertest':
      return supertestParts(spec, spec.body);
    case 'function':
      return functionParts(spec, spec.body);
  }
}

const indent = (text: string, n: number) =>
  text
    .split('\n')
    .map((l) => (l ? ' '.repeat(n) + l : l))
    .join('\n');

/** The runner's own modules (test functions, assertions), as the repo's tests load them. */
function runnerModules(spec: NodeTestSpec): [string, string][] {
  const s = spec.style;
  const out: [string, string][] = [];
  if (spec.framework === 'node-test') out.push(['{ test }', 'node:test']);
  if (spec.framework === 'vitest') out.push(['{ describe, expect, it }', 'vitest']);
  if (spec.framework === 'jest' && s.jestGlobals) out.push(['{ describe, expect, it }', '@jest/globals']);
  if (s.assertion === 'node-assert') out.push(['assert', 'node:assert/strict']);
  if (s.assertion === 'chai') out.push(['{ expect }', 'chai']);
  return out;
}

function importLine(spec: NodeTestSpec, binding: string, mod: string): string {
  if (spec.style.syntax === 'esm') {
    // A namespace import reads the same under native ESM, Babel and TypeScript with or without esModuleInterop.
    return `import ${binding.startsWith('{') ? binding : `* as ${binding}`} from '${mod}';`;
  }
  return `const ${binding.replace(/\s+as\s+/g, ': ')} = require('${mod}');`;
}

/** The test, wrapped in the runner's structure (node:test `test`, describe/it, mocha tdd suite/test). */
function wrapTest(spec: NodeTestSpec, title: string, body: string): string {
  const group = titleMarker(spec.fp);
  const t = spec.style.typescript;
  if (spec.framework === 'node-test') {
    return `test(${JSON.stringify(`${group}: ${title}`)}, { timeout: ${TIMEOUT_MS} }, async () => {\n${indent(body, 2)}\n});`;
  }
  if (spec.framework === 'mocha') {
    const [outer, inner] = spec.style.mochaUi === 'tdd' ? ['suite', 'test'] : ['describe', 'it'];
    return `${outer}(${JSON.stringify(group)}, function () {\n  ${inner}(${JSON.stringify(title)}, async function (${t ? 'this: any' : ''}) {\n    this.timeout(${TIMEOUT_MS});\n${indent(body, 4)}\n  });\n});`;
  }
  return `describe(${JSON.stringify(group)}, () => {\n  it(${JSON.stringify(title)}, async () => {\n${indent(body, 4)}\n  }, ${TIMEOUT_MS});\n});`;
}

export function renderNode(spec: NodeTestSpec): string {
  const p = partsOf(spec);
  const esm = spec.style.syntax === 'esm';
  const usesRoot = /\bROOT\b/.test(p.body);
  const ups = "'..', ".repeat(spec.depth).replace(/, $/, '');
  const here =
    spec.loader === 'import' && esm && spec.style.runtime === 'esm' && spec.framework !== 'jest'
      ? 'path.dirname(url.fileURLToPath(import.meta.url))'
      : '__dirname';
  const root = `const ROOT = path.join(${here}${spec.depth ? `, ${ups}` : ''});`;
  const modules: [string, string][] = [
    ...runnerModules(spec),
    ...p.modules,
    ...(usesRoot
      ? ([['path', 'node:path'], ...(here.includes('import.meta') ? [['url', 'node:url']] : [])] as [string, string][])
      : []),
  ];
  const data = p.data.map(([k, v]) => `const ${k} = JSON.parse(${jsonStringLiteral(v)});`);
  const header = [`Regression test written by suture for the crash with fingerprint ${spec.fp}.`, ...p.doc]
    .map((l) => `// ${l}`)
    .join('\n');

  if (!spec.append) {
    return `${[
      header,
      modules.map(([b, m]) => importLine(spec, b, m)).join('\n'),
      [...(usesRoot ? [root] : []), ...data].join('\n'),
      ...p.helpers,
      wrapTest(spec, p.title, p.body),
    ].join('\n\n')}\n`;
  }
  // Appended to an existing test file: everything the test needs is loaded inside it, so no name it declares
  // can clash with the file's own; only the runner's test functions come from the file's scope.
  const loads = modules
    .filter(([, m]) => !(spec.framework === 'node-test' && m === 'node:test'))
    .map(([b, m]) => `const ${b} = ${spec.loader === 'require' || !esm ? `require('${m}')` : `await import('${m}')`};`);
  const inner = [...loads, ...(usesRoot ? [root] : []), ...data, ...p.helpers, p.body].join('\n');
  if (spec.framework === 'node-test') {
    const testFn = esm ? `(await import('node:test')).test` : `require('node:test').test`;
    return `\n${header}\n${testFn}(${JSON.stringify(`${titleMarker(spec.fp)}: ${p.title}`)}, { timeout: ${TIMEOUT_MS} }, async () => {\n${indent(inner, 2)}\n});\n`;
  }
  return `\n${header}\n${wrapTest(spec, p.title, inner)}\n`;
}
