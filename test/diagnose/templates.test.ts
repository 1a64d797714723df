/**
 * diagnose(): candidates as git patches with the shared regression test, on traces written as the runtimes
 * print them. The per-class behaviour is in templates-python.test.ts and templates-js.test.ts.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../src/config/service.ts';
import { diagnose } from '../../src/diagnose/index.ts';
import { addedPaths, makeGitPatch, patchedPaths } from '../../src/diagnose/patch.ts';
import { singleTestCommand } from '../../src/diagnose/regression-test.ts';
import type { RepairContext } from '../../src/diagnose/types.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { node, py } from './configs.ts';
import { closeParser } from './harness.ts';

afterAll(() => closeParser());

function context(logs: string, files: Record<string, string>, config: ServiceConfig): RepairContext {
  const incident = buildIncident(
    { kind: 'crash', service: 'svc', logs, requests: [{ method: 'POST', path: '/x', body: '{}' }] },
    Object.keys(files),
  );
  return {
    incident,
    config,
    evidence: { frames: [], excerpts: [], commits: [], logs, redactions: 0 },
    repoFiles: Object.keys(files),
    readFile: async (p) => files[p],
  };
}

const pyTrace = (line: number, code: string, fn: string, exception = 'ZeroDivisionError: division by zero') =>
  `Traceback (most recent call last):\n  File "/srv/svc/calc.py", line ${line}, in ${fn}\n    ${code}\n${exception}\n`;

const bodyOf = (patch: string, file: string) =>
  patch
    .split(/^diff --git /m)
    .filter((s) => s.startsWith(`a/${file} `))
    .join('');

describe('zero division', () => {
  it('guards a returned division with an early return, and offers the neutral default in place', async () => {
    const src = 'def avg(xs):\n    total = sum(xs)\n    return total / len(xs)\n';
    const { candidates, diagnosis } = await diagnose(
      context(pyTrace(3, 'return total / len(xs)', 'avg'), { 'calc.py': src, 'tests/test_calc.py': '' }, py),
    );
    expect(diagnosis).toMatchObject({
      classification: 'code-defect',
      location: { file: 'calc.py', line: 3, function: 'avg' },
    });
    expect(candidates.map((c) => c.strategy)).toEqual([
      'template:zero-division:guard',
      'template:zero-division:default',
    ]);
    const [guard, dflt] = candidates;
    expect(guard!.patch).toContain('+    if len(xs) == 0:\n+        return 0\n     return total / len(xs)');
    expect(dflt!.patch).toContain('+    return total / len(xs) if len(xs) != 0 else 0');
    for (const c of candidates) {
      expect(c.testFile).toMatch(/^tests\/test_suture_[0-9a-f]{12}\.py$/);
      expect(addedPaths(c.patch)).toEqual([c.testFile]);
      expect(patchedPaths(c.patch)).toEqual(expect.arrayContaining(['calc.py', c.testFile]));
    }
  });

  it('leaves a division inside a string or comment alone', async () => {
    const src = 'def f(x):\n    print("a/b", g(1 / x))  # 1/2\n';
    const { candidates } = await diagnose(
      context(pyTrace(2, 'print("a/b", g(1 / x))  # 1/2', 'f'), { 'calc.py': src }, py),
    );
    expect(candidates.length).toBeGreaterThan(0);
    for (const c of candidates) {
      const body = bodyOf(c.patch, 'calc.py');
      expect(body).not.toMatch(/^\+.*"a\/b" (if|!=)/m);
      expect(body).not.toMatch(/^\+.*# 1\/2 (if|!=)/m);
    }
    expect(candidates.find((c) => c.strategy === 'template:zero-division:default')!.patch).toContain(
      '+    print("a/b", g(1 / x if x != 0 else 0))  # 1/2',
    );
  });
});

describe('undefined in JavaScript', () => {
  const nodeTrace = (prop: string, col: number) =>
    `TypeError: Cannot read properties of undefined (reading '${prop}')\n    at rate (file:///app/orders.js:2:${col})\n    at node:internal/process/task_queues:95:5`;

  it('makes the failing access optional, nearest the column, and leaves the other one alone', async () => {
    const src = 'export function rate(o) {\n  return o.shipping.address.country + o.billing.address.country;\n}\n';
    const col = src.split('\n')[1]!.indexOf('.country') + 2;
    const { candidates } = await diagnose(
      context(nodeTrace('country', col), { 'orders.js': src, 'test/a.test.js': '' }, node),
    );
    const fix = candidates.find((c) => c.strategy === 'template:nullish:optional-chain')!;
    expect(fix.patch).toContain('+  return o.shipping.address?.country + o.billing.address.country;');
    expect(fix.testFile).toMatch(/^test\/suture-[0-9a-f]{12}\.test\.mjs$/);
  });

  it('handles bracket access and leaves already-optional access alone', async () => {
    const src = "// orders\nconst f = (o) => o.a?.['b'] ?? o.c['b'];\n";
    const col = src.split('\n')[1]!.lastIndexOf("['b']") + 1;
    const logs = `TypeError: Cannot read properties of undefined (reading 'b')\n    at f (file:///app/orders.js:2:${col})`;
    const { candidates } = await diagnose(context(logs, { 'orders.js': src }, node));
    expect(candidates[0]!.patch).toContain("+const f = (o) => o.a?.['b'] ?? o.c?.['b'];");
  });
});

describe('missing keys in Python', () => {
  const keyTrace = (line: number, code: string, key = "'coupon'") => pyTrace(line, code, 'price', `KeyError: ${key}`);

  it('reads the missing key with .get() and never touches the assignment target', async () => {
    const src = 'def price(order):\n    order["coupon"] = order["coupon"] or order["coupons"][0]\n    return order\n';
    const { candidates } = await diagnose(
      context(keyTrace(2, 'order["coupon"] = order["coupon"] or order["coupons"][0]'), { 'calc.py': src }, py),
    );
    const get = candidates.find((c) => c.strategy === 'template:missing-key:get')!;
    expect(get.patch).toContain('+    order["coupon"] = order.get("coupon") or order["coupons"][0]');
  });

  it('proposes nothing on a line without the key', async () => {
    const src = 'def price(order):\n    return order.total\n';
    expect((await diagnose(context(keyTrace(2, 'return order.total'), { 'calc.py': src }, py))).candidates).toEqual([]);
  });
});

describe('the revision that crashed', () => {
  it('refuses to patch when the repo line differs from the line the trace quotes', async () => {
    const src = 'def avg(xs):\n    total = sum(xs)\n    return total / max(len(xs), 1)\n';
    const { candidates, diagnosis } = await diagnose(
      context(pyTrace(3, 'return total / len(xs)', 'avg'), { 'calc.py': src }, py),
    );
    expect(candidates).toEqual([]);
    expect(diagnosis.notes.join('\n')).toMatch(/differs from the line in the trace/);
  });
});

describe('patches and test commands', () => {
  it('writes diffs git accepts for new and changed files, without trailing newline too', () => {
    const p = makeGitPatch([
      { path: 'a.txt', before: 'one\ntwo', after: 'one\nTWO' },
      { path: 'dir/new.txt', after: 'x\n' },
    ]);
    expect(p).toContain(
      'diff --git a/dir/new.txt b/dir/new.txt\nnew file mode 100644\n--- /dev/null\n+++ b/dir/new.txt\n@@ -0,0 +1 @@\n+x',
    );
    expect(p).toContain('\\ No newline at end of file');
  });
  it('runs one regression test with the repo runner', () => {
    expect(singleTestCommand(py, 'tests/test_x.py')).toBe("python3 -m pytest -q 'tests/test_x.py'");
    expect(singleTestCommand(node, "test/it's.test.mjs")).toBe(`node --test 'test/it'\\''s.test.mjs'`);
  });
});

describe('what regression tests may carry', () => {
  it('drops credential headers and redacts secrets in the committed request', async () => {
    const ctx = context(
      pyTrace(3, 'return total / len(xs)', 'avg'),
      { 'calc.py': 'def avg(xs):\n    total = sum(xs)\n    return total / len(xs)\n' },
      py,
    );
    ctx.incident.requests = [
      {
        method: 'POST',
        path: '/x',
        headers: { Authorization: 'Bearer abc.def.ghi', Cookie: 'sid=1', 'content-type': 'application/json' },
        body: '{"password": "hunter2hunter2", "items": []}',
      },
    ];
    const { candidates } = await diagnose(ctx);
    const patch = candidates[0]!.patch;
    expect(patch).toContain('content-type');
    expect(patch).not.toMatch(/Bearer abc|sid=1|hunter2/);
    expect(patch).toContain('[REDACTED:');
  });
});
