/**
 * Request handlers by the shape of the code, and a 4xx answer the way the handler's framework (or better,
 * the handler's own code) answers one: Express, Koa, Fastify, hapi and node:http.
 */
import {
  freeNames,
  functionName,
  isFunctionLike,
  type JsFile,
  jsString,
  namesInScope,
  nodeText,
  startOf,
  ts,
  unwrap,
  walk,
} from './ast.ts';

export type JsFramework = 'express' | 'koa' | 'fastify' | 'hapi' | 'node-http';

export interface JsHandler {
  fn: ts.FunctionLikeDeclaration;
  framework: JsFramework;
  /** The response object (`res`), Koa context (`ctx`), Fastify `reply` or hapi toolkit (`h`). */
  responder: string;
}

const ROUTE_METHODS = new Set([
  'get',
  'post',
  'put',
  'patch',
  'delete',
  'del',
  'all',
  'use',
  'options',
  'head',
  'route',
  'handle',
]);

function paramName(fn: ts.FunctionLikeDeclaration, i: number): string | undefined {
  const p = fn.parameters[i];
  return p && ts.isIdentifier(p.name) ? p.name.text : undefined;
}

function imports(f: JsFile, pkg: RegExp): boolean {
  return pkg.test(f.source) && new RegExp(`(from|require\\()\\s*['"](node:)?(${pkg.source})['"]`).test(f.source);
}

/** How the function is registered: a route callback, a createServer callback, a `handler:` option. */
function registration(fn: ts.FunctionLikeDeclaration): 'route' | 'server' | 'option' | undefined {
  const p = fn.parent;
  if (!p) return undefined;
  if (ts.isCallExpression(p) && p.arguments.includes(fn as unknown as ts.Expression)) {
    const callee = unwrap(p.expression);
    const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : ts.isIdentifier(callee) ? callee.text : '';
    if (name === 'createServer') return 'server';
    if (name === 'on' && p.arguments[0] && ts.isStringLiteral(p.arguments[0]) && p.arguments[0].text === 'request')
      return 'server';
    if (ts.isPropertyAccessExpression(callee) && ROUTE_METHODS.has(name)) return 'route';
  }
  if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name) && p.name.text === 'handler') return 'option';
  return undefined;
}

/** The framework a handler function belongs to, from its parameters, registration and the file's imports. */
export function asHandler(f: JsFile, fn: ts.FunctionLikeDeclaration): JsHandler | undefined {
  const [p0, p1] = [paramName(fn, 0), paramName(fn, 1)];
  const reg = registration(fn);
  if (
    p0 &&
    /^(ctx|context)$/.test(p0) &&
    (reg || imports(f, /koa|@koa\/router|koa-router/) || /\bctx\.(body|request|status)\b/.test(f.source))
  )
    return { fn, framework: 'koa', responder: p0 };
  if (!p0 || !/^(req|request)$/.test(p0) || !p1) return undefined;
  if (p1 === 'reply') return { fn, framework: 'fastify', responder: p1 };
  if (p1 === 'h') return { fn, framework: 'hapi', responder: p1 };
  if (!/^(res|response)$/.test(p1)) return undefined;
  if (reg === 'server') return { fn, framework: 'node-http', responder: p1 };
  if (imports(f, /express/) || new RegExp(`\\b${p1}\\.(status|json|send|sendStatus)\\(`).test(f.source))
    return { fn, framework: 'express', responder: p1 };
  if (imports(f, /http|https/) || /\.writeHead\(/.test(f.source)) return { fn, framework: 'node-http', responder: p1 };
  return reg ? { fn, framework: 'express', responder: p1 } : undefined;
}

/** The handler `node` runs in: its own function or one it is nested in (a callback inside a handler). */
export function handlerAround(f: JsFile, node: ts.Node): JsHandler | undefined {
  for (let p: ts.Node | undefined = node.parent; p; p = p.parent) {
    if (!isFunctionLike(p)) continue;
    const h = asHandler(f, p);
    if (h) {
      // The responder must not be shadowed between the handler and the node.
      for (let q: ts.Node | undefined = node.parent; q && q !== p; q = q.parent) {
        if (isFunctionLike(q) && q.parameters.some((prm) => ts.isIdentifier(prm.name) && prm.name.text === h.responder))
          return undefined;
      }
      return h;
    }
  }
  return undefined;
}

const STATUS = (n: ts.Node, any: boolean) =>
  ts.isNumericLiteral(n) && Number(n.text) >= (any ? 200 : 400) && Number(n.text) < (any ? 600 : 500);
const MESSAGE_KEYS = /^(error|message|msg|detail|details|reason|description|title)$/;
const LOGGING =
  /^(console\.\w+|log|logger|logError|debug|info|warn|error|fatal|trace)$|^process\.std(out|err)\.write$|\.(log|info|warn|warning|error|debug|trace|fatal)$/;

/**
 * A statement in the code that answers with a status and a message, to copy: its numeric status and its
 * message. `any`: any status when the message sits under a key like `error`; else 4xx ones only.
 */
function ownAnswer(
  f: JsFile,
  stmt: ts.Statement,
  any = false,
): { status: ts.Node; message: ts.StringLiteral } | undefined {
  if (!ts.isReturnStatement(stmt) && !ts.isExpressionStatement(stmt)) return undefined;
  const expr = stmt.expression;
  if (!expr || !ts.isCallExpression(unwrap(expr))) return undefined;
  // A log line carries a status and a message too, but answers nothing.
  if (LOGGING.test(nodeText(f, (unwrap(expr) as ts.CallExpression).expression))) return undefined;
  let status: ts.Node | undefined;
  let keyed: ts.StringLiteral | undefined;
  const strings: ts.StringLiteral[] = [];
  walk(expr, (n) => {
    if (isFunctionLike(n)) return false;
    if (!status && STATUS(n, any)) status = n;
    if (ts.isPropertyAssignment(n) && MESSAGE_KEYS.test(n.name.getText(f.sf)) && ts.isStringLiteral(n.initializer))
      keyed ??= n.initializer;
    if (ts.isStringLiteral(n) && !(ts.isPropertyAssignment(n.parent) && n.parent.name === n)) strings.push(n);
    return undefined;
  });
  if (!status) return undefined;
  // A message: a keyed one, else a lone string argument that is not a header or content type.
  const message =
    keyed ?? (any ? undefined : strings.filter((s) => !/^[\w-]+\/[\w.+-]+$|^content-|^[a-z-]+$/i.test(s.text)).pop());
  return message ? { status, message } : undefined;
}

export interface Answer {
  /** Statements answering 4xx and leaving the function. */
  lines: string[];
  /** The code's own way (copied) or the framework's default. */
  source: 'own' | 'framework';
}

/** Statements that answer 400 with `message` at `at` inside the handler. */
export function answer400(
  f: JsFile,
  h: JsHandler,
  at: ts.Node,
  message: string,
  quote: "'" | '"',
  semi: boolean,
): Answer {
  const s = semi ? ';' : '';
  const msg = jsString(message, quote);
  const scope = namesInScope(f, at);
  const candidates: ts.Statement[] = [];
  const collect = (root: ts.Node) =>
    walk(root, (n) => {
      if (ts.isReturnStatement(n) || ts.isExpressionStatement(n)) candidates.push(n);
      return undefined;
    });
  collect(h.fn);
  collect(f.sf);
  // The code's own 4xx answers first, then any answer of its with an error message (its 500 handler).
  for (const [stmt, any] of [
    ...candidates.map((c) => [c, false] as const),
    ...candidates.map((c) => [c, true] as const),
  ]) {
    const own = ownAnswer(f, stmt, any);
    if (!own) continue;
    if (!freeNames(stmt).every((n) => scope.has(n) || n === 'undefined' || n === 'JSON')) continue;
    const start = startOf(f, stmt);
    const text = nodeText(f, stmt);
    const edits = [
      { at: startOf(f, own.status) - start, len: own.status.end - startOf(f, own.status), text: '400' },
      { at: startOf(f, own.message) - start, len: own.message.end - startOf(f, own.message), text: msg },
    ].sort((a, b) => b.at - a.at);
    let out = text;
    for (const e of edits) out = out.slice(0, e.at) + e.text + out.slice(e.at + e.len);
    if (ts.isExpressionStatement(stmt)) return { lines: [out, `return${s}`], source: 'own' };
    return { lines: [out], source: 'own' };
  }
  const r = h.responder;
  const body = `{ error: ${msg} }`;
  switch (h.framework) {
    case 'express':
      return { lines: [`return ${r}.status(400).json(${body})${s}`], source: 'framework' };
    case 'fastify':
      return { lines: [`return ${r}.code(400).send(${body})${s}`], source: 'framework' };
    case 'hapi':
      return { lines: [`return ${r}.response(${body}).code(400)${s}`], source: 'framework' };
    case 'koa':
      return { lines: [`${r}.status = 400${s}`, `${r}.body = ${body}${s}`, `return${s}`], source: 'framework' };
    case 'node-http':
      return {
        lines: [
          `${r}.writeHead(400, { ${jsString('content-type', quote)}: ${jsString('application/json', quote)} })${s}`,
          `${r}.end(JSON.stringify(${body}))${s}`,
          `return${s}`,
        ],
        source: 'framework',
      };
  }
}

export { functionName };
