/**
 * Python regression tests: a pytest function or a unittest.TestCase, replaying the crashing request against
 * the service's `start`, through the repo's own test client (a pytest fixture, or the app its tests import
 * wrapped in Flask's `test_client()` / Starlette's `TestClient`), or calling the crashing function with the
 * input that reproduced it. Incident text enters only as data (`json.loads` of a `jsonStringLiteral`), and so
 * do the names read from the repo (fixture, attribute, function). The one thing in code is the module a
 * test imports, a static `import a.b as m` of a dotted name checked to be plain identifiers: an import
 * chosen at run time is something the policy gate cannot read. Pure.
 */
import { jsonStringLiteral } from '../literal.ts';
import type { FunctionCall } from './function-target.ts';
import type { PythonClient, PythonStyle } from './style.ts';

export type PyBody =
  | { kind: 'http'; start: string; health: string; request: unknown }
  | { kind: 'client'; client: PythonClient; request: unknown }
  | { kind: 'function'; call: FunctionCall };

export interface PyTestSpec {
  fp: string;
  style: PythonStyle;
  /** Directories from the test file up to the repo root. */
  depth: number;
  incident: Record<string, string>;
  body: PyBody;
  /** Appended to an existing test module: everything lives inside the test, nothing at module level but the test. */
  append: boolean;
}

const indent = (text: string, n: number) =>
  text
    .split('\n')
    .map((l) => (l ? ' '.repeat(n) + l : l))
    .join('\n');

/** The test's name: its function (pytest) or method (unittest). */
export function pyTestName(spec: Pick<PyTestSpec, 'fp' | 'style' | 'body'>): string {
  const what = spec.body.kind === 'function' ? 'function_no_longer_raises' : 'request_no_longer_fails';
  const prefix = spec.style.kind === 'testcase' ? 'test' : spec.style.functionPrefix;
  return `${prefix}${prefix.endsWith('_') ? '' : '_'}suture_${spec.fp}_${what}`;
}

export function pyClassName(fp: string): string {
  return `TestSuture${fp}`;
}

interface Parts {
  doc: string;
  imports: string[];
  data: [string, unknown][];
  helpers: string[];
  /** The test's statements; `A(cond, msg)` marks an assertion, rendered per style. */
  body: string;
  /** pytest fixtures the test function takes. */
  params: string[];
}

const PY_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield'.split(
    ' ',
  ),
);

/** A dotted module name that can only be an import of that module. */
export function isPythonModule(name: string): boolean {
  return name.split('.').every((p) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(p) && !PY_KEYWORDS.has(p));
}

function importModule(module: string, as: string): string {
  if (!isPythonModule(module)) throw new Error(`internal: ${JSON.stringify(module)} is not a module name`);
  return `import ${module} as ${as}`;
}

const RAISE_WITH = (msg: string) => `raise AssertionError(${msg}) from err`;

function assertion(style: PythonStyle, cond: string, msg: string): string {
  return style.kind === 'testcase' ? `self.assertTrue(${cond}, ${msg})` : `assert ${cond}, ${msg}`;
}

const FREE_PORT = `def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]`;

const CALL = `def _call(port, method, path, headers=None, body=None):
    data = body.encode() if isinstance(body, str) else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code`;

const VALUE = `def _value(v):
    """Arguments as data: {"$suture": "object", "value": {...}} is an object with those attributes."""
    if isinstance(v, dict):
        if set(v) == {"$suture", "value"} and v["$suture"] == "object":
            return types.SimpleNamespace(**{k: _value(x) for k, x in v["value"].items()})
        return {k: _value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_value(x) for x in v]
    return v`;

function httpParts(spec: PyTestSpec, b: Extract<PyBody, { kind: 'http' }>): Parts {
  const A = (c: string, m: string) => assertion(spec.style, c, m);
  return {
    doc: `Replays the request that crashed the service (INCIDENT and REQUEST below say which, as data) against the
service started with its own start command; it must not answer 5xx.`,
    imports: ['json', 'os', 'signal', 'socket', 'subprocess', 'time', 'urllib.error', 'urllib.request'],
    data: [
      ['START', b.start],
      ['HEALTH', b.health],
      ['INCIDENT', spec.incident],
      ['REQUEST', b.request],
    ],
    helpers: [FREE_PORT, CALL],
    params: [],
    body: `port = _free_port()
proc = subprocess.Popen(START, shell=True, cwd=ROOT, env={**os.environ, "PORT": str(port)},
                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
try:
    deadline = time.monotonic() + 15
    while True:
        ${A('proc.poll() is None', '"the service exited before it became healthy"')}
        try:
            if _call(port, "GET", HEALTH) < 500:
                break
        except OSError:
            pass
        ${A('time.monotonic() < deadline', '"the service did not become healthy"')}
        time.sleep(0.05)
    status = _call(port, REQUEST["method"], REQUEST["path"], REQUEST.get("headers"), REQUEST.get("body"))
    ${A('status < 500', `f"{REQUEST['method']} {REQUEST['path']} still answers {status}"`)}
    ${A('_call(port, "GET", HEALTH) < 500', '"the service is unhealthy after the request"')}
finally:
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()`,
  };
}

const SEND: Record<PythonClient['api'], string> = {
  werkzeug: `response = client.open(REQUEST["path"], method=REQUEST["method"], headers=REQUEST.get("headers") or {},
                       data=REQUEST.get("body"))`,
  httpx: `response = client.request(REQUEST["method"], REQUEST["path"], headers=REQUEST.get("headers") or {},
                          content=REQUEST.get("body"))`,
  verbs: `verb = {"GET": "get", "POST": "post", "PUT": "put", "PATCH": "patch", "DELETE": "delete", "HEAD": "head",
        "OPTIONS": "options"}.get(REQUEST["method"].upper())
if verb is None:
    raise AssertionError(f"the test client has no method for {REQUEST['method']}")
response = getattr(client, verb)(REQUEST["path"], headers=REQUEST.get("headers") or {}, data=REQUEST.get("body"))`,
};

function clientParts(spec: PyTestSpec, b: Extract<PyBody, { kind: 'client' }>): Parts {
  const A = (c: string, m: string) => assertion(spec.style, c, m);
  const c = b.client;
  const send = SEND[c.api];
  const check = `status = getattr(response, "status_code", None) or getattr(response, "status", None)
${A('status is not None and int(status) < 500', `f"{REQUEST['method']} {REQUEST['path']} still answers {status}"`)}`;
  if (c.via === 'fixture') {
    return {
      doc: `Sends the request that crashed the service (INCIDENT and REQUEST below say which, as data) through the
test client fixture the repo's tests use (FIXTURE); it must not answer 5xx.`,
      imports: ['json'],
      data: [
        ['FIXTURE', c.fixture],
        ['INCIDENT', spec.incident],
        ['REQUEST', b.request],
      ],
      helpers: [],
      params: ['request'],
      body: `client = request.getfixturevalue(FIXTURE)
${send}
${check}`,
    };
  }
  const wrap =
    c.api === 'httpx'
      ? `from starlette.testclient import TestClient

client = TestClient(app)`
      : 'client = app.test_client()';
  return {
    doc: `Sends the request that crashed the service (INCIDENT and REQUEST below say which, as data) to the app the
repo's tests import (APP says where), through its framework's test client; it must not answer 5xx.`,
    imports: ['json', 'os', 'sys'],
    data: [
      ['APP', { path: c.sysPath, attribute: c.attr, factory: c.factory }],
      ['INCIDENT', spec.incident],
      ['REQUEST', b.request],
    ],
    helpers: [],
    params: [],
    body: `sys.path.insert(0, os.path.join(ROOT, APP["path"]))
${importModule(c.module, 'app_module')}

app = getattr(app_module, APP["attribute"])
if APP["factory"]:
    app = app()
${wrap}
${send}
${check}`,
  };
}

function functionParts(spec: PyTestSpec, b: Extract<PyBody, { kind: 'function' }>): Parts {
  const call = b.call;
  const fail = spec.style.kind === 'testcase' ? `self.fail(message)` : RAISE_WITH('message');
  return {
    doc: `Calls the function that crashed (TARGET says which, as data) with an input rebuilt from the crash (ARGS), and
fails while it still raises.`,
    imports: ['asyncio', 'inspect', 'json', 'os', 'sys', 'types'],
    data: [
      ['TARGET', { path: call.sysPath ?? '', function: call.function, exception: call.exception }],
      ['INCIDENT', spec.incident],
      ['ARGS', call.kwargs ?? {}],
    ],
    helpers: [VALUE],
    params: [],
    body: `sys.path.insert(0, os.path.join(ROOT, TARGET["path"]))
${importModule(call.module ?? '', 'subject')}

fn = getattr(subject, TARGET["function"])
kwargs = {name: _value(v) for name, v in ARGS.items()}
try:
    result = fn(**kwargs)
    if inspect.isawaitable(result):
        async def _wait():
            return await result

        asyncio.run(_wait())
except Exception as err:
    message = (f"{TARGET['function']}() still raises on the input that crashed it ({TARGET['exception']}): "
               f"{type(err).__name__}: {err}")
    ${fail}`,
  };
}

function partsOf(spec: PyTestSpec): Parts {
  switch (spec.body.kind) {
    case 'http':
      return httpParts(spec, spec.body);
    case 'client':
      return clientParts(spec, spec.body);
    case 'function':
      return functionParts(spec, spec.body);
  }
}

/** The test module (or, with `append`, the code appended to an existing one). */
export function renderPython(spec: PyTestSpec): string {
  const p = partsOf(spec);
  const name = pyTestName(spec);
  const root = `os.path.abspath(os.path.join(os.path.dirname(__file__)${', ".."'.repeat(spec.depth)}))`;
  const usesRoot = /\bROOT\b/.test(p.body);
  const imports = [
    ...new Set([...p.imports, ...(usesRoot ? ['os'] : []), ...(spec.style.markers.length ? ['pytest'] : [])]),
  ].sort();
  const data = p.data.map(([k, v]) => `${k} = json.loads(${jsonStringLiteral(v)})`);
  const head = `Regression test written by suture for the crash with fingerprint ${spec.fp}.`;
  const marks = spec.style.markers.length
    ? `pytestmark = [getattr(pytest.mark, name) for name in json.loads(${jsonStringLiteral(spec.style.markers)})]`
    : '';
  const testcase = spec.style.kind === 'testcase';
  const sig = testcase ? 'self' : p.params.join(', ');
  const doc = `"""${head}\n\n${p.doc}\n"""`;

  if (!spec.append) {
    const fn = `def ${name}(${sig}):\n${indent(p.body, 4)}`;
    return [
      `${doc}\n${[...imports, ...(testcase ? ['unittest'] : [])]
        .sort()
        .map((i) => `import ${i}`)
        .join('\n')}`,
      [...(usesRoot ? [`ROOT = ${root}`] : []), ...data].join('\n'),
      ...(marks ? [marks] : []),
      ...p.helpers,
      testcase ? `class ${pyClassName(spec.fp)}(unittest.TestCase):\n${indent(fn, 4)}` : fn,
    ]
      .join('\n\n\n')
      .concat('\n');
  }
  // Appended: the test holds its own imports, data and helpers, so nothing in the module can clash with them.
  const inner = [
    ...imports.map((i) => `import ${i}`),
    ...(usesRoot ? [`ROOT = ${root}`] : []),
    ...data,
    ...p.helpers,
    p.body,
  ].join('\n');
  const fn = `def ${name}(${sig}):\n${indent(`${doc}\n${inner}`, 4)}`;
  const marked = spec.style.markers.length
    ? `${fn}\n\n\ndef _suture_marks_${spec.fp}():\n    import json\n    import pytest\n\n    return [getattr(pytest.mark, m) for m in json.loads(${jsonStringLiteral(spec.style.markers)})]\n\n\nfor _suture_mark_${spec.fp} in _suture_marks_${spec.fp}():\n    ${name} = _suture_mark_${spec.fp}(${name})`
    : fn;
  const block = testcase
    ? `import unittest as _suture_unittest_${spec.fp}\n\n\nclass ${pyClassName(spec.fp)}(_suture_unittest_${spec.fp}.TestCase):\n${indent(fn, 4)}`
    : marked;
  return `\n\n${block}\n`;
}
