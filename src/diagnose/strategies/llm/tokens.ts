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
  if (estimateTokens(text) <= tokens) return text;
  const maxBytes = Math.max(0, tokens * 3);
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (Buffer.byteLength(text.slice(0, mid), 'utf8') <= maxBytes) lo = mid;
    else hi = mid - 1;
  }
  const code = text.charCodeAt(lo - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? lo - 1 : lo);
}

/** The longest suffix of `text` within `tokens` estimated tokens. */
export function tailToTokens(text: string, tokens: number): string {
  if (estimateTokens(text) <= tokens) return text;
  const maxBytes = Math.max(0, tokens * 3);
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (Buffer.byteLength(text.slice(mid), 'utf8') <= maxBytes) hi = mid;
    else lo = mid + 1;
  }
  const code = text.charCodeAt(lo);
  return text.slice(code >= 0xdc00 && code <= 0xdfff ? lo + 1 : lo);
}
