/**
 * Writes a heal's reports to <state>/reports/: the Markdown report (`<incident>.md`, whose path the result
 * carries) and the HTML page beside it (`<incident>.html`). The HTML timeline comes from this run's entries
 * in the audit log, read from the log's tail (a long-lived state dir's log grows without bound).
 */
import { open, writeFile } from 'node:fs/promises';
import { errorMessage } from '../errors.ts';
import type { Evidence } from '../evidence/index.ts';
import type { Incident } from '../incident/types.ts';
import type { AuditEntry } from '../pipeline/audit.ts';
import type { HealResult } from '../pipeline/heal.ts';
import { type HtmlReportInput, renderHtmlReport } from './html.ts';
import { writeReport } from './markdown.ts';

/** How much of the audit log's end is read for one run's entries (a run writes far less, LLM prompts included). */
const AUDIT_TAIL_BYTES = 16 * 1024 * 1024;

export interface ReportExtras {
  evidence?: Evidence;
  /** Every candidate with its patch (for the diff). */
  candidates?: HtmlReportInput['candidates'];
  /** The audit log and this run's id in it (for the timeline). */
  audit?: string;
  run?: string;
}

/** The HTML report's path for a Markdown report's path (the two are written side by side). */
export function htmlReportPath(markdownPath: string): string {
  return markdownPath.replace(/\.md$/, '') + '.html';
}

/** The entries of one run from the end of an audit log, in order; [] when the log cannot be read. */
export async function readRunEntries(
  auditPath: string,
  run: string,
  tailBytes = AUDIT_TAIL_BYTES,
): Promise<AuditEntry[]> {
  let text: string;
  try {
    const fh = await open(auditPath, 'r');
    try {
      const { size } = await fh.stat();
      const start = Math.max(0, size - tailBytes);
      const buf = Buffer.alloc(size - start);
      await fh.read(buf, 0, buf.length, start);
      text = buf.toString('utf8');
      // A read that starts mid-line drops that line's remainder.
      if (start > 0) text = text.slice(text.indexOf('\n') + 1);
    } finally {
      await fh.close();
    }
  } catch {
    return [];
  }
  const out: AuditEntry[] = [];
  for (const l of text.split('\n')) {
    if (!l.includes(run)) continue;
    try {
      const e = JSON.parse(l) as AuditEntry;
      if (e && e.run === run) out.push(e);
    } catch {
      // a torn or foreign line: not this run's
    }
  }
  return out;
}

/**
 * Writes both reports and returns the Markdown report's path. A failure of the HTML page is added to the
 * result's notes rather than losing the Markdown report.
 */
export async function writeReports(
  dir: string,
  incident: Incident,
  result: HealResult,
  extras: ReportExtras = {},
): Promise<string> {
  const markdown = await writeReport(dir, incident, result, extras.evidence);
  try {
    const timeline = extras.audit && extras.run ? await readRunEntries(extras.audit, extras.run) : undefined;
    const page = renderHtmlReport({
      incident,
      result,
      evidence: extras.evidence,
      candidates: extras.candidates,
      timeline,
      generatedAt: new Date().toISOString(),
    });
    await writeFile(htmlReportPath(markdown), page);
  } catch (err) {
    result.notes.push(`the HTML report was not written: ${errorMessage(err)}`);
  }
  return markdown;
}
