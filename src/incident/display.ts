import { redact } from '../evidence/redact.ts';

/**
 * Incident text shown on one line: in commit messages, reports, progress and error lines. Control and
 * line-separator characters (which would start a new line, forge a trailer or reorder what a reviewer
 * sees, like bidi overrides) become spaces, runs of whitespace one space, and long text is cut.
 */
const BREAKING = /[\0-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

export function oneLine(text: string, max = 300): string {
  const flat = String(text).replace(BREAKING, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1).trimEnd()}…` : flat;
}

/**
 * Incident text made fit to leave the process on one line: flattened, redacted, then cut — in that order,
 * so a cut never leaves a secret's head too short to be recognised, and a flattened line break never
 * splits one.
 */
export function safeLine(text: string, max = 300): string {
  return oneLine(redact(oneLine(text, Number.POSITIVE_INFINITY)).text, max);
}
