import { describe, expect, it } from 'vitest';
import type { ServiceConfig } from '../../src/config/service.ts';
import { diagnose } from '../../src/diagnose/index.ts';
import { addedPaths, makeGitPatch, patchedPaths } from '../../src/diagnose/patch.ts';
import { singleTestCommand } from '../../src/diagnose/regression-test.ts';
import type { RepairContext } from '../../src/diagnose/types.ts';
import { buildIncident } from '../../src/incident/intake.ts';
import { node, py } from './configs.ts';

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

const pyTrace = (line: number, code: string, fn = 'avg') =>
  `Traceback (most recent call last):\n  File "/srv/svc/calc.py", line ${line}, in ${fn}\n    ${code}\nZeroDivisionError: division by zero\n`;

describe('zero-division template', () => {
  it('guards a returned division with an early return', async () => {
    const src = 'def avg(xs):\n    total = sum(xs)\n    return total / len(xs)\n';
    const { candidates, diagnosis } = await diagnose(
      context(pyTrace(3, 'return total / len(xs)'), { 'calc.py': src, 'tests/test_calc.py': '' }, py),
    );
    expect(diagnosis).toMatchObject({
      classification: 'code-defect',
      location: { file: 'calc.py', line: 3, function: 'avg' },
    });
    expect(candidates).toHaveLength(1);
    const c = candidates[0]!;
    expect(c.strategy).toBe('template:zero-division');
    expect(c.patch).toContain('+    if len(xs) == 0:\n+        return 0\n     return total / len(xs)');
    expect(c.testFile).toMatch(/^tests\/test_suture_[0-9a-f]{12}\.py$/);
    expect(addedPaths(c.patch)).toEqual([c.testFile]);
    expect(patchedPaths(c.patch)).toEqual(expect.arrayContaining(['calc.py', c.testFile]));
  });

  it('turns an assignment into if/else, keeping the original statement', async () => {
    const src = 'def ratio(a, b):\n    r = a // (b - 1)\n    return r\n';
    const { candidates } = await diagnose(context(pyTrace(2, 'r = a // (b - 1)', 'ratio'), { 'calc.py': src }, py));
    expect(candidates[0]!.patch).toContain(
      '+    if (b - 1) == 0:\n+        r = 0\n+    else:\n+        r = a // (b - 1)',
    );
  });

  it('ignores a division inside a string or comment and declines shapes it cannot fix safely', async () => {
    const src = 'def f(x):\n    print("a/b", g(1 / x))  # 1/2\n';
    const { candidates } = await diagnose(context(pyTrace(2, 'print("a/b", g(1 / x))', 'f'), { 'calc.py': src }, py));
    expect(candidates).toEqual([]);
  });
});

describe('optional-chaining template', () => {
  const nodeTrace = (prop: string, col: number) =>
    `TypeError: Cannot read properties of undefined (reading '${prop}')\n    at rate (file:///app/orders.js:2:${col})\n    at node:internal/process/task_queues:95:5`;

  it('makes only the failing access optional, nearest the column', async () => {
    const src = 'export function rate(o) {\n  return o.shipping.address.country + o.billing.address.country;\n}\n';
    const col = src.split('\n')[1]!.indexOf('.country') + 1;
    const { candidates } = await diagnose(
      context(nodeTrace('country', col), { 'orders.js': src, 'test/a.test.js': '' }, node),
    );
    expect(candidates).toHaveLength(1);
    expect(candidates[0]!.patch).toContain('+  return o.shipping.address?.country + o.billing.address.country;');
    expect(candidates[0]!.testFile).toMatch(/^test\/suture-[0-9a-f]{12}\.test\.mjs$/);
  });

  it('handles bracket access and leaves already-optional access alone', async () => {
    const src = "// orders\nconst f = (o) => o.a?.['b'] ?? o.c['b'];\n";
    const { candidates } = await diagnose(context(nodeTrace('b', 30), { 'orders.js': src }, node));
    expect(candidates[0]!.patch).toContain("+const f = (o) => o.a?.['b'] ?? o.c?.['b'];");
  });
});

describe('classification', () => {
  it('a dependency failure is escalated with no candidates', async () => {
    const logs =
      'Traceback (most recent call last):\n  File "/srv/svc/calc.py", line 2, in f\n    x\nConnectionRefusedError: [Errno 111] Connection refused\n';
    const { diagnosis, candidates } = await diagnose(context(logs, { 'calc.py': 'a\nb\n' }, py));
    expect(diagnosis.classification).toBe('dependency-failure');
    expect(candidates).toEqual([]);
  });
  it('a crash entirely outside the repo is unknown', async () => {
    const logs =
      'Traceback (most recent call last):\n  File "/usr/lib/python3.11/json/decoder.py", line 2, in f\n    x\nZeroDivisionError: division by zero\n';
    const { diagnosis } = await diagnose(context(logs, { 'calc.py': '' }, py));
    expect(diagnosis.classification).toBe('unknown');
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
      pyTrace(3, 'return total / len(xs)'),
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

describe('dict-get template', () => {
  const keyTrace = (line: number, code: string, key = "'coupon'") =>
    `Traceback (most recent call last):\n  File "/srv/svc/calc.py", line ${line}, in price\n    ${code}\nKeyError: ${key}\n`;

  it('reads the missing key with .get() on the crashing line, leaving assignments alone', async () => {
    const src = 'def price(order):\n    order["coupon"] = order["coupon"] or order["coupons"][0]\n    return order\n';
    const { candidates } = await diagnose(context(keyTrace(2, 'x'), { 'calc.py': src }, py));
    expect(candidates).toHaveLength(1);
    expect(candidates[0]!.strategy).toBe('template:dict-get');
    expect(candidates[0]!.patch).toContain('+    order["coupon"] = order.get("coupon") or order["coupons"][0]');
  });

  it('declines non-string keys and lines without the subscript', async () => {
    const src = 'def price(order):\n    return order[0]\n';
    expect((await diagnose(context(keyTrace(2, 'x', '0'), { 'calc.py': src }, py))).candidates).toEqual([]);
    expect((await diagnose(context(keyTrace(2, 'x'), { 'calc.py': src }, py))).candidates).toEqual([]);
  });
});
