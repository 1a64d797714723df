/**
 * GitHub's auto-merge is GraphQL only, outside the REST description. This checks a GraphQL request against
 * the vendored cut of GitHub's published GraphQL schema (graphql.subset.graphql): the operation parses,
 * every selected field exists on its type (leaves without, objects with a selection), every argument and
 * input-object field exists with a compatible type and the required ones are present, the variables are
 * declared, typed as the schema's arguments and inputs need, and their JSON values fit those types
 * (enums among their values). It is a small validator for the part of GraphQL the provider uses
 * (one operation, variables, object arguments; no fragments or directives), not a GraphQL engine: anything
 * outside that part is reported as unsupported, never passed.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface TypeRef {
  name: string;
  list: boolean;
  nonNull: boolean;
  itemNonNull: boolean;
}
interface FieldDef {
  type: TypeRef;
  args: Map<string, { type: TypeRef; hasDefault: boolean }>;
  hasDefault: boolean;
}
interface TypeDef {
  kind: 'type' | 'input' | 'enum' | 'scalar' | 'interface' | 'union';
  fields: Map<string, FieldDef>;
  values: string[];
}

const BUILTIN = new Set(['ID', 'String', 'Int', 'Float', 'Boolean']);

function tokenize(text: string): string[] {
  const clean = text.replace(/"""[\s\S]*?"""/g, ' ').replace(/#[^\n]*/g, ' ');
  const out: string[] = [];
  const re = /\s+|,|([{}()[\]:!$=&|@])|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?)|([A-Za-z_]\w*)|(\S)/g;
  for (const m of clean.matchAll(re)) {
    const tok = m[1] ?? m[2] ?? m[3] ?? m[4] ?? m[5];
    if (tok) out.push(tok);
  }
  return out;
}

class Cursor {
  i = 0;
  readonly t: string[];
  constructor(t: string[]) {
    this.t = t;
  }
  peek(): string | undefined {
    return this.t[this.i];
  }
  next(): string {
    const v = this.t[this.i++];
    if (v === undefined) throw new Error('unexpected end');
    return v;
  }
  expect(v: string): void {
    const got = this.next();
    if (got !== v) throw new Error(`expected ${v}, got ${got}`);
  }
  eat(v: string): boolean {
    if (this.peek() !== v) return false;
    this.i++;
    return true;
  }
}

function typeRef(c: Cursor): TypeRef {
  if (c.eat('[')) {
    const name = c.next();
    const itemNonNull = c.eat('!');
    c.expect(']');
    return { name, list: true, itemNonNull, nonNull: c.eat('!') };
  }
  const name = c.next();
  return { name, list: false, itemNonNull: false, nonNull: c.eat('!') };
}

function skipValue(c: Cursor): void {
  const v = c.next();
  if (v === '[' || v === '{') {
    const close = v === '[' ? ']' : '}';
    while (c.peek() !== close) skipValue(c);
    c.next();
  }
}

export function parseSchema(sdl: string): Map<string, TypeDef> {
  const c = new Cursor(tokenize(sdl));
  const types = new Map<string, TypeDef>();
  while (c.peek() !== undefined) {
    const kind = c.next() as TypeDef['kind'];
    const name = c.next();
    const def: TypeDef = { kind, fields: new Map(), values: [] };
    types.set(name, def);
    if (kind === 'scalar') continue;
    while (c.peek() !== '{') c.next(); // implements A & B
    c.expect('{');
    while (!c.eat('}')) {
      const f = c.next();
      if (kind === 'enum') {
        def.values.push(f);
        continue;
      }
      const args = new Map<string, { type: TypeRef; hasDefault: boolean }>();
      if (c.eat('(')) {
        while (!c.eat(')')) {
          const a = c.next();
          c.expect(':');
          const type = typeRef(c);
          const hasDefault = c.eat('=');
          if (hasDefault) skipValue(c);
          args.set(a, { type, hasDefault });
        }
      }
      c.expect(':');
      const type = typeRef(c);
      const hasDefault = c.eat('=');
      if (hasDefault) skipValue(c);
      def.fields.set(f, { type, args, hasDefault });
    }
  }
  return types;
}

type Value =
  | { kind: 'var'; name: string }
  | { kind: 'object'; fields: Map<string, Value> }
  | { kind: 'list'; items: Value[] }
  | { kind: 'literal'; token: string };

function value(c: Cursor): Value {
  if (c.eat('$')) return { kind: 'var', name: c.next() };
  if (c.eat('{')) {
    const fields = new Map<string, Value>();
    while (!c.eat('}')) {
      const k = c.next();
      c.expect(':');
      fields.set(k, value(c));
    }
    return { kind: 'object', fields };
  }
  if (c.eat('[')) {
    const items: Value[] = [];
    while (!c.eat(']')) items.push(value(c));
    return { kind: 'list', items };
  }
  return { kind: 'literal', token: c.next() };
}

interface Selection {
  name: string;
  args: Map<string, Value>;
  selections: Selection[] | null;
}

function selectionSet(c: Cursor): Selection[] {
  c.expect('{');
  const out: Selection[] = [];
  while (!c.eat('}')) {
    let name = c.next();
    if (name === '...' || name === '@') throw new Error('fragments and directives are not supported here');
    if (c.eat(':')) name = c.next(); // alias
    const args = new Map<string, Value>();
    if (c.eat('(')) {
      while (!c.eat(')')) {
        const a = c.next();
        c.expect(':');
        args.set(a, value(c));
      }
    }
    out.push({ name, args, selections: c.peek() === '{' ? selectionSet(c) : null });
  }
  return out;
}

const typeText = (t: TypeRef) => `${t.list ? `[${t.name}${t.itemNonNull ? '!' : ''}]` : t.name}${t.nonNull ? '!' : ''}`;

export function checkGraphql(
  schema: Map<string, TypeDef>,
  query: string,
  variables: Record<string, unknown>,
): { problems: string[]; operation: string | null; field: string | null } {
  const problems: string[] = [];
  let c: Cursor;
  let vars: Map<string, { type: TypeRef; hasDefault: boolean }>;
  let root: Selection[];
  let operation: string;
  try {
    c = new Cursor(tokenize(query));
    operation = c.next();
    if (operation !== 'mutation' && operation !== 'query') throw new Error(`unsupported operation ${operation}`);
    if (c.peek() !== '(' && c.peek() !== '{') c.next(); // its name
    vars = new Map();
    if (c.eat('(')) {
      while (!c.eat(')')) {
        c.expect('$');
        const n = c.next();
        c.expect(':');
        const type = typeRef(c);
        const hasDefault = c.eat('=');
        if (hasDefault) skipValue(c);
        vars.set(n, { type, hasDefault });
      }
    }
    root = selectionSet(c);
    if (c.peek() !== undefined) throw new Error('one operation per document');
  } catch (err) {
    return { problems: [`does not parse: ${(err as Error).message}`], operation: null, field: null };
  }
  const known = (name: string) => BUILTIN.has(name) || schema.has(name);
  for (const [n, v] of vars) if (!known(v.type.name)) problems.push(`$${n}: unknown type ${v.type.name}`);

  const usedVars = new Set<string>();
  const checkValue = (v: Value, want: TypeRef, hasDefault: boolean, where: string) => {
    if (v.kind === 'var') {
      usedVars.add(v.name);
      const d = vars.get(v.name);
      if (!d) return problems.push(`${where}: $${v.name} is not declared`);
      const nullOk = !want.nonNull || d.type.nonNull || d.hasDefault || hasDefault;
      if (d.type.name !== want.name || d.type.list !== want.list || !nullOk) {
        problems.push(`${where}: $${v.name} is ${typeText(d.type)}, the schema wants ${typeText(want)}`);
      }
      return;
    }
    if (v.kind === 'object') {
      const input = schema.get(want.name);
      if (input?.kind !== 'input') return problems.push(`${where}: an object where ${want.name} is wanted`);
      for (const [k, fv] of v.fields) {
        const f = input.fields.get(k);
        if (!f) problems.push(`${where}.${k}: ${want.name} has no field ${k}`);
        else checkValue(fv, f.type, f.hasDefault, `${where}.${k}`);
      }
      for (const [k, f] of input.fields) {
        if (f.type.nonNull && !f.hasDefault && !v.fields.has(k))
          problems.push(`${where}: required ${want.name}.${k} missing`);
      }
      return;
    }
    problems.push(`${where}: literals are not checked here; use a variable`);
  };

  const walk = (typeName: string, sels: Selection[], path: string) => {
    const type = schema.get(typeName);
    for (const s of sels) {
      const f = type?.fields.get(s.name);
      if (!f) {
        problems.push(`${path}${s.name}: ${typeName} has no field ${s.name}`);
        continue;
      }
      for (const [a, v] of s.args) {
        const ad = f.args.get(a);
        if (!ad) problems.push(`${path}${s.name}(${a}): no such argument`);
        else checkValue(v, ad.type, ad.hasDefault, `${path}${s.name}(${a})`);
      }
      for (const [a, ad] of f.args) {
        if (ad.type.nonNull && !ad.hasDefault && !s.args.has(a))
          problems.push(`${path}${s.name}: required argument ${a} missing`);
      }
      const target = schema.get(f.type.name);
      const leaf = BUILTIN.has(f.type.name) || target?.kind === 'scalar' || target?.kind === 'enum';
      if (leaf && s.selections) problems.push(`${path}${s.name}: a leaf cannot have a selection`);
      if (!leaf && !s.selections) problems.push(`${path}${s.name}: an object needs a selection`);
      if (!leaf && s.selections) {
        if (!target) problems.push(`${path}${s.name}: type ${f.type.name} is not in the vendored schema`);
        else walk(f.type.name, s.selections, `${path}${s.name}.`);
      }
    }
  };
  walk(operation === 'mutation' ? 'Mutation' : 'Query', root, '');

  for (const n of vars.keys()) if (!usedVars.has(n)) problems.push(`$${n} is declared but not used`);
  for (const n of Object.keys(variables)) if (!vars.has(n)) problems.push(`variable ${n} is not declared`);
  const fits = (t: TypeRef, v: unknown, where: string): void => {
    if (v === null || v === undefined) {
      if (t.nonNull) problems.push(`${where}: required, got ${v}`);
      return;
    }
    if (t.list) {
      if (!Array.isArray(v)) {
        problems.push(`${where}: a list is wanted`);
        return;
      }
      for (const [i, x] of v.entries()) fits({ ...t, list: false, nonNull: t.itemNonNull }, x, `${where}[${i}]`);
      return;
    }
    const def = schema.get(t.name);
    const ok =
      t.name === 'Int'
        ? Number.isInteger(v)
        : t.name === 'Float'
          ? typeof v === 'number'
          : t.name === 'Boolean'
            ? typeof v === 'boolean'
            : def?.kind === 'enum'
              ? def.values.includes(String(v))
              : def?.kind === 'input'
                ? typeof v === 'object'
                : typeof v === 'string'; // ID, String and custom scalars travel as strings
    if (!ok) problems.push(`${where}: ${JSON.stringify(v)} is not a ${t.name}`);
    if (def?.kind === 'input' && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
        const f = def.fields.get(k);
        if (!f) problems.push(`${where}.${k}: ${t.name} has no field ${k}`);
        else fits(f.type, x, `${where}.${k}`);
      }
    }
  };
  for (const [n, d] of vars) fits(d.type, variables[n], `$${n}`);
  if (/GitObjectID/.test(query)) {
    for (const [n, d] of vars) {
      const v = variables[n];
      if (d.type.name === 'GitObjectID' && v != null && !/^[0-9a-f]{40}$/.test(String(v))) {
        problems.push(`$${n}: ${JSON.stringify(v)} is not a git object id`);
      }
    }
  }
  return { problems, operation, field: root[0]?.name ?? null };
}

export function githubGraphqlSchema(): Map<string, TypeDef> {
  const here = dirname(fileURLToPath(import.meta.url));
  return parseSchema(readFileSync(join(here, 'graphql.subset.graphql'), 'utf8'));
}
