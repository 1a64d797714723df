/**
 * The route a request exercises, for de-duplicating healthy samples: the method and the path template,
 * with segments that are ids (numbers, UUIDs, long hex) collapsed to `:id` and the query reduced to its
 * sorted parameter names. `GET /orders/17?expand=1` and `GET /orders/42?expand=0` are one route.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NUMBER = /^[-+]?\d+(?:\.\d+)?$/;
// Hex ids (hashes, ObjectIds): long enough not to be a word like `cafe` or `added`.
const HEX = /^[0-9a-f]{7,}$/i;

function isIdSegment(segment: string): boolean {
  if (NUMBER.test(segment) || UUID.test(segment)) return true;
  return HEX.test(segment) && (/\d/.test(segment) || segment.length >= 16);
}

export function routeKey(method: string, path: string): string {
  const q = path.indexOf('?');
  const pathname = q < 0 ? path : path.slice(0, q);
  const template = pathname
    .split('/')
    .map((s) => (isIdSegment(s) ? ':id' : s))
    .join('/');
  const names =
    q < 0
      ? []
      : [
          ...new Set(
            path
              .slice(q + 1)
              .split('&')
              .map((kv) => kv.split('=')[0]!),
          ),
        ];
  const query = names
    .filter(Boolean)
    .sort()
    .map((n) => `${n}=`)
    .join('&');
  return `${method.toUpperCase()} ${template}${query ? `?${query}` : ''}`;
}
