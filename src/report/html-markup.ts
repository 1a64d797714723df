/**
 * Building HTML from untrusted text. Every interpolated value of the `html` template is escaped unless it
 * is itself `Html` made by this module, so escaping is the default a caller cannot forget: incident text,
 * code, diffs, commit subjects and verdict output are all attacker-writable. Pure.
 */

/** Markup that is already safe: only `html` and `codeText` make it. */
export class Html {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

export type Part = Html | string | number | boolean | null | undefined | readonly Part[];

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for an element's content or a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

function part(p: Part): string {
  if (p instanceof Html) return p.value;
  if (Array.isArray(p)) return p.map(part).join('');
  if (p === null || p === undefined || p === false) return '';
  return escapeHtml(String(p));
}

/** The template tag: literal markup stays, every `${value}` is escaped (arrays joined, null/false dropped). */
export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0]!;
  for (let i = 0; i < parts.length; i++) out += part(parts[i]!) + strings[i + 1]!;
  return new Html(out);
}

/**
 * Characters that change what a reader sees without showing themselves: C0/C1 controls (but tab), bidi
 * embeddings, overrides and isolates (Trojan Source: a diff that reads differently from what it does),
 * zero-width and invisible separators, the BOM. In code and diffs they are shown as a visible `U+XXXX` tag.
 */
const INVISIBLE =
  /[\0-\x08\x0b-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ufff9-\ufffb]/g;

/** One line of code or diff: escaped, invisible characters tagged, cut at `max` characters. */
export function codeText(line: string, max = 400): Html {
  const cut = line.length > max ? `${line.slice(0, max)}…` : line;
  return new Html(
    escapeHtml(cut).replace(
      INVISIBLE,
      (c) => `<span class="ctl">U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}</span>`,
    ),
  );
}

/** A class-name token from data (a status, a decision): letters, digits and dashes only. */
export function token(text: string): string {
  return text.toLowerCase().replace(/[^a-z0-9-]+/g, '-');
}
