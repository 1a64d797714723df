/**
 * The JavaScript/TypeScript templates on crashes that really happen: each scenario runs a small module
 * under Node with the crashing input, its stack goes through intake and the template strategy, and every
 * proposal's patched module runs again. Per class, several shapes: destructuring, nested chains, class
 * methods, async functions, array callbacks, TypeScript source, Express and node:http handlers, a toolchain
 * that predates optional chaining.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { templateProposals } from '../../src/diagnose/strategies/template/index.ts';
import { closeParser, contextFor, crash, patched, run, type Scenario, sharedParser } from './harness.ts';
import { expectLocal, frameLines } from './locality.ts';

afterAll(() => closeParser());

const call = (module: string, name: string, expr: string) =>
  `import { ${name} } from './${module}';\nconsole.log(JSON.stringify(await (async () => ${expr})()));\n`;

/** A stand-in for Express (no network, no dependency): routes, req.body, res.status().json(). */
const EXPRESS = {
  'node_modules/express/package.json': '{"name": "express", "type": "module", "main": "index.js"}',
  'node_modules/express/index.js': `export default function express() {
  const routes = [];
  const add = (method) => (path, ...handlers) => routes.push({ method, path, handler: handlers[handlers.length - 1] });
  return {
    use() {},
    get: add('GET'),
    post: add('POST'),
    async handle(method, path, body) {
      const r = routes.find((x) => x.method === method && x.path === path);
      const res = { statusCode: 200, body: undefined, status(c) { this.statusCode = c; return this; }, json(b) { this.body = b; return this; } };
      try { await r.handler({ body, params: {}, query: {} }, res, () => {}); } catch (err) { console.error(err.stack); res.statusCode = 500; }
      return res;
    },
  };
}
express.json = () => (req, res, next) => next();
`,
};
const express = (method: string, path: string, body: unknown) =>
  `import { app } from './app.js';\nconst r = await app.handle(${JSON.stringify(method)}, ${JSON.stringify(path)}, ${JSON.stringify(body)});\nconsole.log(r.statusCode, JSON.stringify(r.body));\nprocess.exit(r.statusCode >= 500 ? 1 : 0);\n`;

/** A node:http server on a real socket; exits 1 on a 5xx. */
const http = (body: string, path = '/x') =>
  `import { server } from './server.js';\nawait new Promise((r) => server.listen(0, '127.0.0.1', r));\nconst { port } = server.address();\nconst res = await fetch(\`http://127.0.0.1:\${port}${path}\`, { method: 'POST', body: ${JSON.stringify(body)} });\nconsole.log(res.status, await res.text());\nserver.close();\nprocess.exit(res.status >= 500 ? 1 : 0);\n`;

/** A node:http server whose handler reads the query string (`url`) and answers with its own send(). */
const query = (handlerBody: string) =>
  `import http from 'node:http';\n\nfunction send(res, status, body) {\n  res.writeHead(status, { 'content-type': 'application/json' });\n  res.end(JSON.stringify(body));\n}\n\nexport const server = http.createServer((req, res) => {\n  const url = new URL(req.url, 'http://x');\n  try {\n${handlerBody}\n  } catch (err) {\n    console.error(err.stack);\n    send(res, 500, { error: 'internal' });\n  }\n});\n`;

interface Case {
  name: string;
  scenario: Scenario;
  fixes: Record<string, RegExp>;
  /** Text the named variant must (not) contain. */
  emits?: Record<string, string>;
  never?: RegExp;
}

const CASES: Case[] = [
  {
    name: 'destructuring: { city, country } of a missing address, then city.toUpperCase()',
    scenario: {
      language: 'node',
      files: {
        'mod.js':
          "export function label(order) {\n  const { city, country } = order.shipping.address;\n  return city.toUpperCase() + ', ' + country;\n}\n",
      },
      driver: call('mod.js', 'label', 'label({ shipping: {} })'),
    },
    fixes: { 'template:nullish:optional-chain': /^", "$/, 'template:nullish:guard': /^""$/ },
    emits: { 'template:nullish:optional-chain': "const { city = '', country = '' } = order.shipping.address ?? {};" },
  },
  {
    name: 'nested chain in a reduce callback, used in arithmetic',
    scenario: {
      language: 'node',
      files: {
        'mod.js': 'export const total = (cart) => cart.items.reduce((s, i) => s + i.price.amount * i.qty, 0);\n',
      },
      driver: call('mod.js', 'total', 'total({ items: [{ price: { amount: 2 }, qty: 1 }, { qty: 3 }] })'),
    },
    fixes: { 'template:nullish:optional-chain': /^2$/, 'template:nullish:guard': /^0$/ },
    emits: { 'template:nullish:optional-chain': '(i.price?.amount ?? 0) * i.qty' },
  },
  {
    name: 'class method: a Map lookup that misses',
    scenario: {
      language: 'node',
      files: {
        'mod.js':
          "export class Orders {\n  constructor() {\n    this.byId = new Map([['a', { customer: { name: 'Ann' } }]]);\n  }\n\n  customerName(id) {\n    const order = this.byId.get(id);\n    return order.customer.name.trim();\n  }\n}\n",
      },
      driver: call('mod.js', 'Orders', "new Orders().customerName('zz')"),
    },
    fixes: { 'template:nullish:optional-chain': /^$|^undefined$/, 'template:nullish:guard': /^""$/ },
  },
  {
    name: 'async function: an awaited lookup returning null',
    scenario: {
      language: 'node',
      files: {
        'mod.js':
          "const db = { async find(id) { return id === 'a' ? { tags: ['x'] } : null; } };\n\nexport async function tagCount(id) {\n  const doc = await db.find(id);\n  return doc.tags.length;\n}\n",
      },
      driver: call('mod.js', 'tagCount', "tagCount('zz')"),
    },
    fixes: { 'template:nullish:guard': /^0$/ },
  },
  {
    name: 'TypeScript source: destructuring a non-null-asserted optional field',
    scenario: {
      language: 'node',
      files: {
        'mod.ts':
          "interface Address { city: string; zip?: string }\ninterface Order { id: string; address?: Address }\n\nexport function zip(order: Order): string {\n  const { city, zip } = order.address!;\n  return city.toLowerCase() + '-' + (zip ?? '');\n}\n",
      },
      driver: call('mod.ts', 'zip', "zip({ id: '1' })"),
    },
    fixes: { 'template:nullish:optional-chain': /^"-"$/, 'template:nullish:guard': /^""$/ },
    emits: { 'template:nullish:optional-chain': '?? ({} as NonNullable<typeof order.address>)' },
  },
  {
    name: 'not a function: .map on an object a client sent',
    scenario: {
      language: 'node',
      files: { 'mod.js': 'export function names(payload) {\n  return payload.users.map((u) => u.name);\n}\n' },
      driver: call('mod.js', 'names', "names({ users: { name: 'x' } })"),
    },
    fixes: { 'template:not-callable:as-list': /^\[\]$/, 'template:not-callable:guard': /^\[\]$/ },
  },
  {
    name: 'not a function: an optional callback that was not passed',
    scenario: {
      language: 'node',
      files: {
        'mod.js':
          'export function run(job, opts = {}) {\n  const result = job * 2;\n  opts.onDone(result);\n  return result;\n}\n',
      },
      driver: call('mod.js', 'run', 'run(2)'),
    },
    fixes: { 'template:not-callable:call-if-function': /^4$/ },
  },
  {
    name: 'not iterable: for…of over a missing list',
    scenario: {
      language: 'node',
      files: {
        'mod.js':
          'export function sum(order) {\n  let t = 0;\n  for (const line of order.lines) t += line.qty;\n  return t;\n}\n',
      },
      driver: call('mod.js', 'sum', 'sum({})'),
    },
    fixes: { 'template:nullish:optional-chain': /^0$/ },
  },
  {
    name: 'reduce of an empty array: the reducer identity',
    scenario: {
      language: 'node',
      files: {
        'mod.js':
          'export function maxPrice(items) {\n  return items.map((i) => i.price).reduce((a, b) => Math.max(a, b));\n}\n',
      },
      driver: call('mod.js', 'maxPrice', 'maxPrice([])'),
    },
    fixes: { 'template:empty-list:initial-value': /^null$/ },
  },
  {
    name: 'Object.keys of a missing object',
    scenario: {
      language: 'node',
      files: { 'mod.js': 'export function fields(doc) {\n  return Object.keys(doc.meta).sort();\n}\n' },
      driver: call('mod.js', 'fields', 'fields({})'),
    },
    fixes: { 'template:nullish:optional-chain': /^\[\]$/, 'template:nullish:guard': /^\[\]$/ },
  },
  {
    name: 'a destructured parameter called with undefined',
    scenario: {
      language: 'node',
      files: {
        'mod.js':
          "function fmt({ amount, currency }) {\n  return amount.toFixed(2) + ' ' + currency;\n}\n\nexport function price(p) {\n  return fmt(p.total);\n}\n",
      },
      driver: call('mod.js', 'price', 'price({})'),
    },
    fixes: { 'template:nullish:optional-chain': /^"0\.00 "$/ },
  },
  {
    name: 'Express: destructuring in a service called by an async route answers 400',
    scenario: {
      language: 'node',
      files: {
        ...EXPRESS,
        'package.json': '{"type": "module", "dependencies": {"express": "^4.19.0"}}',
        'app.js':
          "import express from 'express';\nimport { quote } from './shipping.js';\n\nexport const app = express();\napp.use(express.json());\n\napp.post('/quote', async (req, res) => {\n  const result = await quote(req.body);\n  res.json(result);\n});\n",
        'shipping.js':
          'const ZONES = { DE: 1, FR: 2 };\n\nexport async function quote(order) {\n  const { city, country } = order.shipping.address;\n  return { zone: ZONES[country] ?? 9, label: city.toUpperCase() };\n}\n',
      },
      driver: express('POST', '/quote', { shipping: { method: 'pickup' } }),
    },
    fixes: {
      'template:nullish:validate': /^400 \{"error":"shipping\.address is required"\}$/,
      'template:nullish:optional-chain': /^200 \{"zone":9,"label":""\}$/,
    },
    emits: { 'template:nullish:validate': "return res.status(400).json({ error: 'shipping.address is required' });" },
  },
  {
    name: 'Express: a list field that is an object, validated in the route',
    scenario: {
      language: 'node',
      files: {
        ...EXPRESS,
        'package.json': '{"type": "module"}',
        'app.js':
          "import express from 'express';\n\nexport const app = express();\n\nfunction totals(lines) {\n  return lines.map((l) => l.qty * l.price);\n}\n\napp.post('/totals', (req, res) => {\n  const { lines } = req.body;\n  return res.json({ totals: totals(lines) });\n});\n",
      },
      driver: express('POST', '/totals', { lines: { qty: 1 } }),
    },
    fixes: { 'template:not-callable:validate': /^400 \{"error":"lines must be a list"\}$/ },
  },
  {
    name: 'node:http: malformed JSON parsed in the handler',
    scenario: {
      language: 'node',
      files: {
        'package.json': '{"type": "module"}',
        'server.js':
          "import http from 'node:http';\n\nexport const server = http.createServer((req, res) => {\n  let raw = '';\n  req.on('data', (c) => (raw += c));\n  req.on('end', () => {\n    try {\n      const order = JSON.parse(raw);\n      res.writeHead(200, { 'content-type': 'application/json' });\n      res.end(JSON.stringify({ items: (order.items ?? []).length }));\n    } catch (err) {\n      console.error(err.stack);\n      res.writeHead(500);\n      res.end('internal error');\n    }\n  });\n});\n",
      },
      driver: http('{oops'),
    },
    fixes: {
      'template:unparseable:catch': /^400 \{"error":"the request body must be valid JSON"\}$/,
      'template:unparseable:validate': /^400 /,
    },
  },
  {
    name: 'node:http: an invalid date one call below the handler, answered with its own send()',
    scenario: {
      language: 'node',
      files: {
        'package.json': '{"type": "module"}',
        'report.js':
          'export function window(filter) {\n  const from = new Date(filter.from);\n  return { from: from.toISOString() };\n}\n',
        'server.js':
          "import http from 'node:http';\nimport { window } from './report.js';\n\nfunction send(res, status, body) {\n  res.writeHead(status, { 'content-type': 'application/json' });\n  res.end(JSON.stringify(body));\n}\n\nexport const server = http.createServer((req, res) => {\n  let raw = '';\n  req.on('data', (c) => (raw += c));\n  req.on('end', () => {\n    let body;\n    try {\n      body = JSON.parse(raw);\n    } catch {\n      return send(res, 400, { error: 'invalid JSON' });\n    }\n    try {\n      send(res, 200, window(body.filter));\n    } catch (err) {\n      console.error(err.stack);\n      send(res, 500, { error: 'internal' });\n    }\n  });\n});\n",
      },
      driver: http('{"filter": {"from": "last tuesday"}}'),
    },
    fixes: { 'template:unparseable:validate': /^400 \{"error":"filter\.from must be a valid date"\}$/ },
  },
  {
    name: 'node:http: parseInt of a query parameter gives NaN, which new Array() rejects',
    scenario: {
      language: 'node',
      files: {
        'package.json': '{"type": "module"}',
        'server.js': query(
          "    const size = parseInt(url.searchParams.get('size'), 10);\n    send(res, 200, { slots: new Array(size).fill(0) });",
        ),
      },
      driver: http('{}', '/x?size=abc'),
    },
    fixes: {
      'template:unparseable:check': /^400 \{"error":"size must be a number"\}$/,
      'template:unparseable:validate': /^400 /,
    },
  },
  {
    name: 'node:http: BigInt() of a malformed id',
    scenario: {
      language: 'node',
      files: {
        'package.json': '{"type": "module"}',
        'server.js': query(
          "    const id = BigInt(url.searchParams.get('id'));\n    send(res, 200, { next: String(id + 1n) });",
        ),
      },
      driver: http('{}', '/x?id=12a'),
    },
    fixes: { 'template:unparseable:catch': /^400 \{"error":"id must be an integer"\}$/ },
  },
  {
    name: 'BigInt division by zero',
    scenario: {
      language: 'node',
      files: { 'mod.js': 'export function share(total, parts) {\n  return total / parts;\n}\n' },
      driver: "import { share } from './mod.js';\nconsole.log(String(share(10n, 0n)));\n",
    },
    fixes: { 'template:zero-division:default': /^0$/ },
  },
  {
    name: 'a Babel 6 / Node 10 toolchain gets explicit checks, never ?. or ??',
    scenario: {
      language: 'node',
      files: {
        'package.json':
          '{"engines": {"node": ">=10"}, "devDependencies": {"babel-core": "^6.26.0", "babel-preset-es2015": "^6.24.1"}}',
        'mod.js': 'exports.label = function (order) {\n  var name = order.customer.name;\n  return name.trim();\n};\n',
      },
      driver: "import m from './mod.js';\nconsole.log(JSON.stringify(m.label({})));\n",
    },
    fixes: { 'template:nullish:explicit-check': /^""$/, 'template:nullish:guard': /^""$/ },
    never: /\?\.|\?\?/,
  },
  // Issue 10 fixtures: shapes the crash scenarios in test/fixtures/services needed.
  {
    name: 'BigInt division by zero, then the remainder by the same divisor',
    scenario: {
      language: 'node',
      files: {
        'mod.js':
          'export function share(total, parts) {\n  const each = total / parts;\n  const rest = total % parts;\n  return [String(each), String(rest)];\n}\n',
      },
      driver: "import { share } from './mod.js';\nconsole.log(JSON.stringify(share(10n, 0n)));\n",
    },
    fixes: { 'template:zero-division:default': /^\["0","0"\]$/ },
  },
  {
    name: 'node:http: an invalid date in every element of a list the handler destructured from the body',
    scenario: {
      language: 'node',
      files: {
        'package.json': '{"type": "module"}',
        'entries.js':
          'export function day({ bookedAt }) {\n  return new Date(bookedAt).toISOString().slice(0, 10);\n}\n\nexport function days(entries) {\n  const out = [];\n  for (const entry of entries) out.push(day(entry));\n  return out;\n}\n',
        // Its catch logs a line with a status and a message: a log line, not an answer to copy.
        'server.js':
          "import http from 'node:http';\nimport { days } from './entries.js';\n\nconst log = (fields) => console.error(JSON.stringify(fields));\n\nexport const server = http.createServer((req, res) => {\n  let raw = '';\n  req.on('data', (c) => (raw += c));\n  req.on('end', () => {\n    try {\n      const { entries } = JSON.parse(raw);\n      res.end(JSON.stringify(days(entries)));\n    } catch (err) {\n      log({ level: 'error', msg: 'failed', status: 500, stack: err.stack });\n      res.statusCode = 500;\n      res.end('{}');\n    }\n  });\n});\n",
      },
      driver: http('{"entries": [{"bookedAt": "2026-11-23T08:00:00Z"}, {"bookedAt": "23.11.2026"}]}'),
    },
    fixes: { 'template:unparseable:validate': /^400 \{"error":"entries\[\]\.bookedAt must be a valid date"\}$/ },
  },
  {
    name: 'node:http: destructuring a lookup-table entry the request names, the table imported into the handler',
    scenario: {
      language: 'node',
      files: {
        'package.json': '{"type": "module"}',
        'plans.js':
          'export const PLANS = { team: { monthly: 29, perSeat: 3 } };\n\nexport function invoice(account) {\n  const { monthly, perSeat } = PLANS[account.plan];\n  return { total: monthly + perSeat * account.seats };\n}\n',
        'server.js':
          "import http from 'node:http';\nimport { invoice } from './plans.js';\n\nfunction send(res, status, body) {\n  res.writeHead(status, { 'content-type': 'application/json' });\n  res.end(JSON.stringify(body));\n}\n\nexport const server = http.createServer((req, res) => {\n  let raw = '';\n  req.on('data', (c) => (raw += c));\n  req.on('end', () => {\n    try {\n      const account = JSON.parse(raw);\n      send(res, 200, invoice(account));\n    } catch (err) {\n      console.error(err.stack);\n      send(res, 500, { error: 'internal' });\n    }\n  });\n});\n",
      },
      driver: http('{"plan": "enterprise", "seats": 3}'),
    },
    fixes: { 'template:nullish:validate': /^400 \{"error":"plan is not supported"\}$/ },
    emits: { 'template:nullish:validate': "import { invoice, PLANS } from './plans.js';" },
  },
  {
    name: 'node:http: a renderer looked up by a query parameter is not a function',
    scenario: {
      language: 'node',
      files: {
        'package.json': '{"type": "module"}',
        'render.js':
          "const RENDERERS = {\n  csv: (rows) => rows.join(','),\n  json: (rows) => JSON.stringify(rows),\n};\n\nexport function render(format, rows) {\n  const fn = RENDERERS[format];\n  return fn(rows);\n}\n\nexport { RENDERERS };\n",
        'server.js': query(
          "    const format = url.searchParams.get('format') ?? 'json';\n    send(res, 200, { body: render(format, ['a', 'b']) });",
        ).replace(
          "import http from 'node:http';",
          "import http from 'node:http';\nimport { render } from './render.js';",
        ),
      },
      driver: http('{}', '/x?format=xml'),
    },
    fixes: { 'template:not-callable:validate': /^400 \{"error":"format is not supported"\}$/ },
  },
  {
    name: 'Express: an arrow route with an expression body gets a block that answers 400',
    scenario: {
      language: 'node',
      files: {
        ...EXPRESS,
        'package.json': '{"type": "module", "dependencies": {"express": "^4.19.0"}}',
        'app.js':
          "import express from 'express';\nimport { summarize } from './cart.js';\n\nexport const app = express();\napp.use(express.json());\n\napp.post('/cart', (req, res) => res.json(summarize(req.body)));\n",
        'cart.js': 'export function summarize(cart) {\n  return { shipping: cart.shipping.cost };\n}\n',
      },
      driver: express('POST', '/cart', { items: [] }),
    },
    fixes: { 'template:nullish:validate': /^400 \{"error":"shipping is required"\}$/ },
  },
  {
    name: 'Express: a number sent as a string, so .toFixed() is not a function',
    scenario: {
      language: 'node',
      files: {
        ...EXPRESS,
        'package.json': '{"type": "module", "dependencies": {"express": "^4.19.0"}}',
        'app.js':
          "import express from 'express';\n\nexport const app = express();\napp.use(express.json());\n\napp.post('/price', (req, res) => {\n  res.json({ price: req.body.amount.toFixed(2) });\n});\n",
      },
      driver: express('POST', '/price', { amount: '12.5' }),
    },
    fixes: {
      'template:not-callable:validate': /^400 \{"error":"amount must be a number"\}$/,
      'template:not-callable:as-number': /^200 \{"price":"12\.50"\}$/,
    },
  },
];

describe('JavaScript/TypeScript templates on real crashes', () => {
  it.each(CASES)('$name', async ({ scenario, fixes, emits, never }) => {
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
    for (const [strategy, text] of Object.entries(emits ?? {})) {
      expect(
        c.proposals
          .find((x) => x.strategy === strategy)!
          .edits.map((e) => e.after)
          .join('\n'),
      ).toContain(text);
    }
    for (const p of c.proposals) {
      await expectLocal(p, frames, sharedParser());
      if (never) for (const e of p.edits) expect(e.after).not.toMatch(never);
    }
  });
});

describe('validation is for what the request sent', () => {
  it('a user the handler looked up is missing: no 400 that blames the request', async () => {
    const scenario: Scenario = {
      language: 'node',
      files: {
        ...EXPRESS,
        'package.json': '{"type": "module", "dependencies": {"express": "^4.19.0"}}',
        'app.js':
          "import express from 'express';\n\nexport const app = express();\nconst USERS = [{ id: '1', name: 'ann' }];\n\napp.post('/users', (req, res) => {\n  const user = USERS.find((u) => u.id === req.body.id);\n  res.json({ name: user.name });\n});\n",
      },
      driver: express('POST', '/users', { id: '9' }),
    };
    const c = await crash(scenario);
    expect(c.proposals.map((p) => p.strategy)).toContain('template:nullish:optional-chain');
    expect(c.proposals.map((p) => p.strategy)).not.toContain('template:nullish:validate');
  });
});

describe('Koa, Fastify and hapi handlers answer 400 their way', () => {
  const stack = (file: string, line: number, col: number, fn: string) =>
    `TypeError: Cannot read properties of undefined (reading 'email')\n    at ${fn} (/srv/app/${file}:${line}:${col})\n    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)`;
  const cases: [string, string, string][] = [
    [
      'koa',
      "import Router from '@koa/router';\nconst router = new Router();\nrouter.post('/users', async (ctx) => {\n  ctx.body = { email: ctx.request.body.contact.email.toLowerCase() };\n});\nexport default router;\n",
      "ctx.status = 400;\n    ctx.body = { error: 'contact is required' };\n    return;",
    ],
    [
      'fastify',
      "import Fastify from 'fastify';\nconst app = Fastify();\napp.post('/users', async (request, reply) => {\n  return { email: request.body.contact.email.toLowerCase() };\n});\nexport default app;\n",
      "return reply.code(400).send({ error: 'contact is required' });",
    ],
    [
      'hapi',
      "import Hapi from '@hapi/hapi';\nconst server = Hapi.server();\nserver.route({ method: 'POST', path: '/users', handler: (request, h) => {\n  return { email: request.payload.contact.email.toLowerCase() };\n} });\nexport default server;\n",
      "return h.response({ error: 'contact is required' }).code(400);",
    ],
  ];
  it.each(cases)('%s', async (_name, source, expected) => {
    const line = 4;
    const col = source.split('\n')[line - 1]!.indexOf('email.toLowerCase') + 1;
    const ctx = contextFor('node', { 'routes.js': source }, stack('routes.js', line, col, 'handler'));
    const { proposals } = await templateProposals(ctx, sharedParser);
    const v = proposals.find((p) => p.strategy === 'template:nullish:validate');
    expect(v, proposals.map((p) => p.strategy).join(', ')).toBeDefined();
    expect(v!.edits[0]!.after).toContain(expected);
  });
});
