/**
 * Classification before repair, table-driven over realistic tracebacks and Node stacks (as the runtimes
 * print them): only a defect in the repo's code reaches the repair strategies; the others end with a
 * reason and what a human should check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/diagnose/classify.ts';
import { diagnose } from '../../src/diagnose/index.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { FIXTURES } from '../helpers/repo.ts';
import { config } from './harness.ts';

const APP = {
  'app.py': [
    'import os',
    'import requests',
    '',
    'def handler(order):',
    '    rate = requests.get("http://rates.internal:8080/v1").json()',
    '    return order["coupon"]',
  ].join('\n'),
  'db.py': 'import psycopg2\n\ndef connect():\n    return psycopg2.connect(DSN)\n',
  'settings.py': [
    'import os',
    '',
    'DATABASE_URL = os.environ["DATABASE_URL"]',
    'PORT = int(os.getenv("PORT"))',
    'DB = CONFIG["database"]',
  ].join('\n'),
  'cache.js': [
    "import Redis from 'ioredis';",
    '',
    "const hosts = process.env.REDIS_HOSTS.split(',');",
    'export const redis = new Redis(hosts[0]);',
  ].join('\n'),
  'orders.js': [
    'export function summarize(order, currency) {',
    '  return { total: order.settings.total, currency };',
    '}',
    'export function handler(req, res) {',
    '  return res.json(summarize(req.body, process.env.CURRENCY));',
    '}',
  ].join('\n'),
  'n5.js': [
    "const fs = require('node:fs');",
    'function readTemplate(path) {',
    "  return fs.readFileSync(path, 'utf8');",
    '}',
    'readTemplate(process.env.TEMPLATE_PATH);',
  ].join('\n'),
  'walk.py': 'def walk(node):\n    return [walk(c) for c in node["children"]]\n',
};

const py = (frames: [string, number, string, string][], tail: string) =>
  `Traceback (most recent call last):\n${frames.map(([f, l, fn, code]) => `  File "${f}", line ${l}, in ${fn}\n    ${code}\n`).join('')}${tail}\n`;

const HANDLER: [string, number, string, string] = [
  '/srv/app/app.py',
  5,
  'handler',
  'rate = requests.get("http://rates.internal:8080/v1").json()',
];
const SITE = '/usr/local/lib/python3.11/site-packages';

const CASES: { name: string; logs: string; expect: string; reason?: RegExp }[] = [
  {
    name: 'requests: a refused connection under urllib3',
    logs: `${py(
      [[`${SITE}/urllib3/connection.py`, 203, '_new_conn', 'sock = connection.create_connection(']],
      'ConnectionRefusedError: [Errno 111] Connection refused',
    )}\nThe above exception was the direct cause of the following exception:\n\n${py(
      [[`${SITE}/urllib3/connectionpool.py`, 791, 'urlopen', 'response = self._make_request(']],
      'urllib3.exceptions.NewConnectionError: <urllib3.connection.HTTPConnection object at 0x7f>: Failed to establish a new connection: [Errno 111] Connection refused',
    )}\nDuring handling of the above exception, another exception occurred:\n\n${py(
      [HANDLER, [`${SITE}/requests/adapters.py`, 519, 'send', 'raise ConnectionError(e, request=request)']],
      "requests.exceptions.ConnectionError: HTTPConnectionPool(host='rates.internal', port=8080): Max retries exceeded with url: /v1",
    )}`,
    expect: 'dependency-failure',
    reason: /rates\.internal:8080|downstream HTTP/,
  },
  {
    name: 'psycopg2: the database refuses connections',
    logs: py(
      [
        ['/srv/app/db.py', 4, 'connect', 'return psycopg2.connect(DSN)'],
        [`${SITE}/psycopg2/__init__.py`, 122, 'connect', 'conn = _connect(dsn)'],
      ],
      'psycopg2.OperationalError: connection to server at "db" (10.0.0.5), port 5432 failed: Connection refused\n\tIs the server running on that host and accepting TCP/IP connections?',
    ),
    expect: 'dependency-failure',
    reason: /PostgreSQL/,
  },
  {
    name: 'redis: connection refused',
    logs: py(
      [HANDLER, [`${SITE}/redis/connection.py`, 707, 'connect', 'raise ConnectionError(self._error_message(e))']],
      'redis.exceptions.ConnectionError: Error 111 connecting to cache:6379. Connection refused.',
    ),
    expect: 'dependency-failure',
    reason: /Redis/,
  },
  {
    name: 'a KeyError raised while handling a DNS failure is the DNS failure',
    logs: `${py([HANDLER, ['/usr/local/lib/python3.11/socket.py', 962, 'getaddrinfo', 'for res in _socket.getaddrinfo(host, port, family, type, proto, flags):']], 'socket.gaierror: [Errno -2] Name or service not known')}\nDuring handling of the above exception, another exception occurred:\n\n${py([['/srv/app/app.py', 6, 'handler', 'return order["coupon"]']], "KeyError: 'coupon'")}`,
    expect: 'dependency-failure',
  },
  {
    name: 'sqlalchemy wrapping psycopg2: host name not resolved',
    logs: py(
      [['/srv/app/db.py', 4, 'connect', 'return psycopg2.connect(DSN)']],
      'sqlalchemy.exc.OperationalError: (psycopg2.OperationalError) could not translate host name "db" to address: Temporary failure in name resolution',
    ),
    expect: 'dependency-failure',
  },
  {
    name: 'httpx read timeout',
    logs: py(
      [
        HANDLER,
        [`${SITE}/httpx/_transports/default.py`, 86, 'map_httpcore_exceptions', 'raise mapped_exc(message) from exc'],
      ],
      'httpx.ReadTimeout: timed out',
    ),
    expect: 'dependency-failure',
  },
  {
    name: 'node pg: connect ECONNREFUSED',
    logs: 'Error: connect ECONNREFUSED 10.0.0.5:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)\n    at summarize (file:///app/orders.js:2:10)',
    expect: 'dependency-failure',
    reason: /10\.0\.0\.5:5432 \(PostgreSQL's port\)/,
  },
  {
    name: 'undici fetch failed with a DNS cause',
    logs: [
      'TypeError: fetch failed',
      '    at node:internal/deps/undici/undici:13502:13',
      '    at async summarize (file:///app/orders.js:2:10) {',
      '  [cause]: Error: getaddrinfo ENOTFOUND payments.internal',
      '      at GetAddrInfoReqWrap.onlookupall [as oncomplete] (node:dns:120:26) {',
      '    errno: -3008,',
      "    code: 'ENOTFOUND',",
      "    syscall: 'getaddrinfo',",
      "    hostname: 'payments.internal'",
      '  }',
      '}',
    ].join('\n'),
    expect: 'dependency-failure',
  },
  {
    name: 'MongoServerSelectionError',
    logs: 'MongoServerSelectionError: connect ECONNREFUSED 127.0.0.1:27017\n    at Timeout._onTimeout (/app/node_modules/mongodb/lib/sdam/topology.js:278:38)\n    at listOnTimeout (node:internal/timers:569:17)\n    at summarize (/app/orders.js:2:10)',
    expect: 'dependency-failure',
    reason: /MongoDB/,
  },
  {
    name: 'AxiosError: a timeout',
    logs: 'AxiosError: timeout of 5000ms exceeded\n    at RedirectableRequest.handleRequestTimeout (/app/node_modules/axios/lib/adapters/http.js:647:16)\n    at async handler (/app/orders.js:5:10)',
    expect: 'dependency-failure',
  },
  {
    name: 'AxiosError: the downstream answers 503',
    logs: 'AxiosError: Request failed with status code 503\n    at settle (/app/node_modules/axios/lib/core/settle.js:19:12)\n    at async handler (/app/orders.js:5:10)',
    expect: 'dependency-failure',
  },
  {
    name: 'AxiosError: a 404 from a downstream is the caller asking for the wrong thing',
    logs: 'AxiosError: Request failed with status code 404\n    at settle (/app/node_modules/axios/lib/core/settle.js:19:12)\n    at async handler (/app/orders.js:5:10)',
    expect: 'code-defect',
  },
  {
    name: 'SequelizeConnectionError',
    logs: 'SequelizeConnectionError: connect ETIMEDOUT\n    at Client._connectionCallback (/app/node_modules/sequelize/lib/dialects/postgres/connection-manager.js:133:24)\n    at handler (/app/orders.js:5:10)',
    expect: 'dependency-failure',
  },
  {
    name: 'sqlite: no such table is the code (or a missing migration), not an outage',
    logs: py(
      [['/srv/app/db.py', 4, 'connect', 'return psycopg2.connect(DSN)']],
      'sqlite3.OperationalError: no such table: users',
    ),
    expect: 'code-defect',
  },
  {
    name: 'postgres refusing the password is configuration',
    logs: py(
      [['/srv/app/db.py', 4, 'connect', 'return psycopg2.connect(DSN)']],
      'psycopg2.OperationalError: connection to server at "db", port 5432 failed: FATAL:  password authentication failed for user "app"',
    ),
    expect: 'configuration',
  },
  {
    name: 'MemoryError',
    logs: py([HANDLER], 'MemoryError'),
    expect: 'resource-exhaustion',
    reason: /memory/,
  },
  {
    name: 'too many open files (Python)',
    logs: py([HANDLER], "OSError: [Errno 24] Too many open files: '/data/report.csv'"),
    expect: 'resource-exhaustion',
    reason: /file descriptors/,
  },
  {
    name: 'EMFILE (Node)',
    logs: "Error: EMFILE: too many open files, open '/data/x.json'\n    at Object.openSync (node:fs:573:3)\n    at summarize (/app/orders.js:2:10)",
    expect: 'resource-exhaustion',
  },
  {
    name: 'ENOSPC (Node)',
    logs: 'Error: ENOSPC: no space left on device, write\n    at Object.writeSync (node:fs:927:3)\n    at summarize (/app/orders.js:2:10)',
    expect: 'resource-exhaustion',
    reason: /disk space/,
  },
  {
    name: 'the connection pool is exhausted',
    logs: py(
      [HANDLER],
      'sqlalchemy.exc.TimeoutError: QueuePool limit of size 5 overflow 10 reached, connection timed out, timeout 30.00',
    ),
    expect: 'resource-exhaustion',
  },
  {
    name: "a recursion that keeps calling the repo's own function is a code defect",
    logs: py(
      [
        ['/srv/app/walk.py', 2, 'walk', 'return [walk(c) for c in node["children"]]'],
        ['/srv/app/walk.py', 2, 'walk', 'return [walk(c) for c in node["children"]]'],
        ['/srv/app/walk.py', 2, 'walk', 'return [walk(c) for c in node["children"]]'],
      ],
      'RecursionError: maximum recursion depth exceeded',
    ),
    expect: 'code-defect',
  },
  {
    name: 'a recursion inside a library is exhaustion',
    logs: py(
      [['/usr/local/lib/python3.11/json/encoder.py', 200, 'encode', 'chunks = self.iterencode(o, _one_shot=True)']],
      'RecursionError: maximum recursion depth exceeded while encoding a JSON object',
    ),
    expect: 'resource-exhaustion',
  },
  {
    name: 'os.environ["X"] at import time',
    logs: py(
      [
        ['/srv/app/settings.py', 3, '<module>', 'DATABASE_URL = os.environ["DATABASE_URL"]'],
        ['/usr/local/lib/python3.11/os.py', 679, '__getitem__', 'raise KeyError(key) from None'],
      ],
      "KeyError: 'DATABASE_URL'",
    ),
    expect: 'configuration',
    reason: /environment/,
  },
  {
    name: 'int(os.getenv("PORT")) with PORT unset',
    logs: py(
      [['/srv/app/settings.py', 4, '<module>', 'PORT = int(os.getenv("PORT"))']],
      "TypeError: int() argument must be a string, a bytes-like object or a real number, not 'NoneType'",
    ),
    expect: 'configuration',
  },
  {
    name: 'a settings mapping without the key, at import time',
    logs: py([['/srv/app/settings.py', 5, '<module>', 'DB = CONFIG["database"]']], "KeyError: 'database'"),
    expect: 'configuration',
  },
  {
    name: 'Django ImproperlyConfigured',
    logs: py(
      [['/srv/app/settings.py', 3, '<module>', 'DATABASE_URL = os.environ["DATABASE_URL"]']],
      'django.core.exceptions.ImproperlyConfigured: Set the SECRET_KEY environment variable',
    ),
    expect: 'configuration',
  },
  {
    name: 'pydantic settings validation',
    logs: py(
      [['/srv/app/settings.py', 3, '<module>', 'DATABASE_URL = os.environ["DATABASE_URL"]']],
      'pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings\ndatabase_url\n  Field required',
    ),
    expect: 'configuration',
  },
  {
    name: 'process.env.X used undefined (the line is read from the repo)',
    logs: "TypeError: Cannot read properties of undefined (reading 'split')\n    at file:///app/cache.js:3:39\n    at ModuleJob.run (node:internal/modules/esm/module_job:234:25)",
    expect: 'configuration',
  },
  {
    name: 'a thrown "missing environment variable"',
    logs: 'Error: Missing required environment variable JWT_SECRET\n    at handler (/app/orders.js:5:10)',
    expect: 'configuration',
  },
  {
    name: 'an undefined env value handed to fs at start-up (captured Node 20 trace)',
    logs: readFileSync(join(FIXTURES, 'traces', 'node20-err-code.txt'), 'utf8'),
    expect: 'configuration',
    reason: /start-up/,
  },
  {
    name: 'a handler that also reads process.env: the crash below it is still the code',
    logs: "TypeError: Cannot read properties of undefined (reading 'total')\n    at summarize (/app/orders.js:2:35)\n    at handler (/app/orders.js:5:14)",
    expect: 'code-defect',
  },
  {
    name: "a missing property named like a setting is still the code's",
    logs: "TypeError: Cannot read properties of undefined (reading 'settings')\n    at summarize (/app/orders.js:2:25)",
    expect: 'code-defect',
  },
  {
    name: 'a KeyError on a payload field in a handler',
    logs: py([['/srv/app/app.py', 6, 'handler', 'return order["coupon"]']], "KeyError: 'coupon'"),
    expect: 'code-defect',
  },
  {
    name: 'nothing in the repo',
    logs: py(
      [
        [
          '/usr/local/lib/python3.11/json/decoder.py',
          355,
          'raw_decode',
          'raise JSONDecodeError("Expecting value", s, err.value) from None',
        ],
      ],
      'json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)',
    ),
    expect: 'unknown',
  },
];

describe('classification', () => {
  it.each(CASES)('$name → $expect', async ({ logs, expect: cls, reason }) => {
    const incident = buildIncident({ kind: 'crash', service: 'svc', logs, requests: [] }, Object.keys(APP));
    const { diagnosis, candidates } = await diagnose({
      incident,
      config: config('python'),
      evidence: { frames: [], excerpts: [], commits: [], logs, redactions: 0 },
      repoFiles: Object.keys(APP),
      readFile: async (p) => APP[p as keyof typeof APP],
    });
    expect(diagnosis.classification).toBe(cls);
    expect(diagnosis.reason.length).toBeGreaterThan(10);
    expect(diagnosis.whatToCheck.length).toBeGreaterThan(0);
    if (reason) expect(diagnosis.reason).toMatch(reason);
    if (cls !== 'code-defect') {
      // Only code defects are patched: no candidate, and the root cause is the reason for a human.
      expect(candidates).toEqual([]);
      expect(diagnosis.rootCause).toBe(diagnosis.reason);
    }
  });

  it('an out-of-memory kill without a trace is resource exhaustion', () => {
    const logs =
      '<--- Last few GCs --->\nFATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n 1: 0xb7b3e0 node::Abort() [node]';
    expect(classify({ logs })).toMatchObject({ classification: 'resource-exhaustion' });
    expect(classify({ logs: 'container orders-api OOMKilled (exit code 137)' }).classification).toBe(
      'resource-exhaustion',
    );
    expect(classify({ logs: 'all quiet' }).classification).toBe('unknown');
  });

  it('reasons quote the incident bounded and on one line', () => {
    const long = `ECONNREFUSED ${'x'.repeat(5000)}\nsecond line`;
    const r = classify({ trace: { language: 'node', exceptionType: 'Error', message: long, frames: [] } });
    expect(r.classification).toBe('dependency-failure');
    expect(r.reason.length).toBeLessThan(400);
    expect(r.reason).not.toContain('\n');
  });
});
