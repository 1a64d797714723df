/** Colour codes (Python 3.13 on a terminal, FORCE_COLOR, pino-pretty) would break every line pattern. */
export function stripAnsi(text: string): string {
  return typeof text === 'string' ? text.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '') : '';
}
