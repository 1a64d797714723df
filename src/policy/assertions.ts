/**
 * Test weakening in a change: assertions and test definitions that disappear from a test file, and skip /
 * focus markers (which silently stop other tests) that appear. Covers Python, JavaScript/TypeScript, Go,
 * Java and Ruby idioms.
 */
import type { NumberedLine } from './lines.ts';
import type { LineFact } from './types.ts';

const ASSERTION =
  /\bassert\w*\b|\bexpect\s*\(|\.should\b|\bt\.(Error|Errorf|Fatal|Fatalf|Fail|FailNow)\b|\brequire\.\w+\(|\bpytest\.raises\b|\bself\.fail\(|\.to(Be|Equal|StrictEqual|Throw|Match|Have|Contain)\w*\(|\.rejects\b|\.resolves\b/;
const TEST_DEFINITION =
  /^\s*(async\s+)?def\s+test_?\w*|^\s*class\s+Test\w*|^\s*func\s+(Test|Benchmark|Fuzz|Example)\w*|^\s*(it|test|describe|context|specify|suite)(\s*\.\s*\w+)*\s*[(`]|^\s*@(Test|ParameterizedTest|RepeatedTest|TestFactory)\b|^\s*(it|describe|context)\s+['"]/;

/**
 * Markers that stop tests from running or from failing, by any alias of the runner module (`p.mark.skip`,
 * `from pytest import mark`), per runner: pytest/unittest, jest/vitest/mocha/node:test/playwright, Go,
 * JUnit, RSpec, plus leaving the process early (an exit code of 0 before the failures are reported).
 */
const SKIPS: RegExp[] = [
  // pytest and unittest
  /\bmark\s*\.\s*(skip|skipif|xfail)\b/,
  /^\s*@\s*\(?\s*[\w.]*\b(skip|skipIf|skipUnless|expectedFailure)\b/,
  /\b(pytest|py\.test)\s*\.\s*(skip|xfail|exit|importorskip)\b|\bimportorskip\b/,
  /\b(SkipTest|skipTest)\b|\b__test__\s*=|\bcollect_ignore(_glob)?\b/,
  /\b(os\s*\.\s*_exit|sys\s*\.\s*exit)\s*\(|\braise\s+SystemExit\b/,
  // jest, vitest, mocha, jasmine, node:test, playwright
  /\b(it|test|describe|suite|context|specify|bench)(\s*\.\s*\w+)*?\s*\.\s*(skip|only|todo|fixme|fails|failing|skipIf|runIf)\b/,
  /\b(xit|xtest|xdescribe|xcontext|xspecify|xsuite|fit|ftest|fdescribe)\s*[(.]/,
  /[{,]\s*(skip|todo|only)\s*:\s*(?!false\b)/,
  /\b(t|ctx|context|this)\s*\.\s*(skip|todo)\s*\(/,
  /\bprocess\s*\.\s*(exit|abort|reallyExit)\s*\(|\bprocess\s*\.\s*exitCode\s*=|\bprocess\s*\.\s*kill\s*\(\s*process\s*\.\s*pid\b/,
  // Go: t.Skip and build constraints that drop the file from the build
  /\.\s*Skip(Now|f)?\s*\(|^\s*\/\/\s*(go:build|\+build)\b/,
  // JUnit, RSpec and the generic skip("reason")
  /@(Disabled\w*|Ignore|EnabledIf\w*|EnabledOn\w*)\b|\bAssum(e|ptions)\s*\.\s*assume\w*\s*\(|\bassume(True|False|That)\s*\(/,
  /^\s*(skip|pending)\b|\bskip\s*\(\s*['"]/,
];

function clip(text: string): string {
  const t = text.trim();
  return t.length > 120 ? t.slice(0, 117) + '...' : t;
}

export function removedAssertions(path: string, removed: NumberedLine[]): LineFact[] {
  return removed
    .filter((l) => !/^\s*(#|\/\/)/.test(l.text) && (ASSERTION.test(l.text) || TEST_DEFINITION.test(l.text)))
    .map((l) => ({ path, line: l.line, text: clip(l.text) }));
}

/** A bare return added to an existing test file ends a test before its checks run. */
const EARLY_RETURN = /^\s*return\s*(None)?\s*;?\s*((#|\/\/).*)?$/;

/** Skip markers among ADDED lines of a test file; EXISTED says the file was there before (early returns). */
export function addedSkips(path: string, added: NumberedLine[], existed = false): LineFact[] {
  return added
    .filter((l) => SKIPS.some((re) => re.test(l.text)) || (existed && EARLY_RETURN.test(l.text)))
    .map((l) => ({ path, line: l.line, text: clip(l.text) }));
}
