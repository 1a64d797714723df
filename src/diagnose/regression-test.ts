/**
 * Regression tests written alongside a fix. They replay the request that crashed production against the
 * service started with its own `start` command (suture.yaml) and fail while it answers 5xx or dies, so
 * they fail on the base revision and pass on a fixed one, whatever the crash class. They need nothing but
 * the language's standard library and the repo's test runner (pytest, node --test).
 */
import type { ServiceConfig } from '../config/service.ts';
import { redact } from '../evidence/redact.ts';
import { shortFingerprint } from '../incident/fingerprint.ts';
import type { Incident, RequestSample } from '../incident/types.ts';
import type { FileEdit } from './types.ts';

function testDir(repoFiles: string[], language: 'python' | 'node'): string {
  const dirs = language === 'python' ? ['tests', 'test'] : ['test', 'tests', '__tests__'];
  for (const d of dirs) if (repoFiles.some((f) => f.startsWith(`${d}/`))) return d;
  return dirs[0]!;
}

function header(incident: Incident): string[] {
  return [
    `Regression test written by suture for incident ${incident.id} (fingerprint ${incident.fingerprint}).`,
    `${incident.summary}`.replace(/\s+/g, ' ').slice(0, 300),
    `Replays the request that crashed ${incident.service} in ${incident.environment}; it must not answer 5xx.`,
  ];
}

function pythonTest(incident: Incident, config: ServiceConfig, req: RequestSample, depth: number): string {
  const fp = shortFingerprint(incident.fingerprint);
  return `"""${header(incident).join('\n')}
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__)${', ".."'.repeat(depth)}))
START = ${JSON.stringify(config.start)}
HEALTH = ${JSON.stringify(config.health)}
REQUEST = json.loads(${JSON.stringify(JSON.stringify(req))})


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _call(port, method, path, headers=None, body=None):
    data = body.encode() if isinstance(body, str) else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status
    except urllib.error.HTTPError as err:
        return err.code


def test_suture_${fp}_request_no_longer_fails():
    port = _free_port()
    proc = subprocess.Popen(START, shell=True, cwd=ROOT, env={**os.environ, "PORT": str(port)},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 15
        while True:
            assert proc.poll() is None, "the service exited before it became healthy"
            try:
                if _call(port, "GET", HEALTH) < 500:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the service did not become healthy"
            time.sleep(0.05)
        status = _call(port, REQUEST["method"], REQUEST["path"], REQUEST.get("headers"), REQUEST.get("body"))
        assert status < 500, f"{REQUEST['method']} {REQUEST['path']} still answers {status}"
        assert _call(port, "GET", HEALTH) < 500, "the service is unhealthy after the request"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
`;
}

function nodeTest(incident: Incident, config: ServiceConfig, req: RequestSample, depth: number): string {
  const fp = shortFingerprint(incident.fingerprint);
  return `// ${header(incident).join('\n// ')}
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url))${", '..'".repeat(depth)});
const START = ${JSON.stringify(config.start)};
const HEALTH = ${JSON.stringify(config.health)};
const REQUEST = ${JSON.stringify(req)};

const freePort = () =>
  new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

test('suture ${fp}: the crashing request no longer fails', async () => {
  const port = await freePort();
  const child = spawn(START, { shell: true, cwd: ROOT, env: { ...process.env, PORT: String(port) }, stdio: 'ignore', detached: true });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  try {
    const deadline = Date.now() + 15000;
    for (;;) {
      assert.equal(exited, false, 'the service exited before it became healthy');
      try {
        if ((await fetch(\`http://127.0.0.1:\${port}\${HEALTH}\`)).status < 500) break;
      } catch {}
      assert.ok(Date.now() < deadline, 'the service did not become healthy');
      await new Promise((r) => setTimeout(r, 50));
    }
    const res = await fetch(\`http://127.0.0.1:\${port}\${REQUEST.path}\`, {
      method: REQUEST.method,
      headers: REQUEST.headers ?? {},
      body: REQUEST.body,
    });
    await res.text();
    assert.ok(res.status < 500, \`\${REQUEST.method} \${REQUEST.path} still answers \${res.status}\`);
    assert.ok((await fetch(\`http://127.0.0.1:\${port}\${HEALTH}\`)).status < 500, 'the service is unhealthy after the request');
  } finally {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {}
  }
});
`;
}

/** Credentials-bearing headers never go into a committed file; the body is redacted like the logs. */
const SECRET_HEADERS = /^(authorization|proxy-authorization|cookie|set-cookie|x-api-key|x-auth-token|x-csrf-token)$/i;

function committable(req: RequestSample): RequestSample {
  const { status: _status, headers, body, ...rest } = req;
  const kept = Object.fromEntries(Object.entries(headers ?? {}).filter(([k]) => !SECRET_HEADERS.test(k)));
  return {
    ...rest,
    ...(headers ? { headers: kept } : {}),
    ...(body !== undefined ? { body: redact(body).text } : {}),
  };
}

/** A new test file replaying the first failing request, or undefined when the service has no `start`. */
export function regressionTest(incident: Incident, config: ServiceConfig, repoFiles: string[]): FileEdit | undefined {
  const req = incident.requests[0];
  if (!req || !config.start) return undefined;
  const request = committable(req);
  const dir = testDir(repoFiles, config.language);
  const fp = shortFingerprint(incident.fingerprint);
  const depth = dir.split('/').length;
  return config.language === 'python'
    ? { path: `${dir}/test_suture_${fp}.py`, after: pythonTest(incident, config, request, depth) }
    : { path: `${dir}/suture-${fp}.test.mjs`, after: nodeTest(incident, config, request, depth) };
}

/** The command that runs one test file with the repo's runner. */
export function singleTestCommand(config: ServiceConfig, file: string): string {
  const quoted = `'${file.replace(/'/g, `'\\''`)}'`;
  if (config.language === 'python') {
    return /pytest/.test(config.test)
      ? `${config.test.replace(/\s-q\b/, '')} -q ${quoted}`
      : `python3 -m pytest -q ${quoted}`;
  }
  return `node --test ${quoted}`;
}
