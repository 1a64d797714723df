/**
 * Evidence: `Incident` → code excerpts around the in-repo frames, the commits that last touched those lines,
 * and the incident's logs with secrets redacted (the only form of the logs that may leave for an LLM).
 */
import type { Incident, StackFrame } from '../incident/types.ts';
import { type Excerpt, excerptAround } from './excerpts.ts';
import { blameLine, type CommitRef } from './history.ts';
import { redact } from './redact.ts';

export interface Evidence {
  frames: StackFrame[];
  excerpts: Excerpt[];
  commits: CommitRef[];
  logs: string;
  redactions: number;
}

const MAX_FRAMES = 5;

/** `treeDir` holds the base revision's files; `repoDir` + `rev` answer history questions. */
export async function gatherEvidence(opts: {
  incident: Incident;
  treeDir: string;
  repoDir: string;
  rev: string;
}): Promise<Evidence> {
  const frames = (opts.incident.trace?.frames ?? []).filter((f) => !f.external && f.repoPath && f.line);
  const innermost = frames.slice(-MAX_FRAMES).reverse();
  const excerpts: Excerpt[] = [];
  const commits: CommitRef[] = [];
  for (const f of innermost) {
    const ex = await excerptAround(opts.treeDir, f.repoPath!, f.line!, 8, f.function);
    if (ex) excerpts.push(ex);
    const c = await blameLine(opts.repoDir, opts.rev, f.repoPath!, f.line!);
    if (c && !commits.some((k) => k.sha === c.sha && k.file === c.file && k.line === c.line)) commits.push(c);
  }
  const red = redact(opts.incident.logs);
  return { frames: opts.incident.trace?.frames ?? [], excerpts, commits, logs: red.text, redactions: red.count };
}
