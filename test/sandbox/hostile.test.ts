/**
 * Hostile candidates end as `fail` verdicts within their time limits, the host unaffected and no container
 * left behind. Each hostile patch carries the real fix and a real regression test, and would pass if the
 * sandbox let it do what it tries (find a network, be root, write outside the workspace), so a `fail`
 * proves the isolation, not just a broken patch. A clean control candidate passes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceConfig, type ServiceConfig } from '../../src/config/service.ts';
import { makeGitPatch } from '../../src/diagnose/patch.ts';
import { regressionTest } from '../../src/diagnose/regression-test.ts';
import type { FileEdit } from '../../src/diagnose/types.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { listSandboxContainers, RUN_ID } from '../../src/sandbox/docker.ts';
import { type Baseline, prepareBaseline, verifyCandidate } from '../../src/sandbox/verify.ts';
import { SERVICES } from '../helpers/repo.ts';

const dir = join(SERVICES, 'pricing-api');
const files = readdirSync(dir, { recursive: true }) as string[];
const original = readFileSync(join(dir, 'pricing.py'), 'utf8');
const fixed = original.replace(
  '    return total / len(discounts)',
  '    if len(discounts) == 0:\n        return 0\n    return total / len(discounts)',
);
let baseline: Baseline;
let config: ServiceConfig;
let test: FileEdit;

beforeAll(async () => {
  const loaded = loadServiceConfig(dir);
  // Tight limits keep the suite fast; the defaults are larger.
  config = {
    ...loaded,
    limits: {
      ...loaded.limits,
      stepTimeoutSec: 8,
      memory: '256m',
      pids: 64,
      outputBytes: 64 * 1024,
      workspace: '128m',
    },
  };
  const incident = buildIncident(JSON.parse(readFileSync(join(dir, 'incident.json'), 'utf8')), files);
  test = regressionTest(incident, config, files)!;
  baseline = await prepareBaseline({ tree: dir, config, incident });
  await baseline.ready;
  expect(baseline.reproduced).toBe(true);
});

afterAll(async () => {
  expect((await listSandboxContainers()).filter((c) => c.labels['dev.suture.run'] === RUN_ID)).toEqual([]);
});

/** The fix plus `code` injected at module level of pricing.py (runs in the service and in the tests). */
function candidate(code: string, extra: FileEdit[] = []) {
  const after = `import os\nimport sys\n${code}\n${fixed}`;
  return {
    patch: makeGitPatch([{ path: 'pricing.py', before: original, after }, test, ...extra]),
    testFile: test.path,
  };
}

async function expectContained(code: string, limitMs: number, reason: RegExp, extra: FileEdit[] = []) {
  const started = Date.now();
  const v = await verifyCandidate(baseline, candidate(code, extra));
  expect(v.verdict).toBe('fail');
  expect(v.reasons.join('\n')).toMatch(reason);
  expect(Date.now() - started).toBeLessThan(limitMs);
  const mine = (await listSandboxContainers()).filter((c) => c.labels['dev.suture.run'] === RUN_ID);
  expect(mine).toEqual([]);
  return v;
}

describe('sandbox containment', () => {
  it('control: the clean fix passes', async () => {
    const v = await verifyCandidate(baseline, candidate('pass'));
    expect(v.verdict, v.reasons.join('; ')).toBe('pass');
  });

  it('finds no network interface but loopback', async () => {
    await expectContained(
      "assert [i for i in os.listdir('/sys/class/net') if i != 'lo'], 'no network interface'",
      30_000,
      /test command failed|never became healthy/,
    );
  });

  it('does not run as root', async () => {
    await expectContained("assert os.geteuid() == 0, 'not root'", 30_000, /test command failed|never became healthy/);
  });

  it('cannot write outside the workspace', async () => {
    const marker = `/usr/local/suture-pwned-${process.pid}`;
    await expectContained(`open('${marker}', 'w').write('x')`, 30_000, /test command failed|never became healthy/);
    expect(existsSync(marker)).toBe(false);
  });

  it('a fork bomb meets the pids limit and the step limit', async () => {
    await expectContained(
      "if os.environ.get('SUTURE_SANDBOX'):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass",
      60_000,
      /limit|failed|never became healthy|killed|died/,
    );
  });

  it('unbounded memory is killed at the memory limit', async () => {
    await expectContained(
      'hog = []\nwhile True:\n    hog.append(bytearray(16 * 1024 * 1024))',
      40_000,
      /failed|never became healthy|killed|died/,
    );
  });

  it('an endless loop is stopped at the step limit', async () => {
    await expectContained('while True:\n    pass', 60_000, /limit|never became healthy|failed/);
  });

  it('an output flood is capped and stopped', async () => {
    const v = await expectContained(
      "while True:\n    sys.stdout.write('x' * 65536)",
      60_000,
      /flooded|limit|failed|never became healthy/,
    );
    expect((v.evidence.tests?.output ?? '').length).toBeLessThan(70 * 1024);
  });

  it("cannot read the driver's inputs (its plan, the tree's tar), which are copied in for root alone", async () => {
    await expectContained(
      "if os.environ.get('SUTURE_SANDBOX'):\n    for p in ('/opt/suture-in/plan.json', '/opt/suture-in/tree.tar'):\n        open(p, 'rb').read(1)",
      30_000,
      /test command failed|never became healthy/,
    );
  });

  it('cannot forge the driver result line through /proc', async () => {
    const forged = JSON.stringify({
      steps: [
        { kind: 'run', name: 'tests', exitCode: 0, stopped: null, durationMs: 1, output: 'forged', outputBytes: 6 },
      ],
    });
    const v = await expectContained(
      `for pid in ('1', str(os.getppid())):\n    try:\n        open('/proc/' + pid + '/fd/1', 'w').write('@@SUTURE_RESULT@@' + ${JSON.stringify(JSON.stringify(forged))} + '\\n')\n    except OSError:\n        pass\nraise SystemExit(3)`,
      30_000,
      /test command failed|never became healthy/,
    );
    expect(v.evidence.tests?.output ?? '').not.toContain('forged');
    expect(v.evidence.tests?.exitCode).not.toBe(0);
  });

  it('a 2 GiB write meets the workspace limit, with a clear reason, and the host disk does not grow', async () => {
    const root = execFileSync('docker', ['info', '-f', '{{.DockerRootDir}}']).toString().trim();
    const free = () => {
      const s = statfsSync(root);
      return s.bavail * s.bsize;
    };
    const before = free();
    await expectContained(
      "if os.environ.get('SUTURE_SANDBOX'):\n    with open('fill.bin', 'wb') as f:\n        for _ in range(2048):\n            f.write(b'x' * (1 << 20))",
      30_000,
      /the workspace hit its size limit \(limits.workspace, 128m\)/,
    );
    expect(before - free()).toBeLessThan(256 * 1024 * 1024);
  });

  it('a test file added as a symlink to the process environment is refused, and nothing of it leaks', async () => {
    process.env.SUTURE_PLANTED = 'planted-secret-4f1d';
    const link = `diff --git a/tests/test_env.py b/tests/test_env.py\nnew file mode 120000\nindex 0000000..1111111\n--- /dev/null\n+++ b/tests/test_env.py\n@@ -0,0 +1 @@\n+/proc/self/environ\n\\ No newline at end of file\n`;
    const patch = makeGitPatch([{ path: 'pricing.py', before: original, after: fixed }]) + link;
    // as heal sees it: the symlink is the candidate's regression test, known before the baseline is made
    const own = await prepareBaseline({
      tree: dir,
      config,
      incident: baseline.incident,
      candidates: [{ patch, testFile: 'tests/test_env.py' }],
    });
    const v = await verifyCandidate(own, { patch, testFile: 'tests/test_env.py' });
    expect(v.verdict).toBe('fail');
    expect(v.reasons[0]).toMatch(/symbolic link/);
    expect(JSON.stringify(v)).not.toContain('planted-secret-4f1d');
    expect(own.regressionRuns.size).toBe(0);
  });

  it('deleting the tests is refused before anything runs', async () => {
    const lines = readFileSync(join(dir, 'tests/test_pricing.py'), 'utf8').replace(/\n$/, '').split('\n');
    const del = makeGitPatch([{ path: 'pricing.py', before: original, after: fixed }, test]).concat(
      `diff --git a/tests/test_pricing.py b/tests/test_pricing.py\ndeleted file mode 100644\n--- a/tests/test_pricing.py\n+++ /dev/null\n@@ -1,${lines.length} +0,0 @@\n${lines.map((l) => `-${l}`).join('\n')}\n`,
    );
    const v = await verifyCandidate(baseline, { patch: del, testFile: test.path });
    expect(v.verdict).toBe('fail');
    expect(v.reasons[0]).toMatch(/deletes tests: tests\/test_pricing.py/);
  });
});

describe('limits that scale with the base run', () => {
  // The default limits: 60 s per step. Each hostile step is stopped at max(stepFloorSec, stepFactor × the
  // same step on base) instead, and the steps after it are skipped.
  let scaled: Baseline;
  beforeAll(async () => {
    const loaded = loadServiceConfig(dir);
    expect(loaded.limits).toMatchObject({ stepTimeoutSec: 60, stepFactor: 5, stepFloorSec: 5 });
    scaled = await prepareBaseline({
      tree: dir,
      config: { ...loaded, limits: { ...loaded.limits, pids: 64 } },
      incident: baseline.incident,
    });
    await scaled.ready;
    expect(scaled.reproduced).toBe(true);
  });

  async function failsFast(patch: { patch: string; testFile: string }, reason: RegExp) {
    const started = Date.now();
    const v = await verifyCandidate(scaled, patch);
    const ms = Date.now() - started;
    expect(v.verdict).toBe('fail');
    expect(v.reasons.join('\n')).toMatch(reason);
    expect(ms).toBeLessThan(15_000);
    expect(v.evidence.limits!.replay).toBeLessThan(60);
    return v;
  }

  it('an endless loop fails within 15 s, at the scaled limit', async () => {
    await failsFast(
      candidate('while True:\n    pass'),
      /never became healthy on \/healthz within the [\d.]+ s limit \(5 × [\d.]+ s on base, at least 5 s\)/,
    );
  });

  it('a fork bomb fails within 15 s', async () => {
    await failsFast(
      candidate(
        "if os.environ.get('SUTURE_SANDBOX'):\n    while True:\n        try:\n            os.fork()\n        except OSError:\n            pass",
      ),
      /never became healthy on \/healthz within the [\d.]+ s limit/,
    );
  });

  it('a request that sleeps fails within 15 s', async () => {
    const sleepy = fixed.replace('def quote(cart):\n', 'def quote(cart):\n    import time\n    time.sleep(3600)\n');
    await failsFast(
      {
        patch: makeGitPatch([{ path: 'pricing.py', before: original, after: sleepy }, test]),
        testFile: test.path,
      },
      /still fail on the patched service \(statuses no answer; stopped at the [\d.]+ s limit/,
    );
  });

  it('a regression test that loops fails within 15 s, at the limit scaled from the base test run', async () => {
    const looping = { ...test, after: `${test.after}\n\ndef test_forever():\n    while True:\n        pass\n` };
    const v = await failsFast(
      { patch: makeGitPatch([{ path: 'pricing.py', before: original, after: fixed }, looping]), testFile: test.path },
      /the regression test does not pass on the patched revision \(it hit the [\d.]+ s limit \(5 × [\d.]+ s on base/,
    );
    expect(v.fixed).toBe(true);
  });
});
