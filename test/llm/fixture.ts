/**
 * A small Python service with a crash (an empty cart divides by zero), as the RepairContext the LLM
 * strategy sees, plus the answers a model would give for it.
 */

import { DEFAULTS, type LlmSettings } from '../../src/diagnose/strategies/llm/settings.ts';
import type { RepairContext } from '../../src/diagnose/types.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { py } from '../diagnose/configs.ts';

export const CART = [
  'def cart_summary(cart):',
  '    items = cart["items"]',
  '    count = sum(i["quantity"] for i in items)',
  '    average = sum(i["price"] for i in items) / len(items)',
  '    return {"count": count, "average": average}',
  '',
].join('\n');

export const APP = [
  'import json',
  'import os',
  'from http.server import BaseHTTPRequestHandler, HTTPServer',
  '',
  'from cart import cart_summary',
  '',
  '',
  'class Handler(BaseHTTPRequestHandler):',
  '    def do_POST(self):',
  '        length = int(self.headers.get("content-length", 0))',
  '        payload = json.loads(self.rfile.read(length))',
  '        body = cart_summary(payload)',
  '        self.send_response(200)',
  '        self.end_headers()',
  '        self.wfile.write(json.dumps(body).encode())',
  '',
  '',
  'if __name__ == "__main__":',
  '    HTTPServer(("", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()',
  '',
].join('\n');

export const TEST_CART = [
  'from cart import cart_summary',
  '',
  '',
  'def test_summary():',
  '    assert cart_summary({"items": [{"price": 2, "quantity": 1}]}) == {"count": 1, "average": 2}',
  '',
].join('\n');

export const FILES: Record<string, string> = {
  'cart.py': CART,
  'app.py': APP,
  'tests/test_cart.py': TEST_CART,
  'suture.yaml': 'service: cart-api\nlanguage: python\ntest: python3 -m pytest -q\nautonomy: auto\n',
  'pyproject.toml':
    '[project]\nname = "cart"\nrequires-python = ">=3.8"\n\n[tool.pytest.ini_options]\npythonpath = ["."]\n',
  '.github/workflows/ci.yml': 'on: push\n',
  'conftest.py': '',
};

export const TRACE = [
  'Traceback (most recent call last):',
  '  File "/srv/cart-api/app.py", line 12, in do_POST',
  '    body = cart_summary(payload)',
  '  File "/srv/cart-api/cart.py", line 4, in cart_summary',
  '    average = sum(i["price"] for i in items) / len(items)',
  'ZeroDivisionError: division by zero',
].join('\n');

/** `extraLogs` lets a test smuggle text (e.g. an injected instruction) into the logs. */
export function cartContext(
  opts: { extraLogs?: string; files?: Record<string, string>; symlinks?: string[]; llm?: unknown } = {},
): RepairContext {
  const files = { ...FILES, ...opts.files };
  const logs = `${opts.extraLogs ?? ''}${TRACE}\n`;
  const paths = [...Object.keys(files), ...(opts.symlinks ?? [])];
  const incident = buildIncident(
    {
      kind: 'crash',
      service: 'cart-api',
      logs,
      requests: [{ method: 'POST', path: '/cart/summary', body: '{"items": []}', status: 500 }],
    },
    paths,
  );
  const lines = CART.split('\n');
  return {
    incident,
    evidence: {
      frames: incident.trace?.frames ?? [],
      excerpts: [
        { file: 'cart.py', line: 4, startLine: 1, lines, function: 'cart_summary' },
        { file: 'app.py', line: 12, startLine: 4, lines: APP.split('\n').slice(3, 20), function: 'do_POST' },
      ],
      commits: [
        {
          sha: 'a1b2c3d',
          author: 'Dev',
          date: '2026-11-19T10:00:00.000Z',
          subject: 'cart: average price',
          file: 'cart.py',
          line: 4,
        },
      ],
      logs,
      redactions: 0,
    },
    config: { ...py, ...(opts.llm !== undefined ? { llm: opts.llm } : {}) } as RepairContext['config'],
    repoFiles: paths,
    // Symlinks are listed like files but read as nothing (the confined reader refuses them).
    readFile: async (p) => (opts.symlinks?.includes(p) ? undefined : files[p]),
  };
}

export const GOOD_EDIT = {
  file: 'cart.py',
  search: '    average = sum(i["price"] for i in items) / len(items)\n',
  replace:
    '    if not items:\n        return {"count": 0, "average": 0}\n    average = sum(i["price"] for i in items) / len(items)\n',
};

export const GOOD_TEST = {
  file: 'tests/test_cart_empty.py',
  content:
    'from cart import cart_summary\n\n\ndef test_empty_cart():\n    assert cart_summary({"items": []}) == {"count": 0, "average": 0}\n',
};

export function candidate(
  over: Partial<{ summary: string; confidence: number; edits: unknown[]; test: unknown }> = {},
) {
  return {
    summary: 'return an empty summary for an empty cart in cart_summary',
    confidence: 0.9,
    edits: [GOOD_EDIT],
    test: GOOD_TEST,
    ...over,
  };
}

export function answer(candidates: unknown[] = [candidate()], over: Record<string, unknown> = {}) {
  return {
    classification: 'code-defect',
    rootCause: 'cart_summary divides by len(items), which is 0 for an empty cart',
    confidence: 0.9,
    candidates,
    ...over,
  };
}

export const ACCEPT = {
  hidesErrors: false,
  changesBehaviourForValidInput: false,
  touchesSecurity: false,
  verdict: 'accept',
  reason: 'guards the empty cart and keeps other carts unchanged',
};

export function settingsFor(baseURL: string, over: Partial<LlmSettings> = {}): LlmSettings {
  return {
    baseURL,
    apiKey: 'sk-test-0123456789',
    model: 'test-model',
    allowedModels: ['test-model'],
    azureApiVersion: undefined,
    ...DEFAULTS,
    timeoutMs: 5_000,
    backoffMs: 50,
    deadlineMs: 30_000,
    ...over,
  };
}
