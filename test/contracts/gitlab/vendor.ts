/**
 * Regenerates openapi.subset.json.gz: the operations the gitlab provider uses, cut out of GitLab's published
 * OpenAPI v2 (Swagger 2.0) description, `doc/api/openapi/openapi_v2.yaml` in the GitLab repository (MIT),
 * and converted to OpenAPI 3.0 for the contract server: path and query parameters become schemas, the body
 * parameter a JSON request body, responses JSON content, and the definitions they reach components.
 *
 *   npx node test/contracts/gitlab/vendor.ts PATH/TO/openapi_v2.yaml
 *
 * An operation the given description lacks (older GitLab descriptions have no notes endpoints) is taken
 * from notes.from-docs.json instead: recorded from GitLab's API documentation (doc/api/notes.md), and
 * marked so (`x-source: docs`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { GITLAB_OPERATIONS } from './operations.ts';

type Json = Record<string, unknown>;
const here = dirname(fileURLToPath(import.meta.url));
const source = process.argv[2];
if (!source) throw new Error('usage: vendor.ts PATH/TO/openapi_v2.yaml');
const v2 = parse(readFileSync(source, 'utf8'), { maxAliasCount: -1 }) as Json;
const definitions = v2.definitions as Record<string, Json>;
const docs = JSON.parse(readFileSync(join(here, 'notes.from-docs.json'), 'utf8')) as Record<string, Json>;

const needed = new Set<string>();
function refs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(refs);
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === '$ref' && typeof v === 'string') {
      const name = v.replace('#/definitions/', '');
      if (!needed.has(name)) {
        needed.add(name);
        refs(definitions[name]);
      }
      out[k] = `#/components/schemas/${name}`;
    } else if (k.startsWith('x-')) {
      // generator extensions: not part of validation
    } else {
      out[k] = refs(v);
    }
  }
  return out;
}

function convert(op: Json): Json {
  const params = (op.parameters ?? []) as Json[];
  const out: Json = { operationId: op.operationId, tags: op.tags };
  const plain = params.filter((p) => p.in === 'path' || p.in === 'query');
  out.parameters = plain.map((p) => {
    const { name, in: where, required, description: _d, example: _e, collectionFormat, ...schema } = p;
    // Swagger 2's collectionFormat is OpenAPI 3's style/explode (`multi`: name=a&name=b).
    const style = collectionFormat === undefined ? {} : { style: 'form', explode: collectionFormat === 'multi' };
    return { name, in: where, required: Boolean(required), ...style, schema: refs(schema) };
  });
  const body = params.find((p) => p.in === 'body');
  const form = params.filter((p) => p.in === 'formData');
  if (body) {
    out.requestBody = {
      required: Boolean(body.required),
      content: { 'application/json': { schema: refs(body.schema) } },
    };
  } else if (form.length) {
    const properties: Json = {};
    for (const f of form) properties[f.name as string] = refs({ type: f.type, items: f.items, format: f.format });
    out.requestBody = { content: { 'application/json': { schema: { type: 'object', properties } } } };
  }
  const responses: Json = {};
  for (const [code, r] of Object.entries((op.responses ?? {}) as Record<string, Json>)) {
    responses[code] = {
      description: r.description ?? '',
      ...(r.schema ? { content: { 'application/json': { schema: refs(r.schema) } } } : {}),
    };
  }
  out.responses = responses;
  return out;
}

const paths: Record<string, Json> = {};
const fromDocs: string[] = [];
for (const o of GITLAB_OPERATIONS) {
  const op = ((v2.paths as Record<string, Json>)[o.path]?.[o.method] as Json | undefined) ?? undefined;
  let converted: Json;
  if (op) converted = convert(op);
  else {
    const recorded = docs[o.operationId];
    if (!recorded)
      throw new Error(`${o.method.toUpperCase()} ${o.path} is neither in ${source} nor recorded from the docs`);
    converted = refs(recorded) as Json;
    fromDocs.push(o.operationId);
  }
  paths[o.path] ??= {};
  paths[o.path]![o.method] = converted;
}
const schemas: Record<string, unknown> = {};
// Definitions are converted after the paths reached them; converting may reach more.
for (let before = -1; before !== needed.size; ) {
  before = needed.size;
  for (const n of [...needed]) schemas[n] = refs(definitions[n]);
}
const info = v2.info as Json;
const out = {
  openapi: '3.0.3',
  info: {
    title: info.title,
    version: info.version,
    'x-subset-of': 'GitLab doc/api/openapi/openapi_v2.yaml',
    'x-from-docs': fromDocs,
  },
  paths,
  components: { schemas },
};
writeFileSync(join(here, 'openapi.subset.json.gz'), gzipSync(JSON.stringify(out), { level: 9 }));
console.log(
  `${GITLAB_OPERATIONS.length} operations (${fromDocs.length} recorded from the docs), ${needed.size} schemas`,
);
