/**
 * The Python templates on crashes that really happen: each scenario runs a small module under python3
 * with the crashing input, the traceback it prints goes through intake and the template strategy, and
 * every proposal's patched module runs again with the same input. Per class, several code shapes: nested
 * chains, loops and comprehensions, class methods, `.get()` chains, http.server and Flask handlers.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { closeParser, crash, patched, run, type Scenario, sharedParser } from './harness.ts';
import { expectLocal, frameLines } from './locality.ts';

afterAll(() => closeParser());

/** Flask scenarios need Flask on the host's python3; without it they are skipped (the others still run). */
const hasFlask = spawnSync('python3', ['-c', 'import flask'], { stdio: 'ignore' }).status === 0;

const call = (imports: string, expr: string) =>
  `import json, sys\nsys.path.insert(0, ".")\n${imports}\nprint(json.dumps(${expr}))\n`;

/** A Flask app driven by its test client; exits 1 on a 5xx like a crash. */
const flask = (method: string, path: string, body: string) =>
  `import sys\nsys.path.insert(0, ".")\nfrom app import app\nr = app.test_client().open(${JSON.stringify(path)}, method=${JSON.stringify(method)}, data=${JSON.stringify(body)}, content_type="application/json")\nprint(r.status_code, r.get_data(as_text=True).strip())\nsys.exit(1 if r.status_code >= 500 else 0)\n`;

/** An http.server handler on a real socket; exits 1 on a 5xx. */
const httpServer = (method: string, path: string, body: string) =>
  `import sys, threading, http.client\nsys.path.insert(0, ".")\nimport app\nfrom http.server import HTTPServer\nsrv = HTTPServer(("127.0.0.1", 0), app.Handler)\nthreading.Thread(target=srv.serve_forever, daemon=True).start()\nc = http.client.HTTPConnection("127.0.0.1", srv.server_address[1])\nc.request(${JSON.stringify(method)}, ${JSON.stringify(path)}, body=${JSON.stringify(body)}, headers={"Content-Type": "application/json"})\nr = c.getresponse()\nprint(r.status, r.read().decode())\nsys.exit(1 if r.status >= 500 else 0)\n`;

const httpApp = (body: string) =>
  `import json\nimport traceback\nfrom http.server import BaseHTTPRequestHandler\n\nfrom orders import summarize\n\n\nclass Handler(BaseHTTPRequestHandler):\n    def log_message(self, *args):\n        pass\n\n    def reply(self, status, payload):\n        data = json.dumps(payload).encode()\n        self.send_response(status)\n        self.send_header("Content-Type", "application/json")\n        self.end_headers()\n        self.wfile.write(data)\n\n${body}`;

interface Case {
  name: string;
  scenario: Scenario;
  /** Strategy → what the patched run prints (every listed variant must exist and no longer crash). */
  fixes: Record<string, RegExp>;
}

const CASES: Case[] = [
  // zero division
  {
    name: 'zero division: a returned average of an empty list',
    scenario: {
      language: 'python',
      files: { 'stats.py': 'def average(xs):\n    total = sum(xs)\n    return total / len(xs)\n' },
      driver: call('from stats import average', 'average([])'),
    },
    fixes: { 'template:zero-division:guard': /^0$/, 'template:zero-division:default': /^0$/ },
  },
  {
    name: 'zero division: an assigned ratio used after',
    scenario: {
      language: 'python',
      files: { 'stats.py': 'def rate(hits, total):\n    ratio = hits / total\n    return round(ratio * 100, 1)\n' },
      driver: call('from stats import rate', 'rate(0, 0)'),
    },
    fixes: { 'template:zero-division:guard': /^0$/, 'template:zero-division:default': /^0$/ },
  },
  {
    name: 'zero division: floor division in a method, divisor from an attribute',
    scenario: {
      language: 'python',
      files: {
        'pager.py':
          'class Pager:\n    def __init__(self, size):\n        self.size = size\n\n    def pages(self, count):\n        full = count // self.size\n        return full + (1 if count % self.size else 0)\n',
      },
      driver: call('from pager import Pager', 'Pager(0).pages(10)'),
    },
    // The default covers the `%` by the same divisor on the next line too.
    fixes: { 'template:zero-division:guard': /^0$/, 'template:zero-division:default': /^0$/ },
  },
  // None attribute / subscript / iteration / len / call
  {
    name: 'None: a method result used as an object (class method)',
    scenario: {
      language: 'python',
      files: {
        'users.py':
          'class Users:\n    def __init__(self):\n        self.db = {"a": {"name": "ann"}}\n\n    def find(self, uid):\n        return self.db.get(uid)\n\n    def display(self, uid):\n        user = self.find(uid)\n        return user.get("name").title()\n',
      },
      driver: call('from users import Users', 'Users().display("zz")'),
    },
    fixes: { 'template:nullish:default': /^null$/, 'template:nullish:guard': /^null$/ },
  },
  {
    name: 'None: a .get() chain, the failing link marked by the carets',
    scenario: {
      language: 'python',
      files: {
        'geo.py': 'def country(payload):\n    return payload.get("shipping").get("address").get("country", "DE")\n',
      },
      driver: call('from geo import country', 'country({"shipping": {}})'),
    },
    fixes: { 'template:nullish:default': /^"DE"$/, 'template:nullish:guard': /^"DE"$/ },
  },
  {
    name: 'None: re.match(...).group()',
    scenario: {
      language: 'python',
      files: {
        'refs.py':
          'import re\n\nPAT = re.compile(r"order-(\\d+)")\n\n\ndef order_id(ref):\n    return int(PAT.match(ref).group(1))\n',
      },
      driver: call('from refs import order_id', 'order_id("nope")'),
    },
    fixes: { 'template:nullish:default': /^0$/, 'template:nullish:guard': /^0$/ },
  },
  {
    name: 'None: iterating a missing list, the loop body appends',
    scenario: {
      language: 'python',
      files: {
        'tags.py':
          'def tags(post):\n    out = []\n    for t in post.get("tags"):\n        out.append(t.lower())\n    return out\n',
      },
      driver: call('from tags import tags', 'tags({})'),
    },
    fixes: { 'template:nullish:default': /^\[\]$/ },
  },
  {
    name: 'None: len() of a missing list',
    scenario: {
      language: 'python',
      files: { 'tags.py': 'def count(post):\n    return len(post.get("tags"))\n' },
      driver: call('from tags import count', 'count({})'),
    },
    fixes: { 'template:nullish:default': /^0$/, 'template:nullish:guard': /^0$/ },
  },
  {
    name: 'None: an optional callback attribute called',
    scenario: {
      language: 'python',
      files: {
        'jobs.py':
          'class Job:\n    def __init__(self, on_done=None):\n        self.on_done = on_done\n\n    def run(self):\n        result = 42\n        self.on_done(result)\n        return result\n',
      },
      driver: call('from jobs import Job', 'Job().run()'),
    },
    fixes: { 'template:not-callable:call-if-set': /^42$/ },
  },
  // missing key and everything computed from it
  {
    name: 'missing key: a nested field, the value used as text next',
    scenario: {
      language: 'python',
      files: {
        'labels.py':
          'def label(order):\n    city = order["shipping"]["address"]["city"]\n    return city.upper() + "/" + order["shipping"]["country"]\n',
      },
      driver: call('from labels import label', 'label({"shipping": {"country": "DE"}})'),
    },
    fixes: { 'template:missing-key:get': /^"\/DE"$/, 'template:missing-key:guard': /^""$/ },
  },
  {
    name: 'missing key: read twice in the function, both reads covered',
    scenario: {
      language: 'python',
      files: {
        'labels.py':
          'def label(order):\n    name = order["customer"]["name"]\n    email = order["customer"]["email"]\n    return name.title() + " <" + email.lower() + ">"\n',
      },
      driver: call('from labels import label', 'label({})'),
    },
    fixes: { 'template:missing-key:get': /^" <>"$/ },
  },
  {
    name: 'missing key: one line item without a quantity, in a loop',
    scenario: {
      language: 'python',
      files: {
        'cart.py':
          'def total(cart):\n    t = 0\n    for item in cart["items"]:\n        t += item["price"] * item["qty"]\n    return t\n',
      },
      driver: call('from cart import total', 'total({"items": [{"price": 2, "qty": 3}, {"price": 5}]})'),
    },
    fixes: { 'template:missing-key:get': /^6$/, 'template:missing-key:skip': /^6$/ },
  },
  {
    name: 'missing key: in a generator expression (its own frame)',
    scenario: {
      language: 'python',
      files: { 'cart.py': 'def total(cart):\n    return sum(i["price"] * i["qty"] for i in cart["items"])\n' },
      driver: call('from cart import total', 'total({"items": [{"price": 2, "qty": 3}, {"price": 5}]})'),
    },
    fixes: { 'template:missing-key:get': /^6$/, 'template:missing-key:skip': /^6$/ },
  },
  // index out of range / empty sequences
  {
    name: 'index: [0] of a sorted empty list',
    scenario: {
      language: 'python',
      files: {
        'rank.py':
          'def top(scores):\n    best = sorted(scores, reverse=True)[0]\n    return {"best": best, "count": len(scores)}\n',
      },
      driver: call('from rank import top', 'top([])'),
    },
    fixes: { 'template:index:default': /"best": null/ },
  },
  {
    name: 'index: max() then min() of the same empty list',
    scenario: {
      language: 'python',
      files: { 'rank.py': 'def spread(xs):\n    hi = max(xs)\n    lo = min(xs)\n    return hi - lo\n' },
      driver: call('from rank import spread', 'spread([])'),
    },
    fixes: { 'template:index:default': /^0$/, 'template:index:guard': /^0$/ },
  },
  {
    name: 'index: [-1] of an empty history',
    scenario: {
      language: 'python',
      files: { 'hist.py': 'def last_status(events):\n    return events[-1]["status"]\n' },
      driver: call('from hist import last_status', 'last_status([])'),
    },
    fixes: { 'template:index:default': /^null$/, 'template:index:guard': /^null$/ },
  },
  {
    name: 'index: [-1] of a sorted() call (evaluated once)',
    scenario: {
      language: 'python',
      files: { 'rows.py': 'def newest(rows):\n    return sorted(rows, key=lambda r: r["updated"])[-1]\n' },
      driver: call('from rows import newest', 'newest([])'),
    },
    fixes: { 'template:index:default': /^null$/ },
  },
  {
    name: 'index: next() over a generator that finds nothing (a bare generator argument)',
    scenario: {
      language: 'python',
      files: {
        'users.py': 'def first_admin(users):\n    admin = next(u for u in users if u["admin"])\n    return admin\n',
      },
      driver: call('from users import first_admin', 'first_admin([])'),
    },
    fixes: { 'template:index:default': /^null$/ },
  },
  {
    name: 'index: random.choice() of an empty list, read further',
    scenario: {
      language: 'python',
      files: { 'pick.py': 'import random\n\n\ndef pick(xs):\n    return random.choice(xs)["id"]\n' },
      driver: call('from pick import pick', 'pick([])'),
    },
    fixes: { 'template:index:default': /^null$/, 'template:index:guard': /^null$/ },
  },
  {
    name: 'missing key: a lookup table without the requested id',
    scenario: {
      language: 'python',
      files: { 'prices.py': 'PRICES = {"a": 1.5}\n\n\ndef price(sku, n):\n    return PRICES[sku] * n\n' },
      driver: call('from prices import price', 'price("zz", 2)'),
    },
    fixes: { 'template:missing-key:get': /^0$/, 'template:missing-key:guard': /^0$/ },
  },
  {
    name: 'None: item assignment into a missing mapping',
    scenario: {
      language: 'python',
      files: {
        'meta.py': 'def mark(order):\n    meta = order.get("meta")\n    meta["seen"] = True\n    return order\n',
      },
      driver: call('from meta import mark', 'mark({})'),
    },
    fixes: { 'template:nullish:default': /^\{\}$/ },
  },
  // None as an operand
  {
    name: 'unsupported operand: None + int',
    scenario: {
      language: 'python',
      files: {
        'bill.py':
          'def total(order):\n    subtotal = order.get("subtotal")\n    return subtotal + order.get("tax", 0)\n',
      },
      driver: call('from bill import total', 'total({"tax": 1})'),
    },
    fixes: { 'template:none-operand:default': /^1$/, 'template:none-operand:guard': /^0$/ },
  },
  {
    name: 'unsupported format string: None in an f-string spec',
    scenario: {
      language: 'python',
      files: {
        'bill.py': 'def line(order):\n    price = order.get("price")\n    return f"{order[\'name\']}: {price:.2f}"\n',
      },
      driver: call('from bill import line', 'line({"name": "x"})'),
    },
    fixes: { 'template:none-operand:default': /^"x: 0.00"$/ },
  },
  {
    name: "comparison: '>' between None and int in a condition",
    scenario: {
      language: 'python',
      files: {
        'stock.py':
          'def low(items):\n    out = []\n    for i in items:\n        if i.get("stock") < 5:\n            out.append(i["sku"])\n    return out\n',
      },
      driver: call('from stock import low', 'low([{"sku": "a", "stock": 1}, {"sku": "b"}])'),
    },
    fixes: { 'template:none-operand:default': /^\["a"\]$/, 'template:none-operand:skip': /^\["a"\]$/ },
  },
  // handlers: validation answering 4xx the framework's way
  {
    name: 'http.server: a KeyError two calls below the handler is answered 400 in it',
    scenario: {
      language: 'python',
      files: {
        'app.py': httpApp(
          '    def do_POST(self):\n        length = int(self.headers.get("Content-Length") or 0)\n        raw = self.rfile.read(length).decode()\n        try:\n            try:\n                order = json.loads(raw or "{}")\n            except ValueError:\n                return self.reply(400, {"error": "body must be JSON"})\n            return self.reply(200, summarize(order))\n        except Exception:\n            traceback.print_exc()\n            return self.reply(500, {"error": "internal error"})\n',
        ),
        'orders.py':
          'def label(customer):\n    return customer["name"].title() + " <" + customer["contact"]["email"] + ">"\n\n\ndef summarize(order):\n    items = order.get("items", [])\n    return {"to": label(order["customer"]), "count": len(items)}\n',
      },
      driver: httpServer('POST', '/orders', '{"customer": {"name": "ann", "contact": {}}, "items": []}'),
    },
    fixes: {
      'template:missing-key:validate': /^400 \{"error": "customer\.contact\.email is required"\}$/,
      'template:missing-key:get': /^200 /,
    },
  },
  {
    name: 'http.server: malformed JSON in the handler, answered with its own reply()',
    scenario: {
      language: 'python',
      files: {
        'app.py': httpApp(
          '    def do_POST(self):\n        length = int(self.headers.get("Content-Length") or 0)\n        raw = self.rfile.read(length).decode()\n        try:\n            order = json.loads(raw)\n            return self.reply(200, summarize(order))\n        except Exception:\n            traceback.print_exc()\n            return self.reply(500, {"error": "internal error"})\n',
        ),
        'orders.py': 'def summarize(order):\n    return {"count": len(order.get("items", []))}\n',
      },
      driver: httpServer('POST', '/orders', '{not json'),
    },
    fixes: {
      'template:unparseable:catch': /^400 \{"error": "the request body must be valid JSON"\}$/,
      'template:unparseable:validate': /^400 /,
    },
  },
  {
    name: 'Flask: a missing field of a list item, validated before the call',
    scenario: {
      language: 'python',
      files: {
        'app.py':
          'from flask import Flask, jsonify, request\n\nfrom billing import invoice_total\n\napp = Flask(__name__)\n\n\n@app.post("/invoices")\ndef create_invoice():\n    data = request.get_json()\n    total = invoice_total(data["lines"], data["currency"])\n    return jsonify({"total": total})\n',
        'billing.py':
          'RATES = {"EUR": 1.0, "USD": 0.9}\n\n\ndef invoice_total(lines, currency):\n    rate = RATES[currency]\n    return round(sum(l["amount"] * l["quantity"] for l in lines) * rate, 2)\n',
      },
      driver: flask('POST', '/invoices', '{"lines": [{"amount": 5}], "currency": "EUR"}'),
    },
    fixes: {
      'template:missing-key:validate': /^400 \{"error":"lines\[\]\.quantity is required"\}$/,
      'template:missing-key:get': /^200 /,
    },
  },
  {
    name: 'Flask: a bad date in the query string',
    scenario: {
      language: 'python',
      files: {
        'app.py':
          'from datetime import datetime\n\nfrom flask import Flask, jsonify, request\n\napp = Flask(__name__)\n\n\n@app.get("/events")\ndef events():\n    since = datetime.fromisoformat(request.args["since"])\n    return jsonify({"since": since.isoformat()})\n',
      },
      driver: flask('GET', '/events?since=yesterday', ''),
    },
    fixes: {
      'template:unparseable:catch': /^400 \{"error":"since must be a valid date"\}$/,
      'template:unparseable:validate': /^400 /,
    },
  },
  {
    name: 'Flask: int() of a query parameter',
    scenario: {
      language: 'python',
      files: {
        'app.py':
          'from flask import Flask, jsonify, request\n\napp = Flask(__name__)\nITEMS = list(range(100))\n\n\n@app.get("/items")\ndef items():\n    limit = int(request.args.get("limit", "10"))\n    return jsonify(ITEMS[:limit])\n',
      },
      driver: flask('GET', '/items?limit=ten', ''),
    },
    fixes: {
      'template:unparseable:catch': /^400 \{"error":"limit must be an integer"\}$/,
      'template:unparseable:validate': /^400 /,
    },
  },
  {
    name: 'Flask: Decimal() of a field one call below the view',
    scenario: {
      language: 'python',
      files: {
        'app.py':
          'from flask import Flask, jsonify, request\n\nfrom money import add_vat\n\napp = Flask(__name__)\n\n\n@app.post("/vat")\ndef vat():\n    body = request.get_json()\n    return jsonify({"gross": str(add_vat(body["net"]))})\n',
        'money.py': 'from decimal import Decimal\n\n\ndef add_vat(net):\n    return Decimal(net) * Decimal("1.19")\n',
      },
      driver: flask('POST', '/vat', '{"net": "12,50"}'),
    },
    fixes: { 'template:unparseable:validate': /^400 \{"error":"net must be a number"\}$/ },
  },
  {
    name: 'Flask: an empty list reaching [0], validated at the handler',
    scenario: {
      language: 'python',
      files: {
        'app.py':
          'from flask import Flask, jsonify, request\n\nfrom ranking import winner\n\napp = Flask(__name__)\n\n\n@app.post("/rank")\ndef rank():\n    payload = request.get_json()\n    return jsonify(winner(payload["scores"]))\n',
        'ranking.py':
          'def winner(scores):\n    best = sorted(scores, key=lambda s: s["points"], reverse=True)\n    return {"name": best[0]["name"], "points": best[0]["points"]}\n',
      },
      driver: flask('POST', '/rank', '{"scores": []}'),
    },
    fixes: {
      'template:index:validate': /^400 \{"error":"scores must not be empty"\}$/,
      'template:index:default': /^200 /,
      'template:index:guard': /^200 /,
    },
  },
  {
    name: 'Flask: a None field inside the view itself (no guard: a view must answer)',
    scenario: {
      language: 'python',
      files: {
        'app.py':
          'from flask import Flask, request\n\napp = Flask(__name__)\n\n\n@app.route("/greet", methods=["POST"])\ndef greet():\n    body = request.get_json()\n    if not body:\n        return {"error": "empty body"}, 400\n    nickname = body.get("nickname")\n    return {"greeting": "hi " + nickname.strip()}\n',
      },
      driver: flask('POST', '/greet', '{"name": "x"}'),
    },
    fixes: {
      'template:nullish:validate': /^400 \{"error":"nickname is required"\}$/,
      'template:nullish:default': /^200 /,
    },
  },
  // Issue 10 fixtures: shapes the crash scenarios in test/fixtures/services needed.
  {
    name: 'None: a field read only when its key is there (a conditional expression)',
    scenario: {
      language: 'python',
      files: {
        'basket.py':
          'def total(basket):\n    percent = basket["coupon"]["percent"] if "coupon" in basket else 0\n    return round(100 * (100 - percent) / 100, 2)\n',
      },
      // The guard must hold only where the line reads the key: a basket without a coupon is fine.
      driver: call('from basket import total', '[total({"coupon": None}), total({})]'),
    },
    fixes: { 'template:nullish:default': /^\[100\.0, 100\.0\]$/, 'template:nullish:guard': /^\[0, 100\.0\]$/ },
  },
  {
    name: 'not callable: the result of a missing handler is unpacked with **',
    scenario: {
      language: 'python',
      files: {
        'handlers.py':
          'HANDLERS = {"created": lambda d: {"state": "open"}}\n\n\ndef dispatch(event):\n    handler = HANDLERS.get(event["type"])\n    result = handler(event["data"])\n    return {"id": event["id"], **result}\n',
      },
      driver: call('from handlers import dispatch', 'dispatch({"id": 1, "type": "refunded", "data": {}})'),
    },
    fixes: { 'template:not-callable:call-if-set': /^\{"id": 1\}$/ },
  },
  {
    name: 'empty: max() then min() of a generator over the same list',
    scenario: {
      language: 'python',
      files: {
        'spread.py':
          'def spread(readings):\n    hi = max(r["c"] for r in readings)\n    lo = min(r["c"] for r in readings)\n    return {"hi": hi, "lo": lo}\n',
      },
      driver: call('from spread import spread', 'spread([])'),
    },
    fixes: { 'template:index:default': /^\{"hi": null, "lo": null\}$/, 'template:index:guard': /^\{\}$/ },
  },
  {
    name: "empty: the object's own list, emptied, read by two methods the caller calls in turn",
    scenario: {
      language: 'python',
      files: {
        'window.py':
          'class Window:\n    def __init__(self, readings):\n        self.readings = readings\n\n    def peak(self):\n        return max(r["c"] for r in self.readings)\n\n    def low(self):\n        return min(r["c"] for r in self.readings)\n\n    def report(self):\n        return {"peak": self.peak(), "low": self.low()}\n',
      },
      driver: call('from window import Window', 'Window([]).report()'),
    },
    fixes: { 'template:index:guard-caller': /^\{\}$/ },
  },
  {
    name: 'None operand: sorted() with a key that reads a None field',
    scenario: {
      language: 'python',
      files: {
        'agenda.py':
          'PRIORITY = {"high": 0, "low": 1}\n\n\ndef ordered(tasks):\n    return [t["title"] for t in sorted(tasks, key=lambda t: (t["due"], PRIORITY[t["priority"]]))]\n',
      },
      driver: call(
        'from agenda import ordered',
        'ordered([{"title": "a", "due": "2026-01-02", "priority": "low"}, {"title": "b", "due": None, "priority": "high"}, {"title": "c", "due": "2026-01-01", "priority": "high"}])',
      ),
    },
    fixes: { 'template:none-operand:default': /^\["c", "a", "b"\]$/ },
  },
  {
    name: 'None operand: sorted() of values one of which is None',
    scenario: {
      language: 'python',
      files: { 'scores.py': 'def top(scores):\n    return sorted(scores, reverse=True)[:2]\n' },
      driver: call('from scores import top', 'top([3, None, 1])'),
    },
    fixes: { 'template:none-operand:default': /^\[null, 3\]$/ },
  },
  {
    name: "missing key: a lookup table without the request's value, 400 in the http.server handler",
    scenario: {
      language: 'python',
      files: {
        'rates.py':
          'RATES = {"EUR": 1.0, "USD": 1.08}\n\n\ndef convert(order):\n    return round(order["amount"] * RATES[order["currency"]], 2)\n',
        'app.py':
          'import json\nfrom http.server import BaseHTTPRequestHandler\n\nfrom rates import convert\n\n\nclass Handler(BaseHTTPRequestHandler):\n    def log_message(self, *args):\n        pass\n\n    def reply(self, status, payload):\n        data = json.dumps(payload).encode()\n        self.send_response(status)\n        self.send_header("Content-Type", "application/json")\n        self.end_headers()\n        self.wfile.write(data)\n\n    def do_POST(self):\n        order = json.loads(self.rfile.read(int(self.headers["Content-Length"])))\n        try:\n            return self.reply(200, {"total": convert(order)})\n        except Exception:\n            import traceback, sys\n            traceback.print_exc()\n            return self.reply(500, {"error": "internal"})\n',
      },
      driver: httpServer('POST', '/convert', '{"amount": 10, "currency": "GBP"}'),
    },
    fixes: { 'template:missing-key:validate': /^400 \{"error": "currency is not supported"\}$/ },
  },
  {
    name: 'Flask: a field of request.json read in the view',
    scenario: {
      language: 'python',
      files: {
        'app.py':
          'from flask import Flask, jsonify, request\n\napp = Flask(__name__)\n\n\n@app.post("/signup")\ndef signup():\n    email = request.json["email"].lower()\n    return jsonify({"email": email})\n',
      },
      driver: flask('POST', '/signup', '{"name": "ann"}'),
    },
    fixes: { 'template:missing-key:validate': /^400 \{"error":"email is required"\}$/ },
  },
  {
    name: 'Flask: request.get_json() handed straight to a service',
    scenario: {
      language: 'python',
      files: {
        'app.py':
          'from flask import Flask, jsonify, request\n\nfrom basket import total\n\napp = Flask(__name__)\n\n\n@app.post("/total")\ndef basket_total():\n    return jsonify(total(request.get_json(force=True)))\n',
        'basket.py': 'def total(basket):\n    return {"percent": basket["coupon"]["percent"] * 2}\n',
      },
      driver: flask('POST', '/total', '{"coupon": null}'),
    },
    fixes: { 'template:nullish:validate': /^400 \{"error":"coupon is required"\}$/ },
  },
  {
    name: 'Flask: a zero divisor from request.args.get(..., type=int)',
    scenario: {
      language: 'python',
      files: {
        'app.py':
          'from flask import Flask, jsonify, request\n\napp = Flask(__name__)\n\n\n@app.get("/split")\ndef split():\n    total = request.args.get("total", type=int)\n    parts = request.args.get("parts", type=int)\n    return jsonify({"each": total / parts})\n',
      },
      driver: flask('GET', '/split?total=10&parts=0', ''),
    },
    fixes: { 'template:zero-division:validate': /^400 \{"error":"parts must not be zero"\}$/ },
  },
];

describe('Python templates on real crashes', () => {
  it.each(CASES.filter((c) => hasFlask || !c.name.startsWith('Flask')))('$name', async ({ scenario, fixes }) => {
    const c = await crash(scenario);
    const frames = frameLines(c.trace, Object.keys(scenario.files));
    for (const [strategy, out] of Object.entries(fixes)) {
      const p = c.proposals.find((x) => x.strategy === strategy);
      expect(
        p,
        `${strategy} among ${c.proposals.map((x) => x.strategy).join(', ')} (${c.notes.join('; ')})`,
      ).toBeDefined();
      const r = await run(scenario, patched(scenario, p!));
      expect(r.code, `${strategy} still crashes:\n${r.stderr}`).toBe(0);
      expect(r.stdout.trim()).toMatch(out);
    }
    for (const p of c.proposals) await expectLocal(p, frames, sharedParser());
    // Validation comes with a message and answers in the handler, never with a 2xx that invents data.
    expect(c.proposals.length).toBeLessThanOrEqual(5);
  });
});

describe('FastAPI and Django handlers answer 400 their way', () => {
  const tb = (file: string, line: number, fn: string, code: string, tail: string) =>
    `Traceback (most recent call last):\n  File "/srv/app/${file}", line ${line}, in ${fn}\n    ${code}\n${tail}\n`;

  it('FastAPI raises HTTPException (imported when the module lacks it)', async () => {
    const files = {
      'main.py':
        'from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.post("/orders")\nasync def create(payload: dict):\n    return {"city": payload["shipping"]["city"]}\n',
    };
    const { templateProposals } = await import('../../src/diagnose/strategies/template/index.ts');
    const { contextFor } = await import('./harness.ts');
    const logs = tb('main.py', 8, 'create', 'return {"city": payload["shipping"]["city"]}', "KeyError: 'shipping'");
    const { proposals } = await templateProposals(contextFor('python', files, logs), sharedParser);
    const v = proposals.find((p) => p.strategy === 'template:missing-key:validate');
    expect(v?.edits[0]?.after).toContain(
      '    if not isinstance(payload, dict) or "shipping" not in payload:\n        from fastapi import HTTPException\n        raise HTTPException(status_code=400, detail="shipping is required")\n',
    );
  });

  it.each([
    [
      'DRF',
      'from rest_framework.decorators import api_view\nfrom rest_framework.response import Response\n\n\n@api_view(["POST"])\ndef create(request):\n    return Response({"total": request.data["amount"] * 2})\n',
      'return Response({"error": "amount is required"}, status=400)',
    ],
    [
      'aiohttp',
      'from aiohttp import web\n\n\nasync def create(request):\n    body = await request.json()\n    return web.json_response({"total": body["amount"] * 2})\n',
      'return web.json_response({"error": "amount is required"}, status=400)',
    ],
  ])('%s answers 400 with its own response type', async (_name, source, expected) => {
    const { templateProposals } = await import('../../src/diagnose/strategies/template/index.ts');
    const { contextFor } = await import('./harness.ts');
    const line = source.split('\n').findIndex((l) => l.includes('["amount"]')) + 1;
    const code = source.split('\n')[line - 1]!.trim();
    const logs = tb('views.py', line, 'create', code, "KeyError: 'amount'");
    const { proposals } = await templateProposals(contextFor('python', { 'views.py': source }, logs), sharedParser);
    const v = proposals.find((p) => p.strategy === 'template:missing-key:validate');
    expect(v?.edits[0]?.after, proposals.map((p) => p.strategy).join(', ')).toContain(expected);
  });

  it('Django returns JsonResponse with status 400 when the view module imports it', async () => {
    const files = {
      'views.py':
        'import json\n\nfrom django.http import JsonResponse\n\n\ndef create(request):\n    body = json.loads(request.body)\n    return JsonResponse({"total": body["amount"] * 2})\n',
    };
    const { templateProposals } = await import('../../src/diagnose/strategies/template/index.ts');
    const { contextFor } = await import('./harness.ts');
    const logs = tb(
      'views.py',
      8,
      'create',
      'return JsonResponse({"total": body["amount"] * 2})',
      "KeyError: 'amount'",
    );
    const { proposals } = await templateProposals(contextFor('python', files, logs), sharedParser);
    const v = proposals.find((p) => p.strategy === 'template:missing-key:validate');
    expect(v?.edits[0]?.after).toContain('return JsonResponse({"error": "amount is required"}, status=400)');
  });
});
