/**
 * Incident data in generated code (issue 8, finding 1: incident text became code). It enters only as the
 * argument of a JSON parser, written by a real serialiser: `json.loads(L)` in Python, `JSON.parse(L)` in
 * JavaScript, where L is one double-quoted string literal holding the value's JSON text.
 *
 * L is pure printable ASCII: every character outside 0x20–0x7e is escaped (\uXXXX, surrogate pairs as two
 * escapes, which both JSON parsers join back), so no line terminator (\n, \r, U+2028, U+2029, U+0085),
 * NUL, bidi control or encoding question can reach the source file. Inside L the only escapes are \" and
 * \\, which Python and JavaScript string literals read exactly as JSON does.
 */

/** The value's JSON text with every non-ASCII and control character escaped: the same value, printable ASCII. */
export function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  if (json === undefined) throw new TypeError('not a JSON value');
  return json.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A string literal, valid and identical in Python and JavaScript, whose value is the value's JSON text. */
export function jsonStringLiteral(value: unknown): string {
  return JSON.stringify(asciiJson(value));
}
