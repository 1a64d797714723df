/**
 * An approximate tokenizer, good enough for budgets: one token per 3 UTF-8 bytes, rounded up. BPE
 * tokenizers (OpenAI's, Llama's, Qwen's) average about 4 bytes per token on English prose and 3 to 3.5 on
 * source code and JSON; counting 3 overestimates, so a prompt trimmed to N estimated tokens stays under N
 * real ones on any of them. What was actually spent is what the server reports in `usage`.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 3);
}

/** The longest prefix of `text` within `tokens` estimated tokens (never splitting a UTF-16 pair). */
export function truncateToTokens(text: string, tokens: number): string {
  return cutToTokens(text, tokens, 'head');
}

/** The longest suffix of `text` within `tokens` estimated tokens. */
export function tailToTokens(text: string, tokens: number): string {
  return cutToTokens(text, tokens, 'tail');
}

function cutToTokens(text: string, tokens: number, keep: 'head' | 'tail'): string {
  if (estimateTokens(text) <= tokens) return text;
  const maxBytes = Math.max(0, tokens * 3);
  const part = (n: number) => (keep === 'head' ? text.slice(0, n) : text.slice(text.length - n));
  // Binary search for the most UTF-16 units whose UTF-8 size fits.
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (Buffer.byteLength(part(mid), 'utf8') <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  let out = part(lo);
  // Half a surrogate pair at the cut is not text: drop it.
  if (keep === 'head' && /[\ud800-\udbff]$/.test(out)) out = out.slice(0, -1);
  if (keep === 'tail' && /^[\udc00-\udfff]/.test(out)) out = out.slice(1);
  return out;
}
