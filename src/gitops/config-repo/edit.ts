/**
 * The image of a service in a GitOps config file, read and changed without touching anything else. Pure.
 *
 * Three shapes, as the operator's target says: a kustomization's `images[]` entry (by name: its `newTag`
 * or `digest`), a Helm values key (a dotted path), or the `image` of a named container in a plain
 * manifest (every Deployment, StatefulSet, DaemonSet, Rollout, Job, CronJob… in the file: any `containers`
 * or `initContainers` list). The file is parsed with the `yaml` Document API only to find the scalar and
 * its source range; the new value is spliced into the original text at that range, in the scalar's own
 * quoting style, so comments, order, indentation and every other byte stay as they were. The result is
 * parsed again and must differ from the original in exactly the located values.
 */
import {
  type Document,
  isMap,
  isScalar,
  isSeq,
  type Node,
  parseAllDocuments,
  parseDocument,
  type Scalar,
  type YAMLMap,
} from 'yaml';

export type Locator =
  | { kind: 'kustomize'; image: string; field: 'newTag' | 'digest' }
  | { kind: 'helm'; key: string }
  | { kind: 'manifest'; container: string };

/** A new image reference: a tag, or a digest. */
export type ImageRef = { tag: string } | { digest: string };

const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

export class EditError extends Error {}

/** Why `ref` is not an image tag or digest suture writes, or null. */
export function imageRefProblem(ref: ImageRef): string | null {
  if ('tag' in ref) return TAG.test(ref.tag) ? null : `${JSON.stringify(ref.tag.slice(0, 80))} is not an image tag`;
  return DIGEST.test(ref.digest) ? null : `${JSON.stringify(ref.digest.slice(0, 80))} is not a sha256 digest`;
}

export function describeLocator(l: Locator): string {
  if (l.kind === 'kustomize') return `images[name=${l.image}].${l.field}`;
  if (l.kind === 'helm') return l.key;
  return `containers[name=${l.container}].image`;
}

interface Found {
  node: Scalar;
  value: string;
}

function mapValue(map: YAMLMap, key: string): Node | null {
  for (const pair of map.items) {
    if (isScalar(pair.key) && String(pair.key.value) === key) return (pair.value as Node | null) ?? null;
  }
  return null;
}

function scalarString(node: Node | null, where: string): Found {
  if (!isScalar(node) || node.value === null || typeof node.value === 'object') {
    throw new EditError(`${where} is not a plain value`);
  }
  if (node.type === 'BLOCK_LITERAL' || node.type === 'BLOCK_FOLDED') throw new EditError(`${where} is a block scalar`);
  return { node, value: String(node.value) };
}

/** Every `containers`/`initContainers` item named `name`, anywhere below `node`. */
function containerImages(node: Node | null, name: string, out: Found[]): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '';
      const value = pair.value as Node | null;
      if ((key === 'containers' || key === 'initContainers') && isSeq(value)) {
        for (const item of value.items) {
          if (isMap(item) && String((mapValue(item, 'name') as Scalar | null)?.value) === name) {
            out.push(scalarString(mapValue(item, 'image'), `the image of container ${name}`));
          }
        }
      } else containerImages(value, name, out);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) containerImages(item as Node, name, out);
  }
}

type Docs = Document.Parsed[];

function parse(text: string): Docs {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  for (const d of docs) {
    if (d.errors.length) throw new EditError(`it is not valid YAML: ${d.errors[0]!.message.split('\n')[0]}`);
  }
  return docs;
}

/** The scalars `locator` names in `docs` (a manifest may name several), or an EditError saying what is missing. */
function locate(docs: Docs, l: Locator): Found[] {
  if (l.kind === 'manifest') {
    const out: Found[] = [];
    for (const d of docs) containerImages(d.contents as Node | null, l.container, out);
    if (out.length === 0) throw new EditError(`no container named ${l.container} in it`);
    return out;
  }
  const root = docs[0]?.contents as Node | null | undefined;
  if (docs.length !== 1 || !isMap(root)) throw new EditError('it is not one YAML mapping');
  if (l.kind === 'kustomize') {
    const images = mapValue(root, 'images');
    const entry = isSeq(images)
      ? images.items.find((i) => isMap(i) && String((mapValue(i, 'name') as Scalar | null)?.value) === l.image)
      : undefined;
    if (!isMap(entry)) throw new EditError(`it has no images[] entry named ${l.image}`);
    const field = mapValue(entry, l.field);
    if (field === null) throw new EditError(`its images[] entry ${l.image} has no ${l.field}`);
    return [scalarString(field, `images[name=${l.image}].${l.field}`)];
  }
  let node: Node | null = root;
  for (const part of l.key.split('.')) {
    node = isMap(node) ? mapValue(node, part) : null;
    if (node === null) throw new EditError(`it has no key ${l.key}`);
  }
  return [scalarString(node, l.key)];
}

/** The new text of an image value: for a manifest, the existing repository with the new tag or digest. */
export function newValue(l: Locator, old: string, ref: ImageRef): string {
  if (l.kind !== 'manifest') return 'tag' in ref ? ref.tag : ref.digest;
  const noDigest = old.split('@')[0]!;
  const colon = noDigest.lastIndexOf(':');
  const repo = colon > noDigest.lastIndexOf('/') ? noDigest.slice(0, colon) : noDigest;
  return 'tag' in ref ? `${repo}:${ref.tag}` : `${repo}@${ref.digest}`;
}

/** `value` written in the scalar style `node` had; plain only when it reads back as that string. */
function render(node: Scalar, value: string): string {
  if (node.type === 'QUOTE_SINGLE') return `'${value.replaceAll("'", "''")}'`;
  if (node.type === 'PLAIN' && /^[^\s#'"&*!|>%@`{}[\],?:-][^\s#]*$/.test(value)) {
    const back = parseDocument(`k: ${value}\n`).get('k');
    if (back === value) return value;
  }
  return JSON.stringify(value);
}

export interface ImageEdit {
  text: string;
  /** The value before (the first located one; a manifest's containers must all agree). */
  previous: string;
  value: string;
  /** How many values were changed (several containers of one name in a manifest). */
  changed: number;
}

/** The current image value at `locator` in `text`. */
export function readImage(text: string, l: Locator): string {
  return agreed(locate(parse(text), l), l);
}

function agreed(found: Found[], l: Locator): string {
  const values = new Set(found.map((f) => f.value));
  if (values.size > 1)
    throw new EditError(`its containers named ${describeLocator(l)} disagree: ${[...values].join(', ')}`);
  return found[0]!.value;
}

/**
 * Sets the value at `locator` to `value` (exactly that text). `text` unchanged when it already is. The
 * result is checked: parsed again, every document equal to the original but for the located values.
 */
export function setImage(text: string, l: Locator, value: string): ImageEdit {
  const found = locate(parse(text), l);
  const previous = agreed(found, l);
  if (previous === value) return { text, previous, value, changed: 0 };
  let out = text;
  for (const f of [...found].sort((a, b) => b.node.range![0] - a.node.range![0])) {
    const [start, end] = f.node.range!;
    out = out.slice(0, start) + render(f.node, value) + out.slice(end);
  }
  // The check: the original documents with the values set through the Document API, compared as data.
  const expected = parse(text);
  for (const f of locate(expected, l)) f.node.value = value;
  const asData = (docs: Docs) => JSON.stringify(docs.map((d) => d.toJS()));
  if (readImage(out, l) !== value || asData(parse(out)) !== asData(expected)) {
    throw new EditError('the edit would change more than the image value');
  }
  return { text: out, previous, value, changed: found.length };
}
