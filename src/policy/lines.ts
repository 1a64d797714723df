/**
 * Lines a change adds and removes, as a multiset difference: a line that only moves is neither. That is the
 * right question for secrets (is this text new?) and for assertions (is this check gone?), and it is linear.
 */
export type NumberedLine = { line: number; text: string };

function split(text: string | null): string[] {
  if (text === null || text === '') return [];
  return text.replace(/\r?\n$/, '').split(/\r?\n/);
}

function minus(from: string[], other: string[]): NumberedLine[] {
  const counts = new Map<string, number>();
  for (const l of other) counts.set(l.trim(), (counts.get(l.trim()) ?? 0) + 1);
  const out: NumberedLine[] = [];
  from.forEach((text, i) => {
    const key = text.trim();
    const n = counts.get(key) ?? 0;
    if (n > 0) counts.set(key, n - 1);
    else out.push({ line: i + 1, text });
  });
  return out;
}

export function lineChanges(
  before: string | null,
  after: string | null,
): { added: NumberedLine[]; removed: NumberedLine[] } {
  const a = split(before);
  const b = split(after);
  return { added: minus(b, a), removed: minus(a, b) };
}
