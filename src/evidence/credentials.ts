/**
 * The one table of known credential formats: tokens and keys with a shape of their own. Log redaction
 * (redact.ts) masks them in everything that leaves the process; the policy input (src/policy/secrets.ts)
 * reports a change that adds one. Both read this table, so a format added or corrected here is seen by
 * both (they had drifted apart: different AWS key prefixes, GitHub and Stripe token lengths, an OpenAI
 * key only the policy knew).
 *
 * Every pattern is global and linear in the input, which the redactor guarantees for any text: it starts
 * at a literal or at the first character of a run (a lookbehind), and no unbounded quantifier before a
 * required literal can be re-scanned from another start (test/evidence/redact.property.test.ts).
 */

/** Builds a RegExp from a raw template, so the shared pieces below can be spliced into patterns. */
export const re =
  (flags: string) =>
  (parts: TemplateStringsArray, ...subs: string[]): RegExp =>
    new RegExp(String.raw(parts, ...subs), flags);

/**
 * Where a token or key may start: not inside a word — except right after an escaped newline, tab or CR
 * (`\n`, `\t`, `\r` as two characters in a JSON string), where the escape letter would otherwise glue the
 * secret to a word (`"msg":"\nghp_…"`).
 */
export const AFTER_ESCAPE = String.raw`(?<=\\[nrt])`;
export const TOKEN_START = String.raw`(?:(?<!\w)|${AFTER_ESCAPE})`;

/** Placeholder-like values that carry no secret (and the redactor's own masks). */
export function isInert(value: string): boolean {
  // A value that is already a mask, or a pair ending in one (`Cookie: sid=[REDACTED:secret]`), is not
  // redacted twice; a mask after something else (`hunter2-[REDACTED:…]`) does not make the rest harmless.
  if (/^(?:[\w.-]{1,64}=)?\[REDACTED:[\w-]{1,32}(?:\]|$)/.test(value)) return true;
  return /^(?:\*+$|<[\w -]*>$|\$\{|\{\{|%\(|null$|none$|true$|false$|undefined$|redacted$|xxx+$)/i.test(value);
}

export interface CredentialFormat {
  /** The redaction mask's kind: `[REDACTED:<kind>]`. */
  kind: string;
  /** How the policy names it in a violation ("the change adds what looks like a <label>"). */
  label: string;
  /**
   * Global. When the credential is only part of what identifies it (a URL's password, the value after a
   * well-known key), the named groups `pre`, `secret` and `post` split the match: only `secret` is masked.
   */
  pattern: RegExp;
  /** False for a match that carries no credential (a placeholder); called with `secret` or the match. */
  isCredential?: (secret: string) => boolean;
  /** The credential runs past the match: a PEM header, whose block the redactor masks up to its END line. */
  pemBlock?: boolean;
}

export const CREDENTIAL_FORMATS: readonly CredentialFormat[] = [
  {
    kind: 'private-key',
    label: 'private key',
    pattern: /-----BEGIN ((?:[A-Z0-9]+ ){0,6})PRIVATE KEY( BLOCK)?-----/g,
    pemBlock: true,
  },
  {
    kind: 'slack-webhook',
    label: 'Slack webhook',
    pattern: /(?:https:\/\/)?hooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_/-]+/g,
  },
  {
    // scheme://user:password@host — user and host stay. Anchored at `://` (the scheme only has to end in a
    // scheme character): matching the scheme itself from every word start was quadratic on `a.b-a.b-…`.
    kind: 'url-password',
    label: 'credential in URL',
    pattern: /(?<=[a-z0-9+.-])(?<pre>:\/\/[^\s:@/"'\\]*:)(?<secret>[^\s@/"'\\]+)(?<post>@)/gi,
    isCredential: (secret) => !isInert(secret),
  },
  {
    kind: 'jwt',
    label: 'JSON web token',
    pattern: re('g')`(?:(?<![\w-])|${AFTER_ESCAPE})eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`,
  },
  {
    // AWS secret access keys have no shape of their own: only in their well-known keys' context.
    kind: 'aws-secret-key',
    label: 'AWS secret access key',
    pattern: re(
      'gi',
    )`${TOKEN_START}(?<pre>(?:aws)?_?secret_?access_?key\\{0,7}["']?\s{0,16}[:=]\s{0,16}\\{0,7}["']?)(?<secret>[A-Za-z0-9/+=]{40})(?![A-Za-z0-9/+=])`,
  },
  {
    // Access key ids (AKIA), temporary (ASIA) and the other unique-id prefixes AWS documents.
    kind: 'aws-access-key',
    label: 'AWS access key id',
    pattern: re('g')`${TOKEN_START}(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}\b`,
  },
  {
    // Classic tokens (ghp_, gho_, ghu_, ghs_, ghr_) and fine-grained personal access tokens.
    kind: 'github-token',
    label: 'GitHub token',
    pattern: re('g')`${TOKEN_START}(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b`,
  },
  {
    kind: 'gitlab-token',
    label: 'GitLab token',
    pattern: re('g')`${TOKEN_START}(?:glpat|gldt|glrt|glptt|glsoat|gloas)-[A-Za-z0-9_-]{20,}`,
  },
  { kind: 'slack-token', label: 'Slack token', pattern: re('g')`${TOKEN_START}(?:xox[abposr]|xapp)-[A-Za-z0-9-]{10,}` },
  { kind: 'stripe-key', label: 'Stripe key', pattern: re('g')`${TOKEN_START}(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}` },
  { kind: 'google-api-key', label: 'Google API key', pattern: re('g')`${TOKEN_START}AIza[A-Za-z0-9_-]{35}(?![\w-])` },
  { kind: 'npm-token', label: 'npm token', pattern: re('g')`${TOKEN_START}npm_[A-Za-z0-9]{36}\b` },
  {
    // sk-…, sk-proj-…, sk-svcacct-…, sk-admin-…: letters and digits both, so a long kebab-case word is not one.
    kind: 'openai-key',
    label: 'OpenAI key',
    pattern: re('g')`${TOKEN_START}sk-[A-Za-z0-9_-]{32,}`,
    isCredential: (key) => /\d/.test(key) && /[A-Za-z]/.test(key.slice(3)),
  },
];

export interface CredentialMatch {
  format: CredentialFormat;
  /** The whole match (for a keyed format: key, separator and value). */
  match: string;
  /** The credential itself. */
  secret: string;
}

/** The first known credential in `text` (table order), or undefined. For short texts (a line of code). */
export function findCredential(text: string): CredentialMatch | undefined {
  for (const format of CREDENTIAL_FORMATS) {
    format.pattern.lastIndex = 0;
    for (let m = format.pattern.exec(text); m; m = format.pattern.exec(text)) {
      const secret = m.groups?.secret ?? m[0];
      if (!format.isCredential || format.isCredential(secret)) {
        format.pattern.lastIndex = 0;
        return { format, match: m[0], secret };
      }
      if (m[0] === '') format.pattern.lastIndex++;
    }
  }
  return undefined;
}
