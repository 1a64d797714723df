/**
 * Everything a command prints on stdout goes through here, redacted: results quote exception messages,
 * test output, request data and policy messages, all of which may carry a secret from the incident or the
 * repository. JSON is redacted value by value (`redactDeep`), text line by line, each line kept to one line.
 */
import { redact, redactDeep } from '../evidence/redact.ts';

/** One JSON document (pretty with `indent`, else one line). */
export function printJson(value: unknown, indent?: number): void {
  process.stdout.write(`${JSON.stringify(redactDeep(value), null, indent)}\n`);
}

/** Text lines; a newline inside one cannot forge another. */
export function printLines(lines: string[]): void {
  process.stdout.write(redact(lines.map((l) => `${l.replace(/[\r\n]+/g, ' ')}\n`).join('')).text);
}

/** `--json` prints the value as one document, otherwise the text lines. */
export function emit(json: boolean | undefined, value: unknown, lines: () => string[]): void {
  if (json) printJson(value, 2);
  else printLines(lines());
}
