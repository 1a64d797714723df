/**
 * The human-readable report of one heal run (Markdown), written to <state>/reports/<incident>.md. Text from
 * the incident (summary, root cause, reasons) is put on one line so it cannot add Markdown structure, and
 * the whole report passes the redactor on its way to disk.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Evidence } from '../evidence/index.ts';
import { redact } from '../evidence/redact.ts';
import { oneLine } from '../incident/display.ts';
import type { Incident } from '../incident/types.ts';
import type { HealResult } from '../pipeline/heal.ts';

const cell = (text: string) => oneLine(text, 500).replace(/\|/g, '\\|');

/** Code is fenced with a fence longer than any backtick run inside it, so it cannot close the block. */
export function fenced(code: string[], lang: string): string[] {
  const longest = Math.max(2, ...code.map((l) => Math.max(0, ...[...l.matchAll(/`+/g)].map((m) => m[0].length))));
  const fence = '`'.repeat(longest + 1);
  return [`${fence}${lang}`, ...code.map((l) => l.slice(0, 300)), fence];
}

function evidenceSection(e: Evidence): string[] {
  const out: string[] = [];
  const inner = e.excerpts[0];
  if (inner) {
    out.push(
      '',
      '## Where it crashed',
      '',
      `\`${cell(inner.file)}:${inner.line}\`${inner.function ? ` in \`${cell(inner.function)}\`` : ''}:`,
      '',
    );
    const lang = /\.py$/.test(inner.file) ? 'python' : /\.[cm]?[jt]sx?$/.test(inner.file) ? 'js' : '';
    const numbered = inner.lines.map(
      (l, i) => `${String(inner.startLine + i).padStart(5)}${inner.startLine + i === inner.line ? ' >' : '  '} ${l}`,
    );
    out.push(...fenced(numbered, lang));
  }
  if (e.commits.length) {
    out.push(
      '',
      '## Recent commits on the crashing lines',
      '',
      '| commit | date | author | subject | line |',
      '|---|---|---|---|---|',
    );
    for (const c of e.commits) {
      out.push(
        `| \`${c.sha.slice(0, 12)}\` | ${cell(c.date.slice(0, 10))} | ${cell(c.author)} | ${cell(c.subject)} | ${cell(c.file)}:${c.line} |`,
      );
    }
  }
  return out;
}

export function renderReport(incident: Incident, r: HealResult, evidence?: Evidence): string {
  const lines = [
    `# suture: ${oneLine(incident.service, 100)} — ${r.status}`,
    '',
    `- **Incident** ${incident.id} (fingerprint \`${incident.fingerprint}\`), ${oneLine(incident.environment, 100)}, detected ${oneLine(incident.detectedAt, 100)}`,
    `- **Summary** ${oneLine(incident.summary)}`,
    `- **Outcome** ${r.status}: ${oneLine(r.reason, 1000)}`,
  ];
  if (r.diagnosis) {
    // rootCause already names the location.
    lines.push(
      `- **Diagnosis** ${r.diagnosis.classification}: ${oneLine(r.diagnosis.rootCause, 1000)}, confidence ${r.diagnosis.confidence}`,
    );
  }
  if (r.diagnosis?.reason && r.diagnosis.classification !== 'code-defect') {
    lines.push(`- **Why** ${oneLine(r.diagnosis.reason, 1000)}`);
  }
  for (const check of r.diagnosis?.whatToCheck ?? []) lines.push(`- **Check** ${oneLine(check, 500)}`);
  if (r.branch) lines.push(`- **Branch** \`${r.branch}\`${r.commit ? ` at \`${r.commit.slice(0, 12)}\`` : ''}`);
  if (evidence) lines.push(...evidenceSection(evidence));
  if (r.candidates.length) {
    lines.push('', '## Candidates', '', '| id | strategy | verdict | policy | summary |', '|---|---|---|---|---|');
    for (const c of r.candidates) {
      const v = c.verdict
        ? `${c.verdict.verdict}${c.verdict.reasons[0] && c.verdict.verdict === 'fail' ? ` (${cell(c.verdict.reasons[0])})` : ''}`
        : '—';
      lines.push(
        `| ${c.id}${c.id === r.chosen ? ' ✔' : ''} | ${cell(c.strategy)} | ${v} | ${c.policy?.decision ?? '—'} | ${cell(c.summary)} |`,
      );
    }
  }
  if (r.ranking?.length) {
    lines.push(
      '',
      '## Ranking of the verified candidates',
      '',
      '| rank | id | policy | differential | answer fit | size | strategy | confidence |',
      '|---|---|---|---|---|---|---|---|',
    );
    r.ranking.forEach((x, i) => {
      const k = x.keys;
      lines.push(
        `| ${i + 1} | ${x.id} | ${k.policy ? 'allow' : 'review'} | ${k.differential ? 'equal' : 'none'} | ${k.fit} | ${k.size} | ${k.strategy} | ${k.confidence} |`,
      );
    });
  }
  if (r.notes.length) lines.push('', '## Notes', '', ...r.notes.map((n) => `- ${oneLine(n, 500)}`));
  lines.push('', '## Timings (ms)', '', ...Object.entries(r.timings).map(([k, v]) => `- ${k}: ${v}`), '');
  return lines.join('\n');
}

export async function writeReport(
  dir: string,
  incident: Incident,
  r: HealResult,
  evidence?: Evidence,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, `${incident.id}.md`);
  await writeFile(path, redact(renderReport(incident, r, evidence)).text);
  return path;
}
