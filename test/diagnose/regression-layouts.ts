/**
 * Small repositories in many test layouts, each with a crash that really happens (its trace is produced by
 * running the crashing code, not written by hand) and the fix a human would make. Shared by the tests that
 * generate regression tests for them and run those tests with the real runners.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { DEFAULT_LIMITS, type ServiceConfig } from '../../src/config/service.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import type { Incident, RequestSample } from '../../src/incident/types.ts';

export interface Layout {
  name: string;
  language: 'python' | 'node';
  /** suture.yaml's test command. */
  test: string;
  start?: string;
  files: Record<string, string>;
  /** The files a correct fix changes, after the fix. */
  fixed: Record<string, string>;
  /** Runs the crash on the base tree; its stderr is the incident's log. */
  crash: string[];
  /** The failing request, for crashes inside a request. */
  request?: RequestSample;
  expect: {
    path: RegExp;
    kind: 'http' | 'client' | 'function';
    framework: string;
    collected: boolean;
    append?: boolean;
  };
}

export function writeTree(dir: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
}

export function configOf(l: Layout): ServiceConfig {
  return {
    service: 'svc',
    language: l.language,
    image: 'suture-sandbox:bookworm',
    install: '',
    test: l.test,
    ...(l.start ? { start: l.start } : {}),
    port: 8080,
    health: '/healthz',
    limits: DEFAULT_LIMITS,
  };
}

/** Materialises the layout in a fresh directory (under `parent` when given) and captures its crash. */
export async function materialise(l: Layout, parent?: string): Promise<{ dir: string; incident: Incident }> {
  const dir = parent
    ? mkdtempSync(join(parent, `${l.name}-`))
    : mkdtempSync(join(tmpdir(), `suture-layout-${l.name}-`));
  writeTree(dir, l.files);
  const r = await execa(l.crash[0]!, l.crash.slice(1), {
    cwd: dir,
    reject: false,
    env: { PYTHONDONTWRITEBYTECODE: '1' },
  });
  if (r.exitCode === 0) throw new Error(`${l.name}: the crash did not happen: ${r.stdout}`);
  const logs = r.stderr;
  const incident = buildIncident(
    { kind: 'crash', service: 'svc', logs, ...(l.request ? { requests: [{ ...l.request, status: 500 }] } : {}) },
    Object.keys(l.files),
  );
  if (!incident.trace) throw new Error(`${l.name}: no trace in ${logs}`);
  return { dir, incident };
}

export const reader = (dir: string) => async (p: string) => {
  try {
    return readFileSync(join(dir, p), 'utf8');
  } catch {
    return undefined;
  }
};

const PY_SERVER = (call: string) => `import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

${call}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def reply(self, status, payload):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.reply(200 if self.path == "/healthz" else 404, {})

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        try:
            self.reply(200, handle(json.loads(raw or "{}")))
        except Exception:
            self.reply(500, {"error": "internal"})


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(os.environ.get("PORT", "8080"))), Handler).serve_forever()
`;

const JOBS_PY = `def nightly_summary(orders):
    total = sum(o["amount"] for o in orders)
    return {"count": len(orders), "average": total / len(orders)}
`;
const JOBS_PY_FIXED = `def nightly_summary(orders):
    total = sum(o["amount"] for o in orders)
    return {"count": len(orders), "average": total / len(orders) if orders else 0}
`;

const FLASK_APP = `from flask import Flask, jsonify, request

app = Flask(__name__)


def quote(cart):
    discount = cart["coupon"]["percent"]
    return {"total": sum(i["price"] for i in cart["items"]) * (1 - discount / 100)}


@app.post("/quote")
def post_quote():
    return jsonify(quote(request.get_json()))


@app.get("/healthz")
def health():
    return {"status": "ok"}
`;
const FLASK_FIXED = FLASK_APP.replace(
  'discount = cart["coupon"]["percent"]',
  'discount = (cart.get("coupon") or {}).get("percent", 0)',
);
const FLASK_CRASH = `import sys
sys.path.insert(0, ".")
from app import app
app.config["PROPAGATE_EXCEPTIONS"] = True
app.test_client().post("/quote", json={"items": [{"price": 10}]})
`;
const FLASK_REQUEST: RequestSample = {
  method: 'POST',
  path: '/quote',
  headers: { 'content-type': 'application/json' },
  body: '{"items": [{"price": 10}]}',
};

/** A Flask app crashing on a missing coupon, with the tests given (they decide how the test reaches the app). */
const flask = (name: string, tests: Record<string, string>): Layout => ({
  name,
  language: 'python',
  test: 'python3 -m pytest -q',
  start: 'python3 app.py',
  files: { 'app.py': FLASK_APP, 'crash.py': FLASK_CRASH, ...tests },
  fixed: { 'app.py': FLASK_FIXED },
  crash: ['python3', 'crash.py'],
  request: FLASK_REQUEST,
  expect: { path: /^tests\/test_suture_[0-9a-f]{12}\.py$/, kind: 'client', framework: 'pytest', collected: true },
});

const NOTIFY_PY = `class Mailer:
    def __init__(self):
        self.sent = []

    def send(self, user):
        self.sent.append(user.email.lower())


def notify_all(users):
    mailer = Mailer()
    for u in users:
        mailer.send(u)
    return mailer.sent
`;

const ORDERS_JS = `export function shippingRate(order) {
  const { city, country } = order.shipping.address;
  return country === 'DE' ? 4.9 : city ? 9.9 : 12;
}
`;

export const LAYOUTS: Layout[] = [
  {
    name: 'pytest-subdir-job',
    language: 'python',
    test: 'python3 -m pytest -q tests/unit',
    files: {
      'worker/__init__.py': '',
      'worker/jobs.py': JOBS_PY,
      'worker/main.py':
        'from worker.jobs import nightly_summary\n\n\ndef run(batch):\n    return nightly_summary(batch["orders"])\n\n\nif __name__ == "__main__":\n    run({"orders": []})\n',
      'tests/unit/test_jobs.py':
        'from worker.jobs import nightly_summary\n\n\ndef test_average():\n    assert nightly_summary([{"amount": 2}, {"amount": 4}])["average"] == 3\n',
      'tests/integration/test_db.py':
        'def test_needs_a_database():\n    raise RuntimeError("integration tests need a database")\n',
    },
    fixed: { 'worker/jobs.py': JOBS_PY_FIXED },
    crash: ['python3', '-m', 'worker.main'],
    expect: {
      path: /^tests\/unit\/test_suture_[0-9a-f]{12}\.py$/,
      kind: 'function',
      framework: 'pytest',
      collected: true,
    },
  },
  {
    name: 'pytest-ini-custom-names',
    language: 'python',
    test: 'pytest',
    files: {
      'pytest.ini':
        '[pytest]\npythonpath = .\ntestpaths = checks\npython_files = check_*.py\npython_functions = check_*\nmarkers =\n    unit: fast tests\naddopts = -m unit\n',
      'shipping.py':
        'def labels(batch):\n    out = []\n    for order in batch["orders"]:\n        out.append(order["address"]["city"].upper())\n    return out\n',
      'run.py': 'from shipping import labels\n\nlabels({"orders": [{"address": {"street": "x"}}]})\n',
      'checks/check_shipping.py':
        'import pytest\n\nfrom shipping import labels\n\n\n@pytest.mark.unit\ndef check_labels():\n    assert labels({"orders": [{"address": {"city": "Oslo"}}]}) == ["OSLO"]\n',
    },
    fixed: {
      'shipping.py':
        'def labels(batch):\n    out = []\n    for order in batch["orders"]:\n        out.append(order["address"].get("city", "").upper())\n    return out\n',
    },
    crash: ['python3', 'run.py'],
    expect: { path: /^checks\/check_suture_[0-9a-f]{12}\.py$/, kind: 'function', framework: 'pytest', collected: true },
  },
  {
    name: 'pytest-method-outward',
    language: 'python',
    test: 'python3 -m pytest -q',
    files: {
      'notify.py': NOTIFY_PY,
      'cli.py':
        'from types import SimpleNamespace\n\nfrom notify import notify_all\n\nnotify_all([SimpleNamespace(email=None)])\n',
      'tests/test_notify.py':
        'from types import SimpleNamespace\n\nfrom notify import notify_all\n\n\ndef test_sends():\n    assert notify_all([SimpleNamespace(email="A@b.c")]) == ["a@b.c"]\n',
    },
    fixed: {
      'notify.py': NOTIFY_PY.replace(
        '    def send(self, user):\n',
        '    def send(self, user):\n        if user.email is None:\n            return\n',
      ),
    },
    crash: ['python3', 'cli.py'],
    expect: { path: /^tests\/test_suture_[0-9a-f]{12}\.py$/, kind: 'function', framework: 'pytest', collected: true },
  },
  flask('pytest-flask-fixture', {
    'tests/conftest.py':
      'import pytest\n\nfrom app import app as flask_app\n\n\n@pytest.fixture\ndef client():\n    flask_app.config["TESTING"] = True\n    return flask_app.test_client()\n',
    'tests/test_quote.py':
      'def test_quote(client):\n    r = client.post("/quote", json={"items": [{"price": 10}], "coupon": {"percent": 50}})\n    assert r.get_json() == {"total": 5.0}\n',
  }),
  flask('pytest-flask-import', {
    'tests/test_quote.py':
      'import os\nimport sys\n\nsys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))\n\nfrom app import app  # noqa: E402\n\nclient = app.test_client()\n\n\ndef test_health():\n    assert client.get("/healthz").status_code == 200\n',
  }),
  {
    name: 'pytest-http-start',
    language: 'python',
    test: 'python3 -m pytest -q tests',
    start: 'python3 server.py',
    files: {
      'server.py': PY_SERVER('def handle(cart):\n    return {"per_item": cart["total"] / len(cart["items"])}'),
      'crash.py': 'from server import handle\n\nhandle({"total": 3, "items": []})\n',
      'tests/test_server.py':
        'from server import handle\n\n\ndef test_handle():\n    assert handle({"total": 4, "items": [1, 2]}) == {"per_item": 2}\n',
    },
    fixed: {
      'server.py': PY_SERVER(
        'def handle(cart):\n    return {"per_item": cart["total"] / len(cart["items"]) if cart["items"] else 0}',
      ),
    },
    crash: ['python3', 'crash.py'],
    request: {
      method: 'POST',
      path: '/cart',
      headers: { 'content-type': 'application/json' },
      body: '{"total": 3, "items": []}',
    },
    expect: { path: /^tests\/test_suture_[0-9a-f]{12}\.py$/, kind: 'http', framework: 'pytest', collected: true },
  },
  {
    name: 'pytest-named-file',
    language: 'python',
    test: 'python3 -m pytest -q tests/test_jobs.py',
    files: {
      'jobs.py': JOBS_PY,
      'main.py': 'from jobs import nightly_summary\n\nnightly_summary([])\n',
      'tests/test_jobs.py':
        'from jobs import nightly_summary\n\n\ndef test_average():\n    assert nightly_summary([{"amount": 2}])["average"] == 2\n',
    },
    fixed: { 'jobs.py': JOBS_PY_FIXED },
    crash: ['python3', 'main.py'],
    expect: { path: /^tests\/test_jobs\.py$/, kind: 'function', framework: 'pytest', collected: true, append: true },
  },
  {
    name: 'unittest-discover',
    language: 'python',
    test: 'python3 -m unittest discover -s tests -p "*_test.py"',
    files: {
      'billing/__init__.py': '',
      'billing/invoice.py': 'def line_total(line):\n    return line["qty"] * line["unit_price"] + line.get("fee")\n',
      'billing/run.py': 'from billing.invoice import line_total\n\nline_total({"qty": 2, "unit_price": 3})\n',
      'tests/__init__.py': '',
      'tests/invoice_test.py':
        'import unittest\n\nfrom billing.invoice import line_total\n\n\nclass InvoiceTest(unittest.TestCase):\n    def test_total(self):\n        self.assertEqual(line_total({"qty": 2, "unit_price": 3, "fee": 1}), 7)\n',
    },
    fixed: {
      'billing/invoice.py':
        'def line_total(line):\n    return line["qty"] * line["unit_price"] + (line.get("fee") or 0)\n',
    },
    crash: ['python3', '-m', 'billing.run'],
    expect: { path: /^tests\/suture_[0-9a-f]{12}_test\.py$/, kind: 'function', framework: 'unittest', collected: true },
  },
  {
    name: 'node-default-esm-job',
    language: 'node',
    test: 'node --test',
    files: {
      'package.json': JSON.stringify({ name: 'x', type: 'module', scripts: { test: 'node --test' } }),
      'src/orders.js': ORDERS_JS,
      'src/worker.js':
        "import { shippingRate } from './orders.js';\n\nshippingRate({ shipping: { method: 'pickup' } });\n",
      'test/orders.test.js':
        "import assert from 'node:assert/strict';\nimport { test } from 'node:test';\nimport { shippingRate } from '../src/orders.js';\n\ntest('de', () => assert.equal(shippingRate({ shipping: { address: { country: 'DE' } } }), 4.9));\n",
    },
    fixed: { 'src/orders.js': ORDERS_JS.replace('order.shipping.address;', 'order.shipping.address || {};') },
    crash: ['node', 'src/worker.js'],
    expect: {
      path: /^test\/suture-[0-9a-f]{12}\.test\.js$/,
      kind: 'function',
      framework: 'node-test',
      collected: true,
    },
  },
  {
    name: 'node-cjs-script-glob-http',
    language: 'node',
    test: 'npm test',
    start: 'node server.js',
    files: {
      'package.json': JSON.stringify({ name: 'x', scripts: { test: 'node --test test/*.test.js' } }),
      'lib/total.js':
        'function total(cart) {\n  return cart.items.reduce((s, i) => s + i.price, 0);\n}\n\nmodule.exports = { total };\n',
      'server.js': `const http = require('node:http');
const { total } = require('./lib/total');

http
  .createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      if (req.url === '/healthz') return res.end('ok');
      try {
        const body = JSON.stringify({ total: total(JSON.parse(raw || '{}')) });
        res.end(body);
      } catch (err) {
        res.statusCode = 500;
        res.end('internal');
      }
    });
  })
  .listen(Number(process.env.PORT || 8080), '127.0.0.1');
`,
      'crash.js': "const { total } = require('./lib/total');\n\ntotal({});\n",
      'test/total.test.js':
        "const assert = require('node:assert/strict');\nconst { test } = require('node:test');\nconst { total } = require('../lib/total');\n\ntest('sums', () => assert.equal(total({ items: [{ price: 2 }] }), 2));\n",
      'test/helpers/fixtures.js': 'module.exports = {};\n',
    },
    fixed: {
      'lib/total.js':
        'function total(cart) {\n  return (cart.items || []).reduce((s, i) => s + i.price, 0);\n}\n\nmodule.exports = { total };\n',
    },
    crash: ['node', 'crash.js'],
    request: { method: 'POST', path: '/total', headers: { 'content-type': 'application/json' }, body: '{}' },
    expect: { path: /^test\/suture-[0-9a-f]{12}\.test\.js$/, kind: 'http', framework: 'node-test', collected: true },
  },
  {
    name: 'node-cjs-outward',
    language: 'node',
    test: 'node --test',
    files: {
      'package.json': JSON.stringify({ name: 'x' }),
      'jobs/labels.js': `function cityOf(order) {
  const { city } = order.shipping.address;
  return city.toUpperCase();
}

function labels(batch) {
  return batch.orders.map((o) => cityOf(o));
}

module.exports = { labels };
`,
      'jobs/run.js': "const { labels } = require('./labels');\n\nlabels({ orders: [{ shipping: {} }] });\n",
      'jobs/labels.test.js':
        "const test = require('node:test');\nconst assert = require('node:assert');\nconst { labels } = require('./labels');\n\ntest('labels', () => assert.deepEqual(labels({ orders: [{ shipping: { address: { city: 'a' } } }] }), ['A']));\n",
    },
    fixed: {
      'jobs/labels.js': `function cityOf(order) {
  const address = order.shipping.address;
  if (!address) return '';
  return address.city.toUpperCase();
}

function labels(batch) {
  return batch.orders.map((o) => cityOf(o));
}

module.exports = { labels };
`,
    },
    crash: ['node', 'jobs/run.js'],
    expect: {
      path: /^jobs\/suture-[0-9a-f]{12}\.test\.js$/,
      kind: 'function',
      framework: 'node-test',
      collected: true,
    },
  },
  {
    name: 'node-ts-strip-types',
    language: 'node',
    test: "node --experimental-strip-types --test 'test/**/*.test.ts'",
    files: {
      'package.json': JSON.stringify({ name: 'x', type: 'module' }),
      'src/report.ts':
        'export interface Row {\n  values?: number[];\n}\n\nexport function peak(row: Row): number {\n  return Math.max(...row.values);\n}\n',
      'src/cron.ts': "import { peak } from './report.ts';\n\npeak({});\n",
      'test/report.test.ts':
        "import assert from 'node:assert/strict';\nimport { test } from 'node:test';\nimport { peak } from '../src/report.ts';\n\ntest('peak', () => assert.equal(peak({ values: [1, 3] }), 3));\n",
    },
    fixed: {
      'src/report.ts':
        'export interface Row {\n  values?: number[];\n}\n\nexport function peak(row: Row): number {\n  return Math.max(...(row.values ?? [0]));\n}\n',
    },
    crash: ['node', '--experimental-strip-types', 'src/cron.ts'],
    expect: {
      path: /^test\/suture-[0-9a-f]{12}\.test\.ts$/,
      kind: 'function',
      framework: 'node-test',
      collected: true,
    },
  },
  {
    name: 'vitest-include',
    language: 'node',
    test: 'npm run test:unit',
    files: {
      'package.json': JSON.stringify({
        name: 'x',
        type: 'module',
        scripts: { 'test:unit': 'vitest run' },
        devDependencies: { vitest: '*' },
      }),
      'vitest.config.mjs': "export default { test: { include: ['spec/**/*.spec.js'] } };\n",
      'src/price.js': 'export function unitPrice(item) {\n  return item.pricing.amount / item.qty;\n}\n',
      'src/job.js': "import { unitPrice } from './price.js';\n\nunitPrice({ qty: 1 });\n",
      'spec/price.spec.js':
        "import { expect, it } from 'vitest';\nimport { unitPrice } from '../src/price.js';\n\nit('divides', () => expect(unitPrice({ pricing: { amount: 4 }, qty: 2 })).toBe(2));\n",
    },
    fixed: {
      'src/price.js':
        'export function unitPrice(item) {\n  if (!item.pricing) return 0;\n  return item.pricing.amount / item.qty;\n}\n',
    },
    crash: ['node', 'src/job.js'],
    expect: { path: /^spec\/suture-[0-9a-f]{12}\.spec\.js$/, kind: 'function', framework: 'vitest', collected: true },
  },
];
