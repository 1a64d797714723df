/**
 * The GitHub Actions runner's file commands and workflow commands, as the runner reads them (what
 * @actions/core writes; not a dependency for a few lines). Pure: each returns the text to append.
 *
 * - Outputs go to the file named by GITHUB_OUTPUT, always as a heredoc `name<<DELIM\nvalue\nDELIM\n` with a
 *   random delimiter: a value may hold newlines or `=`, and a value that could end the block early (it
 *   contains the delimiter) is refused rather than written — the runner would read the rest as other
 *   outputs.
 * - The job summary is Markdown appended to GITHUB_STEP_SUMMARY; the runner takes at most 1 MiB per step.
 * - `::error::msg` on stdout makes an annotation; `%`, CR and LF in it are escaped as the runner expects.
 */
import { randomUUID } from 'node:crypto';

/** The runner rejects a step summary over 1 MiB. */
export const SUMMARY_LIMIT = 1024 * 1024;

const NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

export function outputCommand(name: string, value: string, delimiter = `ghadelimiter_${randomUUID()}`): string {
  if (!NAME.test(name)) throw new Error(`not an output name: ${name}`);
  if (name.includes(delimiter) || value.includes(delimiter)) {
    throw new Error(`the value of output ${name} contains its delimiter`);
  }
  return `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
}

function escapeData(s: string): string {
  return s.replaceAll('%', '%25').replaceAll('\r', '%0D').replaceAll('\n', '%0A');
}

/** A workflow command line (`::error::…`, `::warning::…`, `::notice::…`): one line whatever the message. */
export function annotation(kind: 'error' | 'warning' | 'notice', message: string): string {
  return `::${kind}::${escapeData(message)}\n`;
}

/**
 * Markdown for the job summary, within the runner's limit: cut at a line boundary with a note saying where
 * the whole report is.
 */
export function summaryText(markdown: string, whole: string, limit = SUMMARY_LIMIT): string {
  const text = markdown.endsWith('\n') ? markdown : `${markdown}\n`;
  if (Buffer.byteLength(text) <= limit) return text;
  const note = `\n\n_The report was cut to fit the job summary; the whole report: \`${whole}\`._\n`;
  const room = limit - Buffer.byteLength(note);
  let cut = Buffer.from(text).subarray(0, room).toString('utf8');
  // A multi-byte character split at the boundary decodes as U+FFFD: drop it with the partial line.
  cut = cut.slice(0, Math.max(0, cut.lastIndexOf('\n')));
  return cut + note;
}
