/**
 * Regression tests written alongside a fix. They replay the request that crashed production against the
 * service started with its own `start` command (suture.yaml) and fail while it answers 5xx or dies, so
 * they fail on the base revision and pass on a fixed one, whatever the crash class. They need nothing but
 * the language's standard library and the repo's test runner (pytest, node --test).
 */
import type { ServiceConfig } from '../config/service.ts';
import { redactDeep } from '../evidence/redact.ts';
import { shortFingerprint } from '../incident/fingerprint.ts';
import { sanitiseRequest } from '../incident/sanitise.ts';
import type { Incident, RequestSample } from '../incident/types.ts';
import { jsonStringLiteral } from './literal.ts';
import type { FileEdit } from './types.ts';

function testDir(repoFiles: string[], language: 'python' | 'node'): string {
  const dirs = language === 'python' ? ['tests', 'test'] : ['test', 'tests', '__tests__'];
  for (const d of dirs) if (repoFiles.some((f) => f.startsWith(`${d}/`))) return d;
  return dirs[0]!;
}

/**
 * Names built into the code (the test function, the file) come only from suture's own fingerprint, and
 * only in its hex shape: anything else is a bug upstream, not something to write into a file.
 */
function codeName(incident: Incident): string {
  const fp = shortFingerprint(incident.fingerprint);
  if (!/^[0-9a-f]{12}$/.test(fp)) throw new Error(`internal: fingerprint ${JSON.stringify(fp)} is not hex`);
  return fp;
}

/** What the test says about the incident: data, never code (it is embedded through `jsonStringLiteral`). */
export function incidentData(incident: Incident): Record<string, string> {
  return redactDeep({
    id: incident.id,
    fingerprint: incident.fingerprint,
    service: incident.service,
    environment: incident.environment,
    summary: incident.summary,
  });
}

/** The request as committed: sanitised like on intake (idempotent), without the production status. */
export function committedRequest(req: RequestSample): RequestSample {
  const { status: _status, ...rest } = sanitiseRequest(req);
  return rest;
}

function pythonTest(fp: string, incident: Incident, config: ServiceConfig, req: RequestSample, depth: number): string {
  return `"""Regression test written by suture for the crash with fingerprint ${fp}.

Replays the request that crashed the service (INCIDENT and REQUEST below say which, as data) against the
service started with its own start command; it must not answer 5xx.
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
START = json.loads(${jsonStringLiteral(config.start)})
HEALTH = json.loads(${jsonStringLiteral(config.health)})
INCIDENT = json.loads(${jsonStringLiteral(incidentData(incident))})
REQUEST = json.loads(${jsonStringLiteral(req)})


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

function nodeTest(fp: string, incident: Incident, config: ServiceConfig, req: RequestSample, depth: number): string {
  return `// Regression test written by suture for the crash with fingerprint ${fp}.
// Replays the request that crashed the service (INCIDENT and REQUEST below say which, as data) against the
// service started with its own start command; it must not answer 5xx.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url))${", '..'".repeat(depth)});
const START = JSON.parse(${jsonStringLiteral(config.start)});
const HEALTH = JSON.parse(${jsonStringLiteral(config.health)});
const INCIDENT = JSON.parse(${jsonStringLiteral(incidentData(incident))});
const REQUEST = JSON.parse(${jsonStringLiteral(req)});

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

/**
 * The largest request a regression test embeds (as its data literal). Bigger ones are still replayed by
 * verification, but a committed test of megabytes is no test a reviewer reads, and the policy reads files
 * only up to 2 MiB.
 */
export const MAX_EMBEDDED_REQUEST = 256 * 1024;

/**
 * A new test file replaying the first failing request, or undefined when the service has no `start` or
 * the request is too big to embed.
 */
export function regressionTest(incident: Incident, config: ServiceConfig, repoFiles: string[]): FileEdit | undefined {
  const req = incident.requests[0];
  if (!req || !config.start) return undefined;
  const request = committedRequest(req);
  if (jsonStringLiteral(request).length > MAX_EMBEDDED_REQUEST) return undefined;
  const dir = testDir(repoFiles, config.language);
  const fp = codeName(incident);
  const depth = dir.split('/').length;
  return config.language === 'python'
    ? { path: `${dir}/test_suture_${fp}.py`, after: pythonTest(fp, incident, config, request, depth) }
    : { path: `${dir}/suture-${fp}.test.mjs`, after: nodeTest(fp, incident, config, request, depth) };
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
