/**
 * The LLM repair strategy: evidence in (code around the frames, the commits of the crashing lines, the
 * redacted logs, the failing request, the repo's language level and test command — all wrapped as untrusted
 * data and trimmed to a token budget), structured output out (classification, root cause, confidence, up
 * to three candidates as search/replace edits plus a regression test), every candidate checked before it
 * becomes a proposal and reviewed by a second call, the self-critique. What fails a check is dropped with
 * its reason in `notes`; nothing the model wrote is applied anywhere but in the proposals verification
 * will judge. The adapter: I/O here, decisions in the modules it imports.
 */
import { randomBytes } from 'node:crypto';
import type OpenAI from 'openai';
import { redact } from '../../../evidence/redact.ts';
import { innermostRepoFrame } from '../../../incident/paths.ts';
import { sanitiseRequest } from '../../../incident/sanitise.ts';
import type { ParsedTrace } from '../../../incident/types.ts';
import type { AuditEntry } from '../../../pipeline/audit.ts';
import { makeGitPatch } from '../../patch.ts';
import type { Diagnosis, FileEdit, RepairContext } from '../../types.ts';
import type { Proposal, Strategy, StrategyOutcome } from '../types.ts';
import {
  CRITIQUE_JSON_SCHEMA,
  candidateSchema,
  critiqueSchema,
  firstIssue,
  type LlmClassification,
  parseAnswer,
  REPAIR_JSON_SCHEMA,
  repairAnswerSchema,
} from './answer.ts';
import { type Compat, initialCompat, type LlmExchange, LlmSession, makeClient } from './client.ts';
import { applyCandidate, normalisePath, type RepoView, sourceFilesOf, testFilesOf } from './edits.ts';
import {
  addedCode,
  capabilityAdded,
  collapseWhitespace,
  copiedRuns,
  inRepo,
  testCapabilityAdded,
  untrustedWindows,
} from './injection.ts';
import { LEVEL_FILES, languageLevelFacts } from './level.ts';
import {
  buildCritiquePrompt,
  buildRepairPrompt,
  type Prompt,
  type PromptException,
  type PromptExcerpt,
  type RepairPromptInput,
} from './prompt.ts';
import { type LlmSettings, llmSettingsFromEnv, resolveModel } from './settings.ts';

export type { LlmExchange } from './client.ts';
export { type LlmSettings, llmSettingsFromEnv, repoLlmSchema } from './settings.ts';

/** The outcome plus every exchange with the model, redacted, for the orchestrator to audit. */
export interface LlmOutcome extends StrategyOutcome {
  exchanges: LlmExchange[];
}

export interface LlmStrategyOptions {
  /** The operator's settings; without them the strategy is off and `offReason` says why. */
  settings?: LlmSettings;
  offReason?: string;
  /** Called with each exchange as it completes (e.g. to append it to the audit log right away). */
  onExchange?: (exchange: LlmExchange) => void | Promise<void>;
  /** The marker token of each prompt; random unless a test fixes it. */
  nonce?: () => string;
}

/** Lines of code shown around the innermost frame (the evidence's excerpts carry fewer). */
const INNER_RADIUS = 40;
/** What the checks read of the repo: the existing tests (capability baseline) and all code (provenance). */
const TEST_BASELINE_BYTES = 1024 * 1024;
const REPO_TEXT_BYTES = 32 * 1024 * 1024;

/** LLM classes the Diagnosis type does not have yet map to `unknown`, with the class kept in rootCause. */
const CLASSIFICATION: Record<LlmClassification, Diagnosis['classification']> = {
  'code-defect': 'code-defect',
  'dependency-failure': 'dependency-failure',
  'resource-exhaustion': 'unknown',
  configuration: 'unknown',
  unknown: 'unknown',
};

const oneLine = (t: string, max = 300) => {
  const s = t.replace(/\s+/g, ' ').trim();
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
};

/** An audit entry for one exchange, in the shape `AuditLog.append` takes (it redacts again). */
export function exchangeAuditEntry(
  e: LlmExchange,
  ids: { run: string; incident?: string; fingerprint?: string },
): AuditEntry {
  return {
    ts: e.startedAt,
    run: ids.run,
    ...(ids.incident ? { incident: ids.incident } : {}),
    ...(ids.fingerprint ? { fingerprint: ids.fingerprint } : {}),
    stage: `diagnose:llm:${e.purpose}`,
    outcome: e.error ? 'error' : 'ok',
    durationMs: e.durationMs,
    detail: JSON.stringify(e),
  };
}

function exceptionOf(trace: ParsedTrace | undefined): PromptException | undefined {
  if (!trace) return undefined;
  const causes: PromptException['causes'] = [];
  for (let t = trace.cause; t; t = t.cause) causes.push({ type: t.exceptionType, message: t.message });
  return {
    type: trace.exceptionType,
    message: trace.message,
    frames: trace.frames.map((f) => ({
      file: f.repoPath ?? f.file,
      ...(f.line ? { line: f.line } : {}),
      ...(f.function ? { function: f.function } : {}),
      inRepo: !f.external && f.repoPath !== undefined,
    })),
    causes,
  };
}

export class LlmStrategy implements Strategy {
  readonly name = 'llm';
  private readonly opts: LlmStrategyOptions;
  private client: OpenAI | undefined;
  /** What the endpoint accepts, learnt once for the strategy's lifetime. */
  private readonly compat: Compat = initialCompat();

  constructor(opts: LlmStrategyOptions) {
    this.opts = opts;
  }

  /** Settings from the operator's environment (SUTURE_LLM_*); invalid values throw BAD_CONFIG. */
  static fromEnv(
    env: Record<string, string | undefined> = process.env,
    opts: Omit<LlmStrategyOptions, 'settings' | 'offReason'> = {},
  ) {
    const r = llmSettingsFromEnv(env);
    return new LlmStrategy('settings' in r ? { ...opts, settings: r.settings } : { ...opts, offReason: r.off });
  }

  async propose(ctx: RepairContext): Promise<LlmOutcome> {
    const settings = this.opts.settings;
    if (!settings)
      return { proposals: [], notes: [`llm: ${this.opts.offReason ?? 'the LLM strategy is off'}`], exchanges: [] };
    const picked = resolveModel(settings, ctx.config.llm);
    if ('off' in picked) return { proposals: [], notes: [`llm: ${picked.off}`], exchanges: [] };
    this.client ??= makeClient(settings);
    const session = new LlmSession({ client: this.client, settings, model: picked.model, compat: this.compat });
    const notes = picked.notes.map((n) => `llm: ${n}`);
    let reported = 0;
    const report = async () => {
      for (; reported < session.exchanges.length; reported++)
        await this.opts.onExchange?.(session.exchanges[reported]!);
    };
    try {
      const outcome = await this.run(ctx, settings, session, report);
      return { ...outcome, notes: [...notes, ...outcome.notes], exchanges: session.exchanges };
    } catch (err) {
      // A strategy never throws for what the incident, the repo or the endpoint holds.
      notes.push(`llm: the strategy failed: ${oneLine(redact(err instanceof Error ? err.message : String(err)).text)}`);
      return { proposals: [], notes, exchanges: session.exchanges };
    } finally {
      await report().catch(() => undefined);
    }
  }

  private nonce(): string {
    return this.opts.nonce?.() ?? randomBytes(16).toString('hex');
  }

  private async run(
    ctx: RepairContext,
    settings: LlmSettings,
    session: LlmSession,
    report: () => Promise<void>,
  ): Promise<StrategyOutcome> {
    const notes: string[] = [];
    const note = (t: string) => notes.push(`llm: ${t}`);
    const view: RepoView = {
      files: new Set(ctx.repoFiles),
      testCommand: ctx.config.test,
      language: ctx.config.language,
    };
    const input = await this.promptInput(ctx, view);
    const prompt = buildRepairPrompt(input, { budgetTokens: settings.promptTokens, nonce: this.nonce() });
    if (prompt.dropped.length) note(`left out of the prompt for its token budget: ${prompt.dropped.join(', ')}`);

    const answer = await session.chat({
      purpose: 'repair',
      system: prompt.system,
      user: prompt.user,
      schemaName: 'suture_repair',
      schema: REPAIR_JSON_SCHEMA,
      maxTokens: settings.maxAnswerTokens,
      minTokens: Math.min(1024, settings.maxAnswerTokens),
    });
    await report();
    if (!answer.ok) return { proposals: [], notes: [...notes, `llm: ${answer.reason}`] };
    const parsed = parseAnswer(answer.text, repairAnswerSchema, 'answer');
    if (!parsed.ok) {
      const cut = answer.truncated ? ' (the answer was cut off at its token cap)' : '';
      return { proposals: [], notes: [...notes, `llm: rejected: ${parsed.reason}${cut}`] };
    }
    const a = parsed.value;
    const rootCause = oneLine(a.rootCause, 1000);
    const diagnosis: StrategyOutcome['diagnosis'] = {
      classification: CLASSIFICATION[a.classification],
      rootCause:
        CLASSIFICATION[a.classification] === a.classification ? rootCause : `${a.classification}: ${rootCause}`,
      confidence: a.confidence,
    };
    if (a.classification !== 'code-defect') {
      note(`the model classifies the crash as ${a.classification}: no patch`);
      return { proposals: [], notes, diagnosis };
    }
    if (a.confidence < settings.minConfidence) {
      note(`confidence ${a.confidence} is below ${settings.minConfidence}: no proposal, escalate`);
      return { proposals: [], notes, diagnosis };
    }
    if (a.candidates.length === 0) note('the model proposes no candidate');

    const checks = new Checks(ctx, view, prompt);
    const accepted: { n: number; summary: string; confidence: number; edits: FileEdit[]; test: FileEdit }[] = [];
    for (const [i, raw] of a.candidates.entries()) {
      const n = i + 1;
      const reject = (reason: string) => note(`candidate ${n} rejected: ${reason}`);
      const c = candidateSchema.safeParse(raw);
      if (!c.success) {
        reject(`it violates the schema: ${firstIssue(c.error)}`);
        continue;
      }
      if (c.data.confidence < settings.minConfidence) {
        reject(`its confidence ${c.data.confidence} is below ${settings.minConfidence}`);
        continue;
      }
      const verdict = await checks.check(c.data);
      if (!verdict.ok) {
        reject(verdict.reason);
        continue;
      }
      accepted.push({ n, summary: oneLine(c.data.summary, 200), confidence: c.data.confidence, ...verdict.value });
    }

    const proposals: Proposal[] = [];
    for (const c of accepted) {
      const critiquePrompt = buildCritiquePrompt(
        {
          exception: input.exception,
          rootCause,
          excerpt: input.excerpts[0],
          candidate: {
            summary: c.summary,
            diff: makeGitPatch(c.edits),
            test: { file: c.test.path, content: c.test.after },
          },
        },
        { budgetTokens: Math.max(1000, Math.floor(settings.promptTokens / 2)), nonce: this.nonce() },
      );
      const critique = await session.chat({
        purpose: 'critique',
        system: critiquePrompt.system,
        user: critiquePrompt.user,
        schemaName: 'suture_critique',
        schema: CRITIQUE_JSON_SCHEMA,
        maxTokens: Math.max(256, Math.floor(settings.maxAnswerTokens / 4)),
        minTokens: 256,
      });
      await report();
      // The critique is a guard: without its approval a candidate does not go on (fail closed).
      if (!critique.ok) {
        note(`candidate ${c.n} dropped: no self-critique (${critique.reason})`);
        continue;
      }
      const r = parseAnswer(critique.text, critiqueSchema, 'self-critique');
      if (!r.ok) {
        note(`candidate ${c.n} dropped: ${r.reason}`);
        continue;
      }
      const flags = [
        r.value.hidesErrors && 'hides errors',
        r.value.changesBehaviourForValidInput && 'changes behaviour for valid input',
        r.value.touchesSecurity && 'touches security',
      ].filter(Boolean);
      if (r.value.verdict !== 'accept' || flags.length) {
        note(
          `candidate ${c.n} dropped by the self-critique${flags.length ? ` (${flags.join(', ')})` : ''}: ${oneLine(r.value.reason)}`,
        );
        continue;
      }
      proposals.push({
        strategy: 'llm',
        summary: `LLM: ${c.summary}`,
        confidence: c.confidence,
        edits: c.edits,
        test: c.test,
      });
    }
    return { proposals, notes, diagnosis };
  }

  private async promptInput(ctx: RepairContext, view: RepoView): Promise<RepairPromptInput> {
    const trace = ctx.incident.trace;
    const excerpts: PromptExcerpt[] = ctx.evidence.excerpts.map((e) => ({
      file: e.file,
      focusLine: e.line,
      startLine: e.startLine,
      lines: e.lines,
      ...(e.function ? { function: e.function } : {}),
    }));
    // The innermost frame gets a wider window than the evidence's excerpt: the fix is usually there.
    const frame = trace ? innermostRepoFrame(trace) : undefined;
    if (frame?.repoPath && frame.line) {
      const text = await ctx.readFile(frame.repoPath);
      if (text !== undefined) {
        const all = text.split('\n');
        const start = Math.max(1, frame.line - INNER_RADIUS);
        const wide: PromptExcerpt = {
          file: frame.repoPath,
          focusLine: frame.line,
          startLine: start,
          lines: all.slice(start - 1, frame.line + INNER_RADIUS),
          ...(frame.function ? { function: frame.function } : {}),
        };
        const same = excerpts.findIndex((e) => e.file === wide.file && e.focusLine === wide.focusLine);
        if (same >= 0) excerpts.splice(same, 1);
        excerpts.unshift(wide);
      }
    }
    const levelTexts = new Map<string, string | undefined>();
    for (const f of LEVEL_FILES[view.language]) if (view.files.has(f)) levelTexts.set(f, await ctx.readFile(f));
    const testFiles = testFilesOf(view.files);
    const sample = pickSampleTest(testFiles, frame?.repoPath);
    const sampleText = sample ? await ctx.readFile(sample) : undefined;
    return {
      language: view.language,
      testCommand: view.testCommand,
      languageLevel: languageLevelFacts(view.language, levelTexts),
      exception: exceptionOf(trace),
      excerpts,
      commits: ctx.evidence.commits,
      requests: ctx.incident.requests.slice(0, 2).map(sanitiseRequest),
      logs: redact(ctx.evidence.logs).text,
      testFiles: testFiles.slice(0, 500),
      sampleTest: sample && sampleText !== undefined ? { file: sample, text: sampleText } : undefined,
      sourceFiles: sourceFilesOf(view.files, view).slice(0, 1000),
    };
  }
}

/** The test file most likely to test FILE (most shared name parts), for the prompt's style sample. */
export function pickSampleTest(testFiles: string[], file: string | undefined): string | undefined {
  const parts = (p: string) =>
    new Set(
      p
        .toLowerCase()
        .split(/[^a-z0-9]+/)
        .filter((s) => s.length > 2 && s !== 'test' && s !== 'tests'),
    );
  const want = parts(file ?? '');
  let best: string | undefined;
  let score = -1;
  for (const t of testFiles) {
    const s = [...parts(t)].filter((p) => want.has(p)).length;
    if (s > score) [best, score] = [t, s];
  }
  return best;
}

/** The deterministic checks of one candidate; what they read of the repo is read once per incident. */
class Checks {
  private testTexts: Promise<string[]> | undefined;
  private repoTexts: Promise<string[]> | undefined;
  private readonly windows: Set<string>;
  private readonly ctx: RepairContext;
  private readonly view: RepoView;

  constructor(ctx: RepairContext, view: RepoView, prompt: Prompt) {
    this.ctx = ctx;
    this.view = view;
    this.windows = untrustedWindows(prompt.untrusted);
  }

  async check(c: Parameters<typeof applyCandidate>[0]) {
    const texts = new Map<string, string | undefined>();
    for (const e of c.edits) {
      const p = normalisePath(e.file);
      if (p.ok && this.view.files.has(p.value) && !texts.has(p.value))
        texts.set(p.value, await this.ctx.readFile(p.value));
    }
    const applied = applyCandidate(c, this.view, texts);
    if (!applied.ok) return applied;
    const { edits, test } = applied.value;
    const lang = this.view.language;
    for (const e of edits) {
      const why = capabilityAdded(e.path, e.before ?? '', e.after, lang);
      if (why)
        return {
          ok: false as const,
          reason: `${why}; a crash fix needs none (instructions injected through the evidence?)`,
        };
    }
    const why = testCapabilityAdded(test.path, test.after, await this.existingTests(), lang);
    if (why) return { ok: false as const, reason: `${why} (instructions injected through the evidence?)` };
    const runs = copiedRuns(addedCode(edits, test, lang), this.windows);
    if (runs.length) {
      const repo = await this.repo();
      const foreign = runs.find((r) => !inRepo(r, repo));
      if (foreign) {
        return {
          ok: false as const,
          reason: `it copies text from the untrusted evidence that occurs nowhere in the repository (${JSON.stringify(oneLine(foreign, 80))}): an answer that follows injected instructions`,
        };
      }
    }
    return applied;
  }

  private existingTests(): Promise<string[]> {
    this.testTexts ??= this.readAll(testFilesOf(this.view.files), TEST_BASELINE_BYTES);
    return this.testTexts;
  }

  /** Every file of the repo, whitespace collapsed (read only when a candidate copies from the evidence). */
  private repo(): Promise<string[]> {
    this.repoTexts ??= this.readAll([...this.view.files].sort(), REPO_TEXT_BYTES).then((ts) =>
      ts.map(collapseWhitespace),
    );
    return this.repoTexts;
  }

  private async readAll(paths: string[], maxBytes: number): Promise<string[]> {
    const out: string[] = [];
    let bytes = 0;
    for (const p of paths) {
      const t = await this.ctx.readFile(p);
      if (t === undefined) continue;
      bytes += t.length;
      if (bytes > maxBytes) break;
      out.push(t);
    }
    return out;
  }
}
