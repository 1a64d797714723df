/**
 * Secrets a change adds: well-known credential formats anywhere, credential-looking assignments, and
 * high-entropy strings (Shannon entropy per character above the configured threshold). Lockfiles are
 * exempt from the entropy check (integrity hashes), not from the known formats.
 */
import type { NumberedLine } from './lines.ts';
import type { SecretFact } from './types.ts';

const KNOWN: { kind: string; re: RegExp }[] = [
  { kind: 'private key', re: /-----BEGIN ((RSA|EC|DSA|OPENSSH|PGP|ENCRYPTED) )?PRIVATE KEY( BLOCK)?-----/ },
  { kind: 'AWS access key id', re: /\b(AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[0-9A-Z]{16}\b/ },
  { kind: 'GitHub token', re: /\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})\b/ },
  { kind: 'GitLab token', re: /\bglpat-[A-Za-z0-9_-]{20,}\b/ },
  { kind: 'Slack token', re: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/ },
  { kind: 'Slack webhook', re: /hooks\.slack\.com\/services\/T[A-Za-z0-9_]+\/B[A-Za-z0-9_]+\/[A-Za-z0-9_]+/ },
  { kind: 'Google API key', re: /\bAIza[0-9A-Za-z_-]{35}\b/ },
  { kind: 'Stripe key', re: /\b[sr]k_(live|test)_[0-9A-Za-z]{20,}\b/ },
  { kind: 'OpenAI key', re: /\bsk-(proj-)?[A-Za-z0-9_-]{32,}\b/ },
  { kind: 'npm token', re: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { kind: 'JSON web token', re: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
  { kind: 'credential in URL', re: /\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]+:[^\s:/@'"$]{6,}@[^\s'"]+/ },
];

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
    const known = KNOWN.find((k) => k.re.test(text));
    if (known) {
      const value = known.re.exec(text)![0];
      found.push({ path, line, kind: known.kind, redacted: redact(value) });
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
