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
  /^\s*(async\s+)?def\s+test_\w+|^\s*func\s+Test\w+|^\s*(it|test|describe)\s*\(|^\s*@Test\b|^\s*(it|describe|context)\s+['"]/;
const SKIP =
  /@pytest\.mark\.(skip|skipif|xfail)\b|@unittest\.(skip|expectedFailure)\b|\bpytest\.(skip|xfail)\(|\b(it|test|describe)\.(skip|todo|only)\s*\(|\b(xit|xtest|xdescribe|fit|fdescribe)\s*\(|\bt\.Skip(Now|f)?\(|@(Disabled|Ignore)\b|\bskip\s*\(\s*['"]/;

function clip(text: string): string {
  const t = text.trim();
  return t.length > 120 ? t.slice(0, 117) + '...' : t;
}

export function removedAssertions(path: string, removed: NumberedLine[]): LineFact[] {
  return removed
    .filter((l) => !/^\s*(#|\/\/)/.test(l.text) && (ASSERTION.test(l.text) || TEST_DEFINITION.test(l.text)))
    .map((l) => ({ path, line: l.line, text: clip(l.text) }));
}

export function addedSkips(path: string, added: NumberedLine[]): LineFact[] {
  return added.filter((l) => SKIP.test(l.text)).map((l) => ({ path, line: l.line, text: clip(l.text) }));
}
