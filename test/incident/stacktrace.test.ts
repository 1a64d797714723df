import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  findNodeTraces,
  findPythonTraces,
  parseNodeStack,
  parsePythonTraceback,
} from '../../src/incident/stacktrace/index.ts';
import type { ParsedTrace } from '../../src/incident/types.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../fixtures/traces', name), 'utf8');
const innermost = (t: ParsedTrace | undefined) => t?.frames.at(-1);

describe('parsePythonTraceback', () => {
  it('parses a 3.11 traceback and does not take caret lines for code', () => {
    const t = parsePythonTraceback(fixture('py311-zero-division-carets.txt'))!;
    expect(t.language).toBe('python');
    expect(t.exceptionType).toBe('ZeroDivisionError');
    expect(t.message).toBe('division by zero');
    expect(t.frames).toHaveLength(3);
    expect(t.frames[0]).toEqual({
      file: '/srv/pricing-api/t1.py',
      line: 2,
      function: '<module>',
      code: 'quote({"items": [1, 2], "discounts": []})',
      external: false,
    });
    expect(innermost(t)).toEqual({
      file: '/srv/pricing-api/pricing.py',
      line: 6,
      function: 'average_discount',
      code: 'return round(total / len(discounts), 2)',
      external: false,
    });
    expect(t.frames.map((f) => f.code).join('\n')).not.toMatch(/[~^]{3}/);
    expect(t.cause).toBeUndefined();
  });

  it('links "raise … from" chains: the last printed exception is the outer one', () => {
    const t = parsePythonTraceback(fixture('py311-chained-cause.txt'))!;
    expect(t.exceptionType).toBe('ValueError');
    expect(t.message).toBe("bad request body: '{not json'");
    expect(t.frames.map((f) => f.function)).toEqual(['<module>', 'parse_body']);
    expect(innermost(t)).toMatchObject({ file: '/srv/pricing-api/pricing.py', line: 19 });
    const cause = t.cause!;
    expect(cause.exceptionType).toBe('json.decoder.JSONDecodeError');
    expect(cause.message).toBe('Expecting property name enclosed in double quotes: line 1 column 2 (char 1)');
    expect(cause.frames).toHaveLength(4);
    expect(cause.frames.map((f) => f.external)).toEqual([false, true, true, true]);
    expect(innermost(cause)).toMatchObject({
      file: '/usr/local/lib/python3.11/json/decoder.py',
      line: 353,
      function: 'raw_decode',
    });
    expect(cause.cause).toBeUndefined();
  });

  it('links "During handling …" chains', () => {
    const t = parsePythonTraceback(fixture('py311-chained-context.txt'))!;
    expect(t.exceptionType).toBe('KeyError');
    expect(t.message).toBe("'default'");
    expect(innermost(t)).toMatchObject({ line: 27, function: 'load_rates', code: 'return {}["default"]' });
    expect(t.cause?.exceptionType).toBe('FileNotFoundError');
    expect(t.cause?.message).toBe("[Errno 2] No such file or directory: '/nonexistent/rates.json'");
    expect(t.cause?.frames).toEqual([
      {
        file: '/srv/pricing-api/pricing.py',
        line: 24,
        function: 'load_rates',
        code: 'with open(path) as fh:',
        external: false,
      },
    ]);
  });

  it('keeps dotted exception names, <lambda> frames, and marks site-packages external', () => {
    const t = parsePythonTraceback(fixture('py311-site-packages-lambda.txt'))!;
    expect(t.exceptionType).toBe('requests.exceptions.ConnectionError');
    expect(t.message).toMatch(/^HTTPConnectionPool\(host='rates.internal', port=8080\): Max retries exceeded/);
    expect(t.frames.map((f) => [f.function, f.external])).toEqual([
      ['<module>', false],
      ['refresh', false],
      ['<lambda>', false],
      ['get', true],
      ['send', true],
    ]);
    expect(innermost(t)?.file).toBe('/venv/lib/python3.11/site-packages/requests/adapters.py');
  });

  it('keeps a multi-line message whole', () => {
    const t = parsePythonTraceback(fixture('py311-multiline-message.txt'))!;
    expect(t.exceptionType).toBe('PricingError');
    expect(t.message).toBe('no price for Z-9\nknown skus: A-1, B-2\nhint: reload the catalogue');
    expect(t.frames).toHaveLength(2);
  });

  it('parses an exception group with its first sub-exception as the cause', () => {
    const found = findPythonTraces(fixture('py311-exception-group.txt'));
    expect(found).toHaveLength(1);
    const t = found[0]!.trace;
    expect(t.exceptionType).toBe('ExceptionGroup');
    expect(t.message).toBe('validation failed (2 sub-exceptions)');
    expect(t.frames.map((f) => [f.function, f.line])).toEqual([
      ['<module>', 12],
      ['main', 11],
    ]);
    expect(t.cause?.exceptionType).toBe('ValueError');
    expect(t.cause?.message).toBe('negative: -1');
    expect(innermost(t.cause)).toMatchObject({ function: 'validate', line: 3 });
  });

  it('marks stdlib, dist-packages and frozen/string frames external', () => {
    const text = [
      'Traceback (most recent call last):',
      '  File "<string>", line 1, in <module>',
      '  File "<frozen runpy>", line 198, in _run_module_as_main',
      '  File "/usr/lib/python3.11/http/server.py", line 432, in handle_one_request',
      '    method()',
      '  File "/usr/lib/python3/dist-packages/yaml/__init__.py", line 81, in load',
      '    return loader.get_single_data()',
      '  File "/srv/cart-api/cart.py", line 40, in handler',
      '    return totals[key]',
      'KeyError: 3',
    ].join('\n');
    const t = parsePythonTraceback(text)!;
    expect(t.frames.map((f) => f.external)).toEqual([true, true, true, true, false]);
    expect(t.frames[0]!.code).toBeUndefined();
    expect(innermost(t)).toMatchObject({ file: '/srv/cart-api/cart.py', line: 40, code: 'return totals[key]' });
  });

  it('handles bare exception names, SyntaxError blocks and recursion markers', () => {
    const bare = parsePythonTraceback(
      'Traceback (most recent call last):\n  File "/app/w.py", line 9, in run\n    time.sleep(1)\nKeyboardInterrupt\n',
    )!;
    expect(bare).toMatchObject({ exceptionType: 'KeyboardInterrupt', message: '' });

    const syntax = parsePythonTraceback(
      [
        'Traceback (most recent call last):',
        '  File "/app/main.py", line 1, in <module>',
        '    import handlers',
        '  File "/app/handlers.py", line 3',
        '    def f(:',
        '          ^',
        'SyntaxError: invalid syntax',
      ].join('\n'),
    )!;
    expect(syntax.exceptionType).toBe('SyntaxError');
    expect(innermost(syntax)).toEqual({ file: '/app/handlers.py', line: 3, code: 'def f(:', external: false });

    const recursion = parsePythonTraceback(
      [
        'Traceback (most recent call last):',
        '  File "/app/r.py", line 2, in f',
        '    return f(n + 1)',
        '           ^^^^^^^^',
        '  [Previous line repeated 996 more times]',
        'RecursionError: maximum recursion depth exceeded',
      ].join('\n'),
    )!;
    expect(recursion.exceptionType).toBe('RecursionError');
    expect(recursion.frames).toHaveLength(1);
  });

  it('stops a message at the next log record', () => {
    const t = parsePythonTraceback(
      'Traceback (most recent call last):\n  File "/app/a.py", line 1, in <module>\n    x()\nNameError: name \'x\' is not defined\n2026-11-23 04:00:01,002 INFO next request\n',
    )!;
    expect(t.message).toBe("name 'x' is not defined");
  });

  it('ignores terminal colour codes (Python 3.13 on a tty)', () => {
    const coloured = fixture('py311-zero-division-carets.txt')
      .replace('ZeroDivisionError', '\x1b[1;35mZeroDivisionError\x1b[0m')
      .replace('"/srv/pricing-api/pricing.py"', '\x1b[35m"/srv/pricing-api/pricing.py"\x1b[0m');
    const t = parsePythonTraceback(coloured)!;
    expect(t.exceptionType).toBe('ZeroDivisionError');
    expect(innermost(t)).toMatchObject({ file: '/srv/pricing-api/pricing.py', line: 6 });
  });

  it('finds several independent tracebacks in one text', () => {
    const text = `${fixture('py311-zero-division-carets.txt')}127.0.0.1 - - [23/Nov/2026 04:10:02] "POST /quote HTTP/1.1" 500 -\n${fixture('py311-chained-context.txt')}`;
    const found = findPythonTraces(text);
    expect(found.map((f) => f.trace.exceptionType)).toEqual(['ZeroDivisionError', 'KeyError']);
    expect(found[1]!.trace.cause?.exceptionType).toBe('FileNotFoundError');
    expect(found[0]!.start).toBe(0);
    expect(found[0]!.end).toBe(10);
  });

  it('reads a plain line right after the exception line as part of its message (it cannot tell)', () => {
    const t = parsePythonTraceback(`${fixture('py311-zero-division-carets.txt')}retrying in 5s\n\nnext`)!;
    expect(t.message).toBe('division by zero\nretrying in 5s');
  });

  it('returns undefined for text without a traceback, and never throws on garbage', () => {
    expect(parsePythonTraceback('')).toBeUndefined();
    expect(parsePythonTraceback('ZeroDivisionError: division by zero')).toBeUndefined();
    expect(parsePythonTraceback('Traceback (most recent call last):\n')).toBeUndefined();
    expect(
      parsePythonTraceback('Traceback (most recent call last):\n  File "x", line NaN\n\u0000\u0001'),
    ).toBeUndefined();
    // A truncated traceback still yields its frames.
    const truncated = parsePythonTraceback('Traceback (most recent call last):\n  File "/app/a.py", line 4, in go\n');
    expect(truncated).toMatchObject({ exceptionType: 'UnknownError', frames: [{ file: '/app/a.py', line: 4 }] });
  });
});

describe('parseNodeStack', () => {
  for (const version of ['20', '24']) {
    it(`parses a Node ${version} TypeError, skipping the source excerpt above it`, () => {
      const t = parseNodeStack(fixture(`node${version}-type-error-cjs.txt`))!;
      expect(t.language).toBe('node');
      expect(t.exceptionType).toBe('TypeError');
      expect(t.message).toBe("Cannot read properties of undefined (reading 'city')");
      expect(t.frames).toHaveLength(version === '20' ? 8 : 9);
      expect(innermost(t)).toEqual({
        file: '/app/orders.js',
        line: 4,
        column: 33,
        function: 'shippingCity',
        external: false,
      });
      expect(t.frames.at(-2)).toMatchObject({ file: '/app/n1.js', function: 'Object.<anonymous>', external: false });
      expect(t.frames[0]).toMatchObject({ file: 'node:internal/main/run_main_module', function: '<anonymous>' });
      expect(t.frames.slice(0, -2).every((f) => f.external)).toBe(true);
    });
  }

  it('parses `at async` and `at new` frames, outermost first', () => {
    const t = parseNodeStack(fixture('node20-async-new.txt'))!;
    expect(t.message).toBe("Cannot read properties of undefined (reading 'collection')");
    expect(t.frames).toEqual([
      { file: '/app/n2.js', line: 10, column: 3, function: 'main', async: true, external: false },
      { file: '/app/n2.js', line: 6, column: 16, function: 'loadOrder', external: false },
      { file: '/app/n2.js', line: 2, column: 37, function: 'new Repo', external: false },
    ]);
  });

  it('parses anonymous frames, <anonymous> natives and node_modules frames', () => {
    const t = parseNodeStack(fixture('node20-anonymous-node-modules.txt'))!;
    expect(t.frames).toHaveLength(10);
    expect(t.frames.slice(-4)).toEqual([
      { file: '/app/n3.js', line: 3, column: 1, function: 'Object.<anonymous>', external: false },
      { file: '/app/node_modules/fastlib/index.js', line: 3, column: 18, function: 'dispatch', external: true },
      { file: '<anonymous>', function: 'Array.map', external: true },
      { file: '/app/n3.js', line: 2, column: 41, function: '<anonymous>', external: false },
    ]);
  });

  for (const version of ['20', '24']) {
    it(`parses Node ${version} ESM file URLs and an inspected [cause]`, () => {
      const t = parseNodeStack(fixture(`node${version}-esm-cause.txt`))!;
      expect(t.exceptionType).toBe('Error');
      expect(t.message).toBe('cannot load config /app/config/missing.json');
      expect(t.frames.map((f) => [f.file, f.line, f.function])).toEqual([
        ['node:internal/modules/run_main', version === '20' ? 117 : 101, 'asyncRunEntryPointWithESMLoader'],
        ['/usr/src/app/n4.mjs', 9, '<anonymous>'],
        ['/usr/src/app/n4.mjs', 6, 'loadConfig'],
      ]);
      const cause = t.cause!;
      expect(cause.exceptionType).toBe('Error');
      expect(cause.message).toBe("ENOENT: no such file or directory, open '/app/config/missing.json'");
      expect(cause.frames).toHaveLength(6);
      expect(innermost(cause)).toMatchObject({ file: 'node:fs', function: 'readFileSync', external: true });
      expect(cause.frames.at(-2)).toMatchObject({ file: '/usr/src/app/n4.mjs', line: 4, column: 23, external: false });
    });
  }

  it('parses `Name [CODE]: message` headers, ignoring the node:internal excerpt and the property block', () => {
    const found = findNodeTraces(fixture('node20-err-code.txt'));
    expect(found).toHaveLength(1);
    const t = found[0]!.trace;
    expect(t.exceptionType).toBe('TypeError');
    expect(t.message).toMatch(/^The "path" argument must be of type string/);
    expect(innermost(t)).toMatchObject({ file: 'node:fs', function: 'Object.openSync', external: true });
    expect(t.frames.at(-3)).toMatchObject({ file: '/app/n5.js', line: 3, function: 'readTemplate', external: false });
    expect(t.cause).toBeUndefined();
  });

  it('keeps a message with blank lines (node:assert) and its [ERR_ASSERTION] header', () => {
    const t = parseNodeStack(fixture('node20-assert-blank-lines.txt'))!;
    expect(t.exceptionType).toBe('AssertionError');
    expect(t.message).toBe('Expected values to be strictly equal:\n\n1 !== 2');
    expect(t.frames).toHaveLength(8);
    expect(innermost(t)).toEqual({ file: '/app/n7.js', line: 3, column: 10, function: 'checkTotal', external: false });
  });

  it('keeps custom error names and multi-line messages', () => {
    const t = parseNodeStack(fixture('node20-custom-multiline.txt'))!;
    expect(t.exceptionType).toBe('ValidationError');
    expect(t.message).toBe('order is invalid:\n- quantity must be > 0\n- sku is required');
    expect(innermost(t)).toMatchObject({ file: '/app/n6.js', line: 5, function: 'validate' });
    expect(t.frames[0]).toMatchObject({ file: 'node:internal/timers', external: true });
  });

  it('parses `Uncaught`, `at <anonymous>`, Windows paths, eval frames and pino `caused by:`', () => {
    const t = parseNodeStack(
      [
        'Uncaught RangeError: Invalid array length',
        '    at <anonymous>',
        '    at eval (eval at run (/app/vm.js:4:3), <anonymous>:1:1)',
        '    at run (C:\\srv\\orders\\vm.js:4:3)',
        '    at async Promise.all (index 0)',
        'caused by: Error: quota exceeded',
        '    at check (/app/quota.js:9:11)',
      ].join('\n'),
    )!;
    expect(t.exceptionType).toBe('RangeError');
    expect(t.message).toBe('Invalid array length');
    expect(t.frames.map((f) => [f.file, f.line, f.function])).toEqual([
      ['<anonymous>', undefined, 'Promise.all'],
      ['C:\\srv\\orders\\vm.js', 4, 'run'],
      ['<anonymous>', 1, 'eval'],
      ['<anonymous>', undefined, '<anonymous>'],
    ]);
    expect(t.cause).toMatchObject({
      exceptionType: 'Error',
      message: 'quota exceeded',
      frames: [{ file: '/app/quota.js', line: 9, column: 11, function: 'check' }],
    });
  });

  it('ignores terminal colour codes', () => {
    const t = parseNodeStack('\x1b[31mTypeError: boom\x1b[39m\n\x1b[90m    at f (/app/a.js:1:2)\x1b[39m')!;
    expect(t).toMatchObject({ exceptionType: 'TypeError', message: 'boom', frames: [{ file: '/app/a.js', line: 1 }] });
  });

  it('converts percent-encoded file URLs to paths', () => {
    const t = parseNodeStack('Error: x\n    at f (file:///srv/my%20app/a.mjs:1:2)')!;
    expect(innermost(t)).toMatchObject({ file: '/srv/my app/a.mjs', line: 1, column: 2, external: false });
  });

  it('returns undefined without frames, ignores prose that starts with "at", and survives garbage', () => {
    expect(parseNodeStack('')).toBeUndefined();
    expect(parseNodeStack("TypeError: Cannot read properties of undefined (reading 'x')")).toBeUndefined();
    expect(parseNodeStack('We met\n  at the office\n  at noon')).toBeUndefined();
    expect(parseNodeStack('{\n  at: 1\n}\n\u0000    at (')).toBeUndefined();
    // Frames without a header still parse (a log that lost the first line).
    const headless = parseNodeStack('    at f (/app/a.js:1:2)')!;
    expect(headless.frames).toHaveLength(1);
  });

  it('finds several stacks in one text, each with its own header', () => {
    const text = `${fixture('node20-async-new.txt')}\nlater\n${fixture('node20-custom-multiline.txt')}`;
    const found = findNodeTraces(text);
    expect(found.map((f) => f.trace.exceptionType)).toEqual(['TypeError', 'ValidationError']);
  });
});
