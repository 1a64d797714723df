/**
 * The differential-replay normaliser: volatile values that legitimately differ between two runs of the same
 * code are replaced by placeholders before base and patched responses are compared. Documented in the
 * README ("Differential replay"). Order matters: timestamps before bare numbers.
 */
const RULES: [RegExp, string][] = [
  // ISO-8601 / RFC 3339 timestamps, with or without fraction and zone
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?\b/g, '<timestamp>'],
  // RFC 1123 dates (HTTP Date headers echoed into bodies)
  [/\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT\b/g, '<timestamp>'],
  // UUIDs
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, '<uuid>'],
  // durations with a unit: 12ms, 0.25 s, 3.1µs
  [/\b\d+(?:\.\d+)?\s?(?:ns|µs|us|ms|s)\b/g, '<duration>'],
  // JSON fields whose names say they are volatile
  [
    /("(?:[a-z_]*(?:time|timestamp|date|duration|elapsed|latency|took|requestId|request_id|trace_?id|span_?id|nonce)[a-z_]*)"\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?)/gi,
    '$1"<volatile>"',
  ],
  // epoch seconds / milliseconds
  [/\b1[6-9]\d{8}(?:\d{3})?\b/g, '<epoch>'],
];

export function normaliseBody(body: string | undefined): string {
  let out = body ?? '';
  for (const [re, rep] of RULES) out = out.replace(re, rep);
  return out.trim();
}
