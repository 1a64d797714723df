/**
 * Progress lines on stderr (stdout is reserved for --json). Silent under SUTURE_QUIET=1. Each message is
 * one line and redacted here: they quote exceptions, reasons and summaries from the incident.
 */
import { safeLine } from '../incident/display.ts';

export type Progress = (message: string) => void;

export function stderrProgress(prefix = 'suture'): Progress {
  return (message) => {
    if (process.env.SUTURE_QUIET === '1') return;
    process.stderr.write(`[${prefix}] ${safeLine(message, 2000)}\n`);
  };
}
