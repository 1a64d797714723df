/**
 * Function-level inputs rebuilt from a trace reproduce the crash, class by class: each case crashes for
 * real (a caller passes the bad value), the input is rebuilt from that trace and the code alone, and calling
 * the function the test would call with it raises the same exception type again. Python cases run in one
 * python3 process, Node cases in one node process.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { functionCall } from '../../src/diagnose/tests/function-target.ts';
import { viewOf } from '../../src/diagnose/tests/repo-view.ts';
import { buildIncident } from '../../src/incident/intake.ts';

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

interface Case {
  name: string;
  /** The module (mod.py / mod.cjs), defining the function the trace crashes in. */
  src: string;
  /** What production did: a call that crashes. */
  crash: string;
  /** The function a test can call (the innermost callable one) and the exception. */
  fn: string;
  type: string;
}

const PY: Case[] = [
  {
    name: 'KeyError on a nested payload field',
    src: 'def city(order):\n    return order["shipping"]["address"]["city"].upper()\n',
    crash: 'city({"shipping": {"address": {}}})',
    fn: 'city',
    type: 'KeyError',
  },
  {
    name: 'KeyError in a loop over a list',
    src: 'def labels(batch):\n    out = []\n    for item in batch["items"]:\n        out.append(item["sku"] + "-" + str(item["qty"]))\n    return out\n',
    crash: 'labels({"items": [{"qty": 1}]})',
    fn: 'labels',
    type: 'KeyError',
  },
  {
    name: "AttributeError: 'NoneType' object has no attribute",
    src: 'def domain(user):\n    return user.profile.email.split("@")[1]\n',
    crash: 'from types import SimpleNamespace as N\ndomain(N(profile=N(email=None)))',
    fn: 'domain',
    type: 'AttributeError',
  },
  {
    name: 'TypeError: None is not subscriptable, through a local',
    src: 'def total(cart):\n    prices = cart.get("prices")\n    return prices["net"] + prices["tax"]\n',
    crash: 'total({})',
    fn: 'total',
    type: 'TypeError',
  },
  {
    name: 'IndexError: [0] of an empty list',
    src: 'def first_sku(order):\n    lines = order["lines"]\n    return lines[0]["sku"]\n',
    crash: 'first_sku({"lines": []})',
    fn: 'first_sku',
    type: 'IndexError',
  },
  {
    name: 'ZeroDivisionError through a count computed above',
    src: 'def average(scores):\n    count = len(scores)\n    total = sum(scores)\n    return total / count\n',
    crash: 'average([])',
    fn: 'average',
    type: 'ZeroDivisionError',
  },
  {
    name: 'ZeroDivisionError inside a generator expression frame',
    src: 'def shares(parts):\n    total = sum(p["n"] for p in parts)\n    return [p["n"] / total for p in parts]\n',
    crash: 'shares([{"n": 0}])',
    fn: 'shares',
    type: 'ZeroDivisionError',
  },
  {
    name: 'unsupported operand with None',
    src: 'def line_total(line):\n    return line["qty"] * line["price"] + line.get("fee")\n',
    crash: 'line_total({"qty": 1, "price": 2})',
    fn: 'line_total',
    type: 'TypeError',
  },
  {
    name: "'NoneType' object is not iterable",
    src: 'def tags(post):\n    return ", ".join(sorted(post.get("tags")))\n',
    crash: 'tags({})',
    fn: 'tags',
    type: 'TypeError',
  },
  {
    name: 'int() of an unparseable string',
    src: 'def quantity(form):\n    return int(form["qty"]) * 2\n',
    crash: 'quantity({"qty": "two"})',
    fn: 'quantity',
    type: 'ValueError',
  },
  {
    name: 'json.loads of a malformed body',
    src: 'import json\n\n\ndef parse(event):\n    return json.loads(event["body"])["id"]\n',
    crash: 'parse({"body": "{oops"})',
    fn: 'parse',
    type: 'JSONDecodeError',
  },
  {
    name: 'a method: the requirement moves to its top-level caller',
    src: 'class Mailer:\n    def send(self, user):\n        return user.email.lower()\n\n\ndef notify(users):\n    m = Mailer()\n    return [m.send(u) for u in users]\n',
    crash: 'from types import SimpleNamespace as N\nnotify([N(email=None)])',
    fn: 'notify',
    type: 'AttributeError',
  },
];

const JS: Case[] = [
  {
    name: 'reading a property of undefined, nested',
    src: 'function country(order) {\n  return order.shipping.address.country;\n}\nmodule.exports = { country };\n',
    crash: 'country({ shipping: {} })',
    fn: 'country',
    type: 'TypeError',
  },
  {
    name: 'reading a property of null',
    src: 'exports.owner = function owner(doc) {\n  return doc.meta.owner.name;\n};\n',
    crash: 'owner({ meta: { owner: null } })',
    fn: 'owner',
    type: 'TypeError',
  },
  {
    name: 'destructuring undefined',
    src: 'function label(order) {\n  const { city, zip } = order.shipping.address;\n  return zip + " " + city;\n}\nmodule.exports = { label };\n',
    crash: 'label({ shipping: {} })',
    fn: 'label',
    type: 'TypeError',
  },
  {
    name: 'x.map is not a function',
    src: 'function names(team) {\n  return team.members.map((m) => m.name);\n}\nmodule.exports = { names };\n',
    crash: 'names({ members: {} })',
    fn: 'names',
    type: 'TypeError',
  },
  {
    name: 'not iterable in for…of',
    src: 'function sum(cart) {\n  let t = 0;\n  for (const line of cart.lines) t += line.price;\n  return t;\n}\nmodule.exports = { sum };\n',
    crash: 'sum({})',
    fn: 'sum',
    type: 'TypeError',
  },
  {
    name: 'JSON.parse of a malformed string',
    src: 'function payload(msg) {\n  return JSON.parse(msg.body).id;\n}\nmodule.exports = { payload };\n',
    crash: "payload({ body: '{oops' })",
    fn: 'payload',
    type: 'SyntaxError',
  },
  {
    name: 'an unexported helper reached through an array callback',
    src: 'function cityOf(o) {\n  return o.address.city;\n}\nfunction cities(batch) {\n  return batch.orders.map((o) => cityOf(o));\n}\nmodule.exports = { cities };\n',
    crash: 'cities({ orders: [{}] })',
    fn: 'cities',
    type: 'TypeError',
  },
];

async function py(c: Case) {
  const dir = mkdtempSync(join(tmpdir(), 'suture-inputs-'));
  made.push(dir);
  writeFileSync(join(dir, 'mod.py'), c.src);
  writeFileSync(join(dir, 'crash.py'), `from mod import *\n${c.crash}\n`);
  const r = await execa('python3', ['crash.py'], { cwd: dir, reject: false });
  return { dir, logs: r.stderr, file: 'mod.py' };
}

async function js(c: Case) {
  const dir = mkdtempSync(join(tmpdir(), 'suture-inputs-'));
  made.push(dir);
  writeFileSync(join(dir, 'mod.cjs'), c.src);
  writeFileSync(
    join(dir, 'crash.cjs'),
    `const m = require('./mod.cjs');\nObject.assign(globalThis, m);\n${c.crash};\n`,
  );
  const r = await execa('node', ['crash.cjs'], { cwd: dir, reject: false });
  return { dir, logs: r.stderr, file: 'mod.cjs' };
}

const PY_REPLAY = `
import importlib, json, sys, types
sys.path.insert(0, sys.argv[1])
def value(v):
    if isinstance(v, dict):
        if set(v) == {"$suture", "value"} and v["$suture"] == "object":
            return types.SimpleNamespace(**{k: value(x) for k, x in v["value"].items()})
        return {k: value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [value(x) for x in v]
    return v
call = json.loads(sys.argv[2])
try:
    getattr(importlib.import_module(call["module"]), call["function"])(**value(call["kwargs"]))
    print("no exception")
except Exception as e:
    print(type(e).__name__)
`;

const JS_REPLAY = `
const [dir, raw] = process.argv.slice(1);
const call = JSON.parse(raw);
const value = (v) => Array.isArray(v) ? v.map(value) : v && typeof v === 'object' ? (Object.keys(v).length === 1 && v.$suture === 'undefined' ? undefined : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, value(x)]))) : v;
const mod = require(require('node:path').join(dir, call.file));
const fn = call.binding === '*' ? mod : mod[call.binding];
Promise.resolve().then(() => fn(...call.args.map(value))).then(() => console.log('no exception'), (e) => console.log(e.name));
`;

describe('Python: the rebuilt input raises the same exception again', () => {
  it.each(PY.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const { dir, logs, file } = await py(c);
    const incident = buildIncident({ kind: 'crash', service: 'svc', logs }, [file, 'crash.py']);
    expect(incident.trace?.exceptionType.replace(/^.*\./, '')).toBe(c.type);
    const call = functionCall(incident.trace, viewOf([file, 'crash.py'], { [file]: c.src }));
    expect(call, logs).toBeDefined();
    expect(call!.function).toBe(c.fn);
    const r = await execa('python3', ['-c', PY_REPLAY, dir, JSON.stringify(call)]);
    expect(r.stdout, JSON.stringify(call!.kwargs)).toBe(c.type);
  });
});

describe('Node: the rebuilt input throws the same error again', () => {
  it.each(JS.map((c) => [c.name, c] as const))('%s', async (_n, c) => {
    const { dir, logs, file } = await js(c);
    const incident = buildIncident({ kind: 'crash', service: 'svc', logs }, [file, 'crash.cjs']);
    expect(incident.trace?.exceptionType).toBe(c.type);
    const call = functionCall(incident.trace, viewOf([file, 'crash.cjs'], { [file]: c.src }));
    expect(call, logs).toBeDefined();
    expect(call!.binding).toBe(c.fn);
    const r = await execa('node', ['-e', JS_REPLAY, dir, JSON.stringify(call)]);
    expect(r.stdout, JSON.stringify(call!.args)).toBe(c.type);
  });
});
