/**
 * The HTML report of one heal: a single self-contained page (inline CSS, inline SVG, no script, no external
 * resource) a reviewer can open from the state dir or a CI artifact. Sections: the outcome, the timeline
 * (the audit log's stages with their timings), the evidence (the code around the crash with the faulting
 * line marked, the commits that last touched it, the logs' tail), the chosen candidate's diff, the verdict
 * of every candidate (its checks and differential mismatches), the policy decision with its violations, and
 * the canary's error rates with its decision.
 *
 * Everything shown is attacker-writable text (the incident, the repository's code and commits, candidate
 * patches, test output), so: the whole input passes `redactDeep` first; every value reaches the page
 * through the escaping `html` template; invisible and bidi characters in code are shown, not obeyed; and
 * the page's Content-Security-Policy allows no script at all, and styles only by the hash of its own
 * stylesheet — if some text did become markup, it could neither run nor restyle the page. Pure.
 */
import { createHash } from 'node:crypto';
import type { Candidate } from '../diagnose/types.ts';
import type { Evidence } from '../evidence/index.ts';
import { redactDeep } from '../evidence/redact.ts';
import { oneLine } from '../incident/display.ts';
import type { Incident } from '../incident/types.ts';
import type { AuditEntry } from '../pipeline/audit.ts';
import type { CandidateResult, HealResult } from '../pipeline/heal.ts';
import { rolloutChart, rolloutOf } from './html-chart.ts';
import { codeText, Html, html, type Part, token } from './html-markup.ts';

export interface HtmlReportInput {
  incident: Pick<Incident, 'id' | 'fingerprint' | 'service' | 'environment' | 'detectedAt' | 'summary' | 'signal'>;
  result: HealResult;
  evidence?: Evidence;
  /** The candidates with their patches (the result lists them without), for the diff. */
  candidates?: Pick<Candidate, 'id' | 'patch'>[];
  /** This run's audit-log entries, in order. Without them the timeline is built from `result.timings`. */
  timeline?: AuditEntry[];
  /** When the page was made (ISO 8601). */
  generatedAt?: string;
}

/** Lines of a diff or log shown at most. */
const MAX_DIFF_LINES = 1500;
const MAX_LOG_LINES = 80;
const MAX_MISMATCHES = 50;

const line = (text: unknown, max = 300) => oneLine(typeof text === 'string' ? text : String(text ?? ''), max);
const yesNo = (v: boolean | null | undefined) =>
  v === null || v === undefined
    ? html`<span class="na">—</span>`
    : v
      ? html`<span class="ok">yes</span>`
      : html`<span class="bad">no</span>`;

function json(value: unknown): string {
  if (value === undefined) return '(absent)';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function header(i: HtmlReportInput): Html {
  const r = i.result;
  const d = r.diagnosis;
  const facts: [string, Part][] = [
    ['Incident', html`<code>${i.incident.id}</code> (fingerprint <code>${i.incident.fingerprint}</code>)`],
    ['Environment', line(i.incident.environment, 100)],
    ['Detected', line(i.incident.detectedAt, 100)],
    ['Summary', line(i.incident.summary, 1000)],
    ['Outcome', html`<span class="status status-${token(r.status)}">${r.status}</span> ${line(r.reason, 1000)}`],
  ];
  if (d) {
    facts.push([
      'Diagnosis',
      html`${d.classification}: ${line(d.rootCause, 1000)} (confidence ${d.confidence})${
        d.location ? html` at <code>${line(d.location.file, 200)}:${d.location.line}</code>` : null
      }`,
    ]);
    if (d.reason && d.classification !== 'code-defect') facts.push(['Why', line(d.reason, 1000)]);
    for (const check of d.whatToCheck ?? []) facts.push(['Check', line(check, 500)]);
  }
  if (r.branch) {
    facts.push([
      'Branch',
      html`<code>${line(r.branch, 200)}</code>${r.commit ? html` at <code>${line(r.commit, 64).slice(0, 12)}</code>` : null}`,
    ]);
  }
  // Shown as text, never a link: a URL is one more attacker-influenced string.
  if (r.pullRequest)
    facts.push(['Pull request', html`#${r.pullRequest.number} <code>${line(r.pullRequest.url, 500)}</code>`]);
  if (r.canary) {
    facts.push(['Canary', html`${r.canary.decision} at ${r.canary.at} s: ${line(r.canary.reason, 500)}`]);
  }
  return html`<header><h1>suture: ${line(i.incident.service, 100)} <span class="status status-${token(r.status)}">${r.status}</span></h1>
<dl class="facts">${facts.map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl></header>`;
}

interface Step {
  stage: string;
  outcome: string;
  start: number | null;
  durationMs: number;
  detail: string;
}

/** The run's steps: from its audit entries when there are any, else from the result's stage timings. */
export function timelineSteps(entries: readonly AuditEntry[] | undefined, timings: Record<string, number>): Step[] {
  const usable = (entries ?? []).filter((e) => e && typeof e.stage === 'string' && Number.isFinite(e.durationMs));
  if (usable.length > 0) {
    const starts = usable.map((e) => Date.parse(e.ts) - e.durationMs);
    const t0 = Math.min(...starts.filter(Number.isFinite));
    return usable.map((e, k) => ({
      stage: e.stage,
      outcome: e.outcome,
      start: Number.isFinite(starts[k]) && Number.isFinite(t0) ? starts[k]! - t0 : null,
      durationMs: e.durationMs,
      detail: e.detail ?? '',
    }));
  }
  return Object.entries(timings)
    .filter(([k]) => k !== 'total')
    .map(([stage, ms]) => ({ stage, outcome: 'ok', start: null, durationMs: ms, detail: '' }));
}

function timeline(i: HtmlReportInput): Html {
  const steps = timelineSteps(i.timeline, i.result.timings);
  const total = i.result.timings.total;
  const span = Math.max(1, total ?? 0, ...steps.map((s) => (s.start ?? 0) + s.durationMs));
  const bar = (s: Step) => {
    if (s.start === null) return null;
    const x = Math.min(200, (s.start / span) * 200);
    const w = Math.max(1, Math.min(200 - x, (s.durationMs / span) * 200));
    return html`<svg class="bar" viewBox="0 0 200 10" width="200" height="10" aria-hidden="true"><rect class="track" width="200" height="10"/><rect class="span outcome-${token(s.outcome)}" x="${x.toFixed(1)}" width="${w.toFixed(1)}" height="10"/></svg>`;
  };
  return html`<section id="timeline"><h2>Timeline</h2>
<table><thead><tr><th>stage</th><th>outcome</th><th>start</th><th>duration</th><th></th><th>detail</th></tr></thead><tbody>
${steps.map(
  (s) =>
    html`<tr><td><code>${line(s.stage, 80)}</code></td><td class="outcome-${token(s.outcome)}">${s.outcome}</td><td class="num">${s.start === null ? '' : `+${(s.start / 1000).toFixed(1)} s`}</td><td class="num">${s.durationMs} ms</td><td>${bar(s)}</td><td>${line(s.detail, 160)}</td></tr>`,
)}
${total !== undefined ? html`<tr class="total"><td>total</td><td></td><td></td><td class="num">${total} ms</td><td></td><td></td></tr>` : null}
</tbody></table></section>`;
}

function evidenceSection(e: Evidence | undefined): Html {
  if (!e)
    return html`<section id="evidence"><h2>Evidence</h2><p class="na">No evidence was gathered (the heal stopped before).</p></section>`;
  const [inner, ...outer] = e.excerpts;
  const excerpt = (x: NonNullable<typeof inner>) =>
    html`<p><code>${line(x.file, 200)}:${x.line}</code>${x.function ? html` in <code>${line(x.function, 200)}</code>` : null}</p>
<pre class="code">${x.lines.map((l, k) => {
      const n = x.startLine + k;
      return html`<span class="${n === x.line ? 'fault' : 'ln'}"><span class="gutter">${String(n).padStart(5)}${n === x.line ? ' >' : '  '}</span> ${codeText(l)}</span>`;
    })}</pre>`;
  const logLines = e.logs ? e.logs.split('\n').slice(-MAX_LOG_LINES) : [];
  return html`<section id="evidence"><h2>Evidence</h2>
${inner ? html`<h3>Where it crashed</h3>${excerpt(inner)}` : html`<p class="na">No frame of the trace is in the repository.</p>`}
${outer.length ? html`<details><summary>Outer frames (${outer.length})</summary>${outer.map(excerpt)}</details>` : null}
${
  e.commits.length
    ? html`<h3>Recent commits on the crashing lines</h3><table><thead><tr><th>commit</th><th>date</th><th>author</th><th>subject</th><th>line</th></tr></thead><tbody>${e.commits.map(
        (c) =>
          html`<tr><td><code>${line(c.sha, 64).slice(0, 12)}</code></td><td>${line(c.date, 40).slice(0, 10)}</td><td>${line(c.author, 200)}</td><td>${line(c.subject, 300)}</td><td><code>${line(c.file, 200)}:${c.line}</code></td></tr>`,
      )}</tbody></table>`
    : null
}
${logLines.length ? html`<details><summary>Logs (last ${logLines.length} lines, redacted)</summary><pre class="code">${logLines.map((l) => html`<span>${codeText(l)}</span>`)}</pre></details>` : null}
</section>`;
}

function diffLines(patch: string): Html {
  const all = patch.split('\n');
  const lines = all.slice(0, MAX_DIFF_LINES);
  const cls = (l: string) =>
    /^(\+\+\+|---) /.test(l) || /^diff --git /.test(l)
      ? 'file'
      : l.startsWith('@@')
        ? 'hunk'
        : l.startsWith('+')
          ? 'add'
          : l.startsWith('-')
            ? 'del'
            : 'ctx';
  return html`<pre class="diff">${lines.map((l) => html`<span class="${cls(l)}">${codeText(l)}</span>`)}${
    all.length > lines.length ? html`<span class="na">… ${all.length - lines.length} more lines</span>` : null
  }</pre>`;
}

function diffSection(i: HtmlReportInput): Html {
  const chosen = i.result.chosen;
  const patch = chosen ? i.candidates?.find((c) => c.id === chosen)?.patch : undefined;
  const others = (i.candidates ?? []).filter((c) => c.id !== chosen && c.patch);
  return html`<section id="diff"><h2>The fix${chosen ? html`: candidate <code>${line(chosen, 100)}</code>` : null}</h2>
${patch ? diffLines(patch) : html`<p class="na">${chosen ? 'The chosen candidate’s patch is not available.' : 'No candidate was chosen.'}</p>`}
${
  others.length
    ? html`<details><summary>The other candidates’ diffs (${others.length})</summary>${others.map(
        (c) => html`<h3><code>${line(c.id, 100)}</code></h3>${diffLines(c.patch)}`,
      )}</details>`
    : null
}</section>`;
}

function differentialCell(c: CandidateResult): Part {
  const d = c.verdict?.differential;
  if (!d) return html`<span class="na">—</span>`;
  if (d.status === 'none') return html`<span class="warn">none</span>`;
  const n = d.mismatches.length + d.omitted;
  return html`${d.compared} compared, <span class="${n ? 'bad' : 'ok'}">${n} mismatch${n === 1 ? '' : 'es'}</span>`;
}

function verdictSection(i: HtmlReportInput): Html {
  const cs = i.result.candidates;
  if (cs.length === 0)
    return html`<section id="verdicts"><h2>Verification</h2><p class="na">No candidate was proposed.</p></section>`;
  const rows = cs.map((c) => {
    const v = c.verdict;
    const rt = v?.regressionTest;
    return html`<tr class="${c.id === i.result.chosen ? 'chosen' : ''}"><td><code>${line(c.id, 100)}</code>${c.id === i.result.chosen ? ' ✔ chosen' : null}</td><td>${line(c.strategy, 100)}</td><td>${line(c.summary, 300)}</td><td class="verdict-${token(v?.verdict ?? 'none')}">${v?.verdict ?? 'not run'}</td><td>${yesNo(v?.reproduced)}</td><td>${v ? html`${yesNo(v.fixed)}${v.fixedStatusClass ? ` (${v.fixedStatusClass})` : null}` : yesNo(null)}</td><td>${yesNo(v?.testsPassed)}</td><td>${rt ? html`fails before: ${yesNo(rt.failsBefore)}, passes after: ${yesNo(rt.passesAfter)}` : yesNo(null)}</td><td>${differentialCell(c)}</td><td class="policy-${token(c.policy?.decision ?? 'none')}">${c.policy?.decision ?? '—'}</td><td>${v?.reasons.length ? line(v.reasons[0], 300) : null}</td></tr>`;
  });
  const mismatches = cs.flatMap((c) => (c.verdict?.differential.mismatches ?? []).map((m) => ({ id: c.id, ...m })));
  return html`<section id="verdicts"><h2>Verification</h2>
<div class="wide"><table class="verdicts"><thead><tr><th>candidate</th><th>strategy</th><th>summary</th><th>verdict</th><th>reproduced</th><th>fixed</th><th>tests</th><th>regression test</th><th>differential</th><th>policy</th><th>reason</th></tr></thead><tbody>${rows}</tbody></table></div>
${
  mismatches.length
    ? html`<h3>Differential mismatches</h3><table class="mismatches"><thead><tr><th>candidate</th><th>request</th><th>path</th><th>base</th><th>candidate answered</th></tr></thead><tbody>${mismatches
        .slice(0, MAX_MISMATCHES)
        .map(
          (m) =>
            html`<tr><td><code>${line(m.id, 100)}</code></td><td>${line(m.request, 200)}</td><td><code>${line(m.path, 200)}</code></td><td><code>${m.absent === 'base' ? '(absent)' : line(json(m.base), 300)}</code></td><td><code>${m.absent === 'candidate' ? '(absent)' : line(json(m.candidate), 300)}</code></td></tr>`,
        )}</tbody></table>${mismatches.length > MAX_MISMATCHES ? html`<p class="na">… ${mismatches.length - MAX_MISMATCHES} more</p>` : null}`
    : null
}</section>`;
}

function policySection(i: HtmlReportInput): Html {
  const gated = i.result.candidates.filter((c) => c.policy);
  if (gated.length === 0)
    return html`<section id="policy"><h2>Policy</h2><p class="na">No candidate reached the policy gate.</p></section>`;
  const chosen = gated.find((c) => c.id === i.result.chosen);
  const violations = gated.flatMap((c) => c.policy!.violations.map((v) => ({ candidate: c.id, ...v })));
  return html`<section id="policy"><h2>Policy</h2>
${chosen ? html`<p>Decision on the chosen candidate <code>${line(chosen.id, 100)}</code>: <span class="decision-word policy-${token(chosen.policy!.decision)}">${chosen.policy!.decision}</span></p>` : html`<p>Every verified candidate: ${gated.map((c) => html`<code>${line(c.id, 100)}</code> <span class="policy-${token(c.policy!.decision)}">${c.policy!.decision}</span> `)}</p>`}
${
  violations.length
    ? html`<table><thead><tr><th>candidate</th><th>rule</th><th>message</th><th>path</th></tr></thead><tbody>${violations.map(
        (v) =>
          html`<tr><td><code>${line(v.candidate, 100)}</code></td><td><code>${line(v.id, 200)}</code></td><td>${line(v.message, 500)}</td><td>${v.path ? html`<code>${line(v.path, 300)}</code>` : null}</td></tr>`,
      )}</tbody></table>`
    : html`<p>No violations.</p>`
}</section>`;
}

function canarySection(i: HtmlReportInput): Html {
  // The chart's buckets ride on the result (`canary.series`), so the report needs no second source.
  const rollout = rolloutOf(i.result.canary);
  const chart = rollout ? rolloutChart(rollout) : null;
  const d = i.result.canary;
  return html`<section id="canary"><h2>Canary</h2>
${chart ?? html`<p class="na">${d ? 'The canary reported no usable traffic to chart.' : 'No canary ran for this heal.'}</p>`}
${d ? html`<p class="canary-decision">Decision: <span class="decision-word decision-${token(d.decision)}">${d.decision}</span> at ${d.at} s — ${line(d.reason, 500)}</p>` : null}
${
  chart && rollout
    ? html`<details><summary>Buckets (${rollout.buckets.length})</summary><table><thead><tr><th>t (s)</th><th>stable requests</th><th>stable errors</th><th>canary requests</th><th>canary errors</th></tr></thead><tbody>${rollout.buckets
        .slice(0, 2000)
        .map(
          (b) =>
            html`<tr><td class="num">${b.t}</td><td class="num">${b.stable?.requests}</td><td class="num">${b.stable?.errors}</td><td class="num">${b.canary?.requests}</td><td class="num">${b.canary?.errors}</td></tr>`,
        )}</tbody></table></details>`
    : null
}</section>`;
}

function rankingAndNotes(r: HealResult): Html {
  return html`${
    r.ranking?.length
      ? html`<section id="ranking"><h2>Ranking of the verified candidates</h2><table><thead><tr><th>rank</th><th>candidate</th><th>policy</th><th>differential</th><th>answer fit</th><th>size</th><th>strategy</th><th>confidence</th></tr></thead><tbody>${r.ranking.map(
          (x, k) =>
            html`<tr><td>${k + 1}</td><td><code>${line(x.id, 100)}</code></td><td>${x.keys.policy ? 'allow' : 'review'}</td><td>${x.keys.differential ? 'equal' : 'none'}</td><td>${x.keys.fit}</td><td>${x.keys.size}</td><td>${x.keys.strategy}</td><td>${x.keys.confidence}</td></tr>`,
        )}</tbody></table></section>`
      : null
  }${r.notes.length ? html`<section id="notes"><h2>Notes</h2><ul>${r.notes.map((n) => html`<li>${line(n, 500)}</li>`)}</ul></section>` : null}`;
}

const STYLE = `
:root{color-scheme:light;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--stable:#0969da;--canary:#d1242f}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1180px;padding:20px 28px 48px;background:#fff}
h1{font-size:22px;margin:0 0 10px}h2{font-size:17px;border-bottom:1px solid var(--line);padding-bottom:4px;margin:28px 0 10px}h3{font-size:14px;margin:16px 0 6px}
code,pre{font:12.5px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:8px 0;overflow-x:auto;white-space:pre}
pre>span{display:block;padding:0 10px;min-height:1.4em}
.fault{background:#ffebe9;font-weight:600}.gutter{color:var(--muted)}
.diff .add{background:#dafbe1}.diff .del{background:#ffebe9}.diff .hunk{color:#8250df;background:#f6f0ff}.diff .file{font-weight:600}
.ctl{background:#fff8c5;border:1px solid var(--warn);border-radius:3px;font-size:10px;padding:0 2px;color:var(--warn)}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:0}dt{font-weight:600;color:var(--muted)}dd{margin:0;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border:1px solid var(--line);padding:4px 7px;text-align:left;vertical-align:top;overflow-wrap:anywhere}th{background:#f6f8fa;font-weight:600}
td.num{text-align:right;white-space:nowrap}.wide{overflow-x:auto}table.verdicts th{white-space:nowrap}table.verdicts td:nth-child(-n+2),table.verdicts td:nth-child(n+4):nth-child(-n+7),table.verdicts td:nth-child(10){white-space:nowrap}table.verdicts td:nth-child(3),table.verdicts td:nth-child(11){min-width:180px}tr.chosen td{background:#f0f7ff}tr.total td{font-weight:600}
.status{display:inline-block;border-radius:12px;padding:1px 10px;font-size:13px;color:#fff;background:var(--muted);vertical-align:middle}
.status-fixed,.status-proposed,.status-observed{background:var(--ok)}.status-aborted,.status-rejected,.status-no-fix{background:var(--bad)}.status-escalated,.status-duplicate{background:var(--warn)}
.ok,.verdict-pass,.policy-allow,.outcome-ok,.decision-promote{color:var(--ok)}.bad,.verdict-fail,.policy-deny,.outcome-error,.decision-abort{color:var(--bad)}.warn,.policy-review{color:var(--warn)}.na{color:var(--muted)}
.decision-word{font-weight:700}
svg.bar .track{fill:#eaeef2}svg.bar .span{fill:var(--stable)}svg.bar .outcome-error{fill:var(--bad)}svg.bar .outcome-stop{fill:var(--muted)}
svg.chart{max-width:100%;height:auto;font:12px system-ui,sans-serif;display:block;margin:8px 0}
svg.chart .grid line{stroke:#eaeef2}svg.chart .frame{fill:none;stroke:var(--line)}svg.chart text{fill:var(--muted)}svg.chart .label{fill:var(--fg)}
svg.chart .line{fill:none;stroke-width:2.5;stroke-linejoin:round}svg.chart .line.stable{stroke:var(--stable)}svg.chart .line.canary{stroke:var(--canary)}
svg.chart .swatch.stable{fill:var(--stable)}svg.chart .swatch.canary{fill:var(--canary)}svg.chart .legend text{fill:var(--fg)}
svg.chart .decision line{stroke-width:2;stroke-dasharray:5 4}svg.chart .decision text{font-weight:700;font-size:13px}
svg.chart .decision-abort line{stroke:var(--bad)}svg.chart .decision-abort circle,svg.chart .decision-abort text{fill:var(--bad)}
svg.chart .decision-promote line{stroke:var(--ok)}svg.chart .decision-promote circle,svg.chart .decision-promote text{fill:var(--ok)}
svg.chart .decision-continue line{stroke:var(--muted)}svg.chart .decision-continue circle,svg.chart .decision-continue text{fill:var(--muted)}
footer{margin-top:32px;color:var(--muted);font-size:12px}
`;

/**
 * No script may run (script-src falls back to default-src 'none'), nothing may load (no img, font, frame,
 * connect or form target), and the only stylesheet that applies is this page's own, by its hash: an
 * injected `<style>` or `style=` attribute would be ignored.
 */
export function contentSecurityPolicy(style: string): string {
  const hash = createHash('sha256').update(style).digest('base64');
  return `default-src 'none'; style-src 'sha256-${hash}'; img-src 'none'; base-uri 'none'; form-action 'none'`;
}

export function renderHtmlReport(input: HtmlReportInput): string {
  // One redaction for the page's whole input, with key context (JSON structure) still there to use.
  const i = redactDeep({
    ...input,
    incident: {
      id: input.incident.id,
      fingerprint: input.incident.fingerprint,
      service: input.incident.service,
      environment: input.incident.environment,
      detectedAt: input.incident.detectedAt,
      summary: input.incident.summary,
      signal: input.incident.signal,
    },
  });
  const page = html`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy(STYLE)}">
<meta name="referrer" content="no-referrer">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>suture: ${line(i.incident.service, 100)} — ${i.result.status}</title>
<style>${new Html(STYLE)}</style></head>
<body>
${header(i)}
${timeline(i)}
${evidenceSection(i.evidence)}
${diffSection(i)}
${verdictSection(i)}
${policySection(i)}
${canarySection(i)}
${rankingAndNotes(i.result)}
<footer>suture report for incident <code>${i.incident.id}</code>${i.generatedAt ? `, generated ${line(i.generatedAt, 40)}` : ''}. Every text from the incident, the repository and the candidates is shown as text and redacted.</footer>
</body></html>
`;
  return page.value;
}
