/**
 * A value read from the code's own lookup table by a key the request chose — `RATES[order["currency"]]`,
 * `handler = HANDLERS.get(event["type"])` — when the table has no entry for it. What is bad is the key:
 * the request handler answers 400 ("currency is not supported") when the table lacks it, reading the
 * table where it is declared (imported into the handler's module when that is another one).
 */
import type { Proposal } from '../../types.ts';
import type { AccessPath } from '../path.ts';
import { constValue, namesInScope, type PyFile, type PyNode, quoteStyle, sliceOf } from './ast.ts';
import { bindingInPy, type PyBinding, type PyModule } from './imports.ts';
import { liftToHandlerPy } from './lift.ts';
import { boundaryAtPy, type PyTemplateContext, pathConditionPy, pathTextPy } from './variants.ts';

/** `T[key]` or `T.get(key)` with a computed key, directly or behind one assignment in the function. */
function lookupOf(file: PyFile, value: PyNode): { table: string; key: PyNode } | undefined {
  let e = value;
  if (e._t === 'Name') {
    const fn = file.functionOf(e);
    const assigns = (fn ? file.descendants(fn, { functions: false }) : []).filter(
      (n) =>
        n._t === 'Assign' &&
        (n.targets as PyNode[]).length === 1 &&
        (n.targets as PyNode[])[0]!._t === 'Name' &&
        (n.targets as PyNode[])[0]!.id === e.id,
    );
    if (assigns.length !== 1) return undefined;
    e = assigns[0]!.value as PyNode;
  }
  let table: PyNode | undefined;
  let key: PyNode | undefined;
  if (e._t === 'Subscript') [table, key] = [e.value as PyNode, sliceOf(e)];
  else if (e._t === 'Call' && (e.func as PyNode)._t === 'Attribute' && (e.func as PyNode).attr === 'get') {
    const args = e.args as PyNode[];
    if (args.length === 1) [table, key] = [(e.func as PyNode).value as PyNode, args[0]];
  }
  if (table?._t !== 'Name' || !key || constValue(key) !== undefined) return undefined;
  return { table: table.id as string, key };
}

/** Where the table is bound at module level: in this file, or imported absolutely from a module. */
function originOf(file: PyFile, name: string): { module: PyModule; name: string } | undefined {
  for (const st of file.tree.body as PyNode[]) {
    if (st._t === 'Assign' && (st.targets as PyNode[]).some((t) => t._t === 'Name' && t.id === name))
      return { module: { path: file.path }, name };
    if (st._t === 'ImportFrom' && !((st.level as number | undefined) ?? 0)) {
      const a = (st.names as PyNode[]).find((x) => ((x.asname as string | null) ?? (x.name as string)) === name);
      if (a) return { module: { module: st.module as string }, name: a.name as string };
    }
  }
  return undefined;
}

export interface PyLookupSite {
  file: PyFile;
  at: PyNode;
  value: PyNode;
  strategy: string;
  confidence: number;
}

/** 400 in the handler when the request's key is not in the table the crashing code looks it up in. */
export function lookupBoundaryPy(ctx: PyTemplateContext, site: PyLookupSite): Proposal | undefined {
  const file = site.file;
  const lookup = lookupOf(file, site.value);
  const origin = lookup && originOf(file, lookup.table);
  if (!lookup || !origin) return undefined;
  const lifted = liftToHandlerPy(ctx.frames, lookup.key, site.at);
  if (!lifted || lifted.path.steps.some((s) => s.k === 'each')) return undefined;
  const hf = lifted.file;
  const taken = namesInScope(hf, lifted.anchor);
  const binding: PyBinding | undefined =
    hf === file && 'path' in origin.module
      ? { ref: lookup.table, edits: [] }
      : bindingInPy(hf, origin.module, origin.name, taken);
  const q = quoteStyle(hf);
  const key = pathTextPy(lifted.path, q);
  if (!binding || !key) return undefined;
  // The key's own path is checked first: reading it must not raise either.
  const present = lifted.path.steps.length ? `${pathConditionPy(lifted.path, 'missing', q)} or ` : '';
  const cond = `${present}${key} not in ${binding.ref}`;
  // A key held in a variable of its own (`currency` from the query string) is named by that variable.
  const named: AccessPath = lifted.path.steps.length
    ? lifted.path
    : { root: '', steps: [{ k: 'prop', name: lifted.path.root }] };
  return boundaryAtPy(
    hf,
    lifted.anchor,
    lifted.handler,
    named,
    { bad: 'unsupported', strategy: site.strategy, confidence: site.confidence },
    lifted.hops,
    cond,
    undefined,
    binding.edits,
  );
}
