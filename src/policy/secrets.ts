/**
 * Secrets a change adds: well-known credential formats anywhere (the table log redaction uses too,
 * src/evidence/credentials.ts), credential-looking assignments, and high-entropy strings (Shannon entropy
 * per character above the configured threshold). Lockfiles are exempt from the entropy check (integrity
 * hashes), not from the known formats.
 */
import { findCredential } from '../evidence/credentials.ts';
import type { NumberedLine } from './lines.ts';
import type { SecretFact } from './types.ts';

const ASSIGNMENT =
  /(?:secret|token|passw(?:or)?d|pwd|api[_-]?key|access[_-]?key|private[_-]?key|client[_-]?secret|auth|credential)[\w.-]*["']?\s*[:=]\s*["']([^"'\s]{12,})["']/i;
const PLACEHOLDER =
  /\$\{|\{\{|<[^>]*>|process\.env|os\.environ|getenv|example|changeme|dummy|placeholder|x{4,}|\*{4,}|redacted/i;
const CANDIDATE = /[A-Za-z0-9+/=_-]{20,}/g;

export function shannonEntropy(s: string): number {
  const counts = new Map<string, number>();
  for (const ch of s) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

function redact(value: string): string {
  return `${value.slice(0, 4)}... (${value.length} chars)`;
}

/** A random-looking token: mixed letters and digits, no path-like or word-like shape, high entropy. */
function isHighEntropy(token: string, threshold: number): boolean {
  if (!/[0-9]/.test(token) || !/[a-z]/.test(token) || !/[A-Z]/.test(token)) return false;
  if (/^[a-z]+(_[a-z]+)+$/i.test(token)) return false;
  return shannonEntropy(token) >= threshold;
}

export function findSecrets(
  path: string,
  added: NumberedLine[],
  opts: { entropyThreshold: number; entropyCheck: boolean },
): SecretFact[] {
  const found: SecretFact[] = [];
  for (const { line, text } of added) {
    const known = findCredential(text);
    if (known) {
      // The whole match: for a keyed format its first characters are the key, not the credential's.
      found.push({ path, line, kind: known.format.label, redacted: redact(known.match) });
      continue;
    }
    const assigned = ASSIGNMENT.exec(text);
    if (assigned && !PLACEHOLDER.test(assigned[1]!) && shannonEntropy(assigned[1]!) >= 3) {
      found.push({ path, line, kind: 'credential assignment', redacted: redact(assigned[1]!) });
      continue;
    }
    if (!opts.entropyCheck) continue;
    const token = text.match(CANDIDATE)?.find((t) => isHighEntropy(t, opts.entropyThreshold));
    if (token) found.push({ path, line, kind: 'high-entropy string', redacted: redact(token) });
  }
  return found;
}
