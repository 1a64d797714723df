/**
 * The compiled policy bundle (opa build -t wasm): loaded once per file and reused for every decision.
 * opa-wasm supplies sprintf, json, regex.split and yaml; suture supplies the other builtins its policies call,
 * and refuses a bundle that needs a builtin nobody provides (it would only fail mid-evaluation).
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { type LoadedPolicy, loadPolicy } from '@open-policy-agent/opa-wasm';
import { SutureError } from '../errors.ts';
import { readTarGz } from './tar.ts';
import { decisionSchema, type PolicyDecision } from './types.ts';

export const ENTRYPOINT = 'suture/decision';

/** Builtins opa-wasm implements in JavaScript (src/builtins of @open-policy-agent/opa-wasm). */
const SDK_BUILTINS = new Set([
  'json.is_valid',
  'regex.split',
  'sprintf',
  'yaml.is_valid',
  'yaml.marshal',
  'yaml.unmarshal',
]);

/** Builtins the WASM planner leaves to the host and the SDK lacks; arguments arrive as JSON values. */
export const CUSTOM_BUILTINS: Record<string, (...args: never[]) => unknown> = {
  'strings.any_prefix_match': (search: unknown, base: unknown) =>
    asList(search).some((x) => asList(base).some((p) => String(x).startsWith(String(p)))),
  'strings.any_suffix_match': (search: unknown, base: unknown) =>
    asList(search).some((x) => asList(base).some((p) => String(x).endsWith(String(p)))),
  'strings.count': (s: string, sub: string) => (sub === '' ? [...s].length + 1 : s.split(sub).length - 1),
  'semver.is_valid': (v: unknown) => typeof v === 'string' && SEMVER.test(v),
  'semver.compare': (a: string, b: string) => compareSemver(a, b),
  'crypto.sha256': (s: string) => createHash('sha256').update(s).digest('hex'),
  'regex.find_n': (pattern: string, s: string, n: number) => {
    const all = s.match(new RegExp(pattern, 'g')) ?? [];
    return n < 0 ? all : all.slice(0, n);
  },
};

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v];
}

const SEMVER =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*)?$/;

/** semver 2.0.0 precedence: -1, 0 or 1; build metadata is ignored. Invalid versions throw, like OPA. */
export function compareSemver(a: string, b: string): number {
  const pa = SEMVER.exec(a);
  const pb = SEMVER.exec(b);
  if (!pa || !pb) throw new Error(`semver.compare: invalid version ${pa ? b : a}`);
  for (let i = 1; i <= 3; i++) {
    const d = Number(pa[i]) - Number(pb[i]);
    if (d !== 0) return Math.sign(d);
  }
  const ra = pa[4]?.split('.') ?? [];
  const rb = pb[4]?.split('.') ?? [];
  if (ra.length === 0 || rb.length === 0) return ra.length === rb.length ? 0 : ra.length === 0 ? 1 : -1;
  for (let i = 0; i < Math.max(ra.length, rb.length); i++) {
    const x = ra[i];
    const y = rb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    if (x === y) continue;
    const nx = /^\d+$/.test(x);
    const ny = /^\d+$/.test(y);
    if (nx && ny) return Math.sign(Number(x) - Number(y));
    if (nx !== ny) return nx ? -1 : 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

export type PolicyBundle = {
  path: string;
  policy: LoadedPolicy;
  /** Builtins the module imports from the host. */
  builtins: string[];
  loadMs: number;
};

/** Splits a bundle file into its WASM module and data document; a bare .wasm file has no data. */
export function bundleParts(path: string, bytes: Buffer): { wasm: Buffer; data: unknown } {
  if (path.endsWith('.wasm')) return { wasm: bytes, data: {} };
  const files = readTarGz(bytes);
  const manifest = files.get('.manifest');
  const module = manifest
    ? ((JSON.parse(manifest.toString('utf8')) as { wasm?: { module: string }[] }).wasm?.[0]?.module ?? '/policy.wasm')
    : '/policy.wasm';
  const wasm = files.get(module.replace(/^\//, ''));
  if (!wasm) throw new Error(`${path} holds no ${module}; build it with \`suture policy build\``);
  const data = files.get('data.json');
  return { wasm, data: data ? (JSON.parse(data.toString('utf8')) as unknown) : {} };
}

function importedBuiltins(policy: LoadedPolicy): string[] {
  const exports = policy.wasmInstance.exports as unknown as {
    builtins: () => number;
    opa_json_dump: (addr: number) => number;
  };
  const addr = exports.opa_json_dump(exports.builtins());
  const mem = new Uint8Array(policy.mem.buffer);
  let end = addr;
  while (mem[end] !== 0) end++;
  return Object.keys(JSON.parse(Buffer.from(mem.subarray(addr, end)).toString('utf8')) as object).sort();
}

const cache = new Map<string, { key: string; bundle: Promise<PolicyBundle> }>();

export async function loadBundle(path: string): Promise<PolicyBundle> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new SutureError('POLICY', `policy bundle ${path} not found; build it with \`suture policy build\``);
  }
  const key = `${info.size}:${info.mtimeMs}`;
  const hit = cache.get(path);
  if (hit?.key === key) return hit.bundle;
  const bundle = readBundle(path);
  cache.set(path, { key, bundle });
  bundle.catch(() => cache.delete(path));
  return bundle;
}

/** Reads, compiles and checks a bundle without the cache (loadBundle is the cached entry point). */
export async function readBundle(path: string): Promise<PolicyBundle> {
  const started = performance.now();
  let policy: LoadedPolicy;
  try {
    const { wasm, data } = bundleParts(path, await readFile(path));
    policy = await loadPolicy(wasm, undefined, CUSTOM_BUILTINS);
    policy.setData(data as object);
  } catch (err) {
    throw new SutureError(
      'POLICY',
      `policy bundle ${path} cannot be loaded: ${String((err as Error)?.message ?? err)}`,
    );
  }
  if (!Object.hasOwn(policy.entrypoints as object, ENTRYPOINT)) {
    throw new SutureError('POLICY', `policy bundle ${path} has no ${ENTRYPOINT} entrypoint`);
  }
  const builtins = importedBuiltins(policy);
  const missing = builtins.filter((b) => !SDK_BUILTINS.has(b) && !(b in CUSTOM_BUILTINS));
  if (missing.length) {
    throw new SutureError(
      'POLICY',
      `policy bundle ${path} calls builtins suture does not provide: ${missing.join(', ')}`,
    );
  }
  return { path, policy, builtins, loadMs: performance.now() - started };
}

type Abi12Exports = {
  opa_eval: (
    reserved: number,
    entrypoint: number,
    data: number,
    input: number,
    inputLen: number,
    heap: number,
    format: number,
  ) => number;
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One evaluation through the ABI 1.2 `opa_eval` call, as opa-wasm's own fast path does, but encoding the
 * input straight into WASM memory and finding the result's end with a native scan: the decision is
 * dominated by moving JSON in and out, so this halves its cost. Older modules use opa-wasm's evaluate.
 */
function evaluateRaw(bundle: PolicyBundle, input: unknown): unknown {
  const policy = bundle.policy as LoadedPolicy & { minorVersion: number; dataAddr: number; dataHeapPtr: number };
  if (!(policy.minorVersion >= 2)) return policy.evaluate(input, ENTRYPOINT);
  const json = JSON.stringify(input);
  const mem = policy.mem;
  const at = policy.dataHeapPtr;
  // UTF-8 needs at most 3 bytes per UTF-16 unit; the rest of the heap is what evaluation allocates.
  const shortBy = at + json.length * 3 + 1024 * 1024 - mem.buffer.byteLength;
  if (shortBy > 0) mem.grow(Math.ceil(shortBy / 65536));
  const { written } = encoder.encodeInto(json, new Uint8Array(mem.buffer, at));
  const entrypoint = (policy.entrypoints as Record<string, number>)[ENTRYPOINT]!;
  const out = (policy.wasmInstance.exports as unknown as Abi12Exports).opa_eval(
    0,
    entrypoint,
    policy.dataAddr,
    at,
    written,
    at + written,
    0,
  );
  const bytes = new Uint8Array(mem.buffer);
  return JSON.parse(decoder.decode(bytes.subarray(out, bytes.indexOf(0, out))));
}

/** Evaluates the decision entrypoint and validates what comes back; anything malformed throws. */
export function evaluateDecision(bundle: PolicyBundle, input: unknown): PolicyDecision {
  let result: unknown;
  try {
    result = evaluateRaw(bundle, input);
  } catch (err) {
    // opa-wasm throws strings and plain objects as well as Errors.
    const detail = err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err);
    throw new SutureError('POLICY', `policy evaluation failed: ${detail}`);
  }
  const first = Array.isArray(result) ? (result[0] as { result?: unknown } | undefined) : undefined;
  if (!first || first.result === undefined) {
    throw new SutureError('POLICY', `policy ${ENTRYPOINT} produced no decision (undefined result)`);
  }
  const parsed = decisionSchema.safeParse(first.result);
  if (!parsed.success) {
    throw new SutureError(
      'POLICY',
      `policy ${ENTRYPOINT} returned a malformed decision: ${parsed.error.issues[0]!.message}`,
    );
  }
  return parsed.data;
}
