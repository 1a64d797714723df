/**
 * An access path: how a value is reached from one variable (`order.shipping.address`, `cart["items"][0]`,
 * every element of a list). Paths are what a fault is lifted along, from the crashing function up through
 * its callers to the request handler, where the check that answers 4xx is written. Pure.
 */

export type Step =
  | { k: 'prop'; name: string } // .name (JS property, Python attribute)
  | { k: 'key'; key: string | number } // ["key"] / [0] with a constant
  | { k: 'get'; key: string; fallback?: string } // Python d.get("key"[, fallback]) — fallback is source text
  | { k: 'each' }; // every element (a for loop over it, a .map callback)

export interface AccessPath {
  root: string;
  steps: Step[];
}

/** How a value is bad at the fault: what the 4xx check tests and what its message says. */
export type Bad =
  | 'nullish' // missing, None, undefined or null
  | 'missing' // a key absent from a mapping (None is a value)
  | 'empty' // an empty sequence
  | 'zero' // a zero divisor
  | 'not-array'
  | 'not-string'
  | 'not-function'
  | 'unsupported' // a key the code's lookup table has no entry for
  | 'not-number' // NaN from Number()/parseInt
  | 'not-number-type' // a string (or anything) where the code calls a number's methods
  | 'invalid-date'
  | 'unparseable'; // fails its parser (JSON, int(), fromisoformat, …)

/** Where frameworks keep the request's fields (`request.args`, `req.body`, `ctx.request.body`). */
const CONTAINERS = new Set([
  'request',
  'args',
  'form',
  'json',
  'GET',
  'POST',
  'query',
  'body',
  'params',
  'query_params',
  'data',
  'values',
  'path_params',
  'files',
  'cookies',
  'payload',
  'searchParams',
]);
const REQUEST_ROOTS = /^(request|req|ctx|context|self|url)$/;

/** `shipping.address`, `items[].qty`, `items[0]`: the field as an API user knows it (root left out). */
export function fieldLabel(path: AccessPath): string {
  let out = '';
  let steps = path.steps;
  if (REQUEST_ROOTS.test(path.root)) {
    let i = 0;
    while (i < steps.length - 1 && steps[i]!.k === 'prop' && CONTAINERS.has((steps[i] as { name: string }).name)) i++;
    steps = steps.slice(i);
  }
  for (const s of steps) {
    if (s.k === 'each') out += '[]';
    else if (s.k === 'key' && typeof s.key === 'number') out += `[${s.key}]`;
    else {
      const name = s.k === 'prop' ? s.name : String(s.key);
      out += out ? `.${name}` : name;
    }
  }
  // A variable that is itself the list (`entries` bound from the body): `entries[].bookedAt`, not `[].bookedAt`.
  if (out.startsWith('[') && steps === path.steps && !REQUEST_ROOTS.test(path.root)) out = `${path.root}${out}`;
  return out;
}

/** The 4xx message: plain words from the field's name in the code, never from the incident. */
export function badMessage(path: AccessPath | undefined, bad: Bad, parser?: string): string {
  const label = (path && fieldLabel(path)) || '';
  const what = label || 'the request body';
  switch (bad) {
    case 'nullish':
    case 'missing':
      return label ? `${what} is required` : 'a request body is required';
    case 'empty':
      return `${what} must not be empty`;
    case 'zero':
      return `${what} must not be zero`;
    case 'not-array':
      return `${what} must be a list`;
    case 'not-string':
      return `${what} must be a string`;
    case 'not-function':
    case 'unsupported':
      return `${what} is not supported`;
    case 'not-number':
    case 'not-number-type':
      return `${what} must be a number`;
    case 'invalid-date':
      return `${what} must be a valid date`;
    case 'unparseable':
      return parser ? `${what} must be ${parser}` : `${what} is malformed`;
  }
}

export function samePath(a: AccessPath, b: AccessPath): boolean {
  return a.root === b.root && JSON.stringify(a.steps) === JSON.stringify(b.steps);
}

/** How a value is bad, in a summary's words. */
export function badWords(bad: Bad): string {
  switch (bad) {
    case 'nullish':
    case 'missing':
      return 'missing';
    case 'empty':
      return 'empty';
    case 'zero':
      return 'zero';
    case 'not-array':
      return 'not a list';
    case 'not-string':
      return 'not a string';
    case 'not-function':
      return 'not callable';
    case 'unsupported':
      return 'not supported';
    case 'not-number':
    case 'not-number-type':
      return 'not a number';
    case 'invalid-date':
      return 'not a date';
    case 'unparseable':
      return 'malformed';
  }
}
