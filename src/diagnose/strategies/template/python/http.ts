/**
 * Python request handlers by the shape of the code — Flask (and Quart), FastAPI, Django and DRF views,
 * aiohttp, tornado, http.server — and a 400 answer the way the handler's own code answers one, or else
 * the way its framework does.
 */
import {
  constValue,
  isBuiltin,
  loadedNames,
  namesInScope,
  type PyFile,
  type PyNode,
  positionalParams,
  pyString,
  quoteStyle,
} from './ast.ts';

export type PyFramework = 'flask' | 'fastapi' | 'django' | 'drf' | 'http.server' | 'aiohttp' | 'tornado';

export interface PyHandler {
  fn: PyNode;
  framework: PyFramework;
}

const ROUTE = /\.(route|get|post|put|patch|delete|api_route|head|options)\s*\(/;
const HTTP_METHODS = new Set(['get', 'post', 'put', 'patch', 'delete', 'head', 'options']);

function imports(file: PyFile, mod: string): boolean {
  return new RegExp(`^\\s*(from\\s+${mod}(\\.[\\w.]+)?\\s+import|import\\s+${mod}\\b)`, 'm').test(file.source);
}

function classOf(file: PyFile, fn: PyNode): PyNode | undefined {
  const p = file.parent(fn);
  return p?._t === 'ClassDef' ? p : undefined;
}

export function asHandlerPy(file: PyFile, fn: PyNode): PyHandler | undefined {
  if (fn._t !== 'FunctionDef' && fn._t !== 'AsyncFunctionDef') return undefined;
  const name = fn.name as string;
  const decorators = (fn.decorator_list as PyNode[]).map((d) => file.text(d));
  const params = positionalParams(fn);
  const cls = classOf(file, fn);
  const bases = cls ? (cls.bases as PyNode[]).map((b) => file.text(b)).join(' ') : '';
  if (cls && /^do_[A-Z]+$/.test(name)) return { fn, framework: 'http.server' };
  if (decorators.some((d) => ROUTE.test(d))) {
    if (imports(file, 'fastapi') || imports(file, 'starlette')) return { fn, framework: 'fastapi' };
    if (imports(file, 'flask') || imports(file, 'quart')) return { fn, framework: 'flask' };
    if (imports(file, 'aiohttp')) return { fn, framework: 'aiohttp' };
    return { fn, framework: 'flask' };
  }
  if (decorators.some((d) => /^api_view\b/.test(d))) return { fn, framework: 'drf' };
  if (cls && HTTP_METHODS.has(name)) {
    if (/RequestHandler/.test(bases) && imports(file, 'tornado')) return { fn, framework: 'tornado' };
    if (/APIView|ViewSet|GenericAPIView/.test(bases) || imports(file, 'rest_framework'))
      return { fn, framework: 'drf' };
    if (/MethodView/.test(bases)) return { fn, framework: 'flask' };
    if (/View/.test(bases) && imports(file, 'django')) return { fn, framework: 'django' };
  }
  if (!cls && params[0] === 'request') {
    if (imports(file, 'rest_framework')) return { fn, framework: 'drf' };
    if (imports(file, 'django')) return { fn, framework: 'django' };
    if (imports(file, 'aiohttp')) return { fn, framework: 'aiohttp' };
  }
  return undefined;
}

/** The handler `node` runs in: its own function or one it is nested in. */
export function handlerAroundPy(file: PyFile, node: PyNode): PyHandler | undefined {
  for (const a of file.ancestors(node)) {
    if (a._t !== 'FunctionDef' && a._t !== 'AsyncFunctionDef') continue;
    const h = asHandlerPy(file, a);
    if (h) return h;
  }
  return undefined;
}

const MESSAGE_KEYS = /^(error|message|msg|detail|details|reason|description|title)$/;
const STATUS_KWARGS = /^(status|status_code|code)$/;

function isStatus(n: PyNode, low: number): boolean {
  const v = constValue(n);
  return typeof v === 'number' && v >= low && v < (low === 400 ? 500 : 600);
}

/**
 * A statement answering with a status and a message in the code: where its status and its message are.
 * `any`: any status (200–599) when the message sits under a key like "error"; else only 4xx ones.
 */
function ownAnswer(file: PyFile, stmt: PyNode, any = false): { status: PyNode; message: PyNode } | undefined {
  if (!['Return', 'Expr', 'Raise'].includes(stmt._t)) return undefined;
  const root = (stmt._t === 'Raise' ? stmt.exc : stmt.value) as PyNode | null;
  if (!root) return undefined;
  const nodes = [root, ...file.descendants(root, { functions: false })];
  const status = nodes.find((n) => {
    if (!isStatus(n, any ? 200 : 400)) return false;
    const p = file.parent(n);
    return p?._t === 'Call' || p?._t === 'Tuple' || (p?._t === 'keyword' && STATUS_KWARGS.test(p.arg as string));
  });
  if (!status) return undefined;
  let message: PyNode | undefined;
  for (const n of nodes) {
    if (n._t === 'Dict') {
      (n.keys as (PyNode | null)[]).forEach((k, i) => {
        const key = k ? constValue(k) : undefined;
        const v = (n.values as PyNode[])[i]!;
        if (!message && typeof key === 'string' && MESSAGE_KEYS.test(key) && v._t === 'Constant' && v.vt === 'str')
          message = v;
      });
    }
    if (
      !message &&
      n._t === 'keyword' &&
      MESSAGE_KEYS.test((n.arg as string) ?? '') &&
      (n.value as PyNode)._t === 'Constant'
    )
      message = n.value as PyNode;
  }
  if (!message && !any) {
    const strings = nodes.filter((n) => n._t === 'Constant' && n.vt === 'str' && file.parent(n)?._t === 'Call');
    message = strings.filter((s) => !/^[\w-]+\/[\w.+-]+$|^[A-Za-z-]+$/.test(s.value as string)).pop();
  }
  return message ? { status, message } : undefined;
}

/** Statements answering 400 with `message` inside the handler, at `at` (for the scope check). */
export function answer400Py(
  file: PyFile,
  h: PyHandler,
  at: PyNode,
  message: string,
): { lines: string[]; source: 'own' | 'framework' } {
  const q = quoteStyle(file);
  const msg = pyString(message, q);
  const scope = namesInScope(file, at);
  const statements = [h.fn, file.tree].flatMap((root) =>
    file.descendants(root).filter((n) => n._t === 'Return' || n._t === 'Expr' || n._t === 'Raise'),
  );
  // The code's own 4xx answers first, then any answer of its with an error message (its 500 handler).
  for (const [stmt, any] of [
    ...statements.map((st) => [st, false] as const),
    ...statements.map((st) => [st, true] as const),
  ]) {
    const own = ownAnswer(file, stmt, any);
    if (!own) continue;
    if (!loadedNames(file, stmt).every((n) => scope.has(n) || isBuiltin(n))) continue;
    const base = stmt.s!;
    const edits = [
      { at: own.status.s! - base, len: own.status.e! - own.status.s!, text: '400' },
      { at: own.message.s! - base, len: own.message.e! - own.message.s!, text: msg },
    ].sort((a, b) => b.at - a.at);
    let text = file.text(stmt);
    if (text.includes('\n')) continue; // one-line answers only: re-indenting a multi-line one is not worth it
    for (const e of edits) text = text.slice(0, e.at) + e.text + text.slice(e.at + e.len);
    return { lines: stmt._t === 'Expr' ? [text, 'return'] : [text], source: 'own' };
  }
  const self = positionalParams(h.fn)[0] ?? 'self';
  const body = `{${pyString('error', q)}: ${msg}}`;
  const has = (n: string) => scope.has(n);
  switch (h.framework) {
    case 'http.server':
      return { lines: [`${self}.send_error(400, ${msg})`, 'return'], source: 'framework' };
    case 'flask':
      return {
        lines: [has('jsonify') ? `return jsonify(${body}), 400` : `return ${body}, 400`],
        source: 'framework',
      };
    case 'fastapi':
      return {
        lines: [
          ...(has('HTTPException') ? [] : ['from fastapi import HTTPException']),
          `raise HTTPException(status_code=400, detail=${msg})`,
        ],
        source: 'framework',
      };
    case 'drf':
      return {
        lines: [
          ...(has('Response') ? [] : ['from rest_framework.response import Response']),
          `return Response(${body}, status=400)`,
        ],
        source: 'framework',
      };
    case 'django':
      if (!has('JsonResponse') && has('HttpResponseBadRequest'))
        return { lines: [`return HttpResponseBadRequest(${msg})`], source: 'framework' };
      return {
        lines: [
          ...(has('JsonResponse') ? [] : ['from django.http import JsonResponse']),
          `return JsonResponse(${body}, status=400)`,
        ],
        source: 'framework',
      };
    case 'aiohttp':
      return {
        lines: [...(has('web') ? [] : ['from aiohttp import web']), `return web.json_response(${body}, status=400)`],
        source: 'framework',
      };
    case 'tornado':
      return { lines: [`${self}.set_status(400)`, `${self}.finish(${body})`, 'return'], source: 'framework' };
  }
}
