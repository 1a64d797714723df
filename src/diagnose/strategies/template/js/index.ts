/** The JavaScript/TypeScript templates: one module per crash class, all on the TypeScript syntax tree. */
import type { Proposal } from '../../types.ts';
import type { Fault } from '../fault.ts';
import { emptyJs } from './empty.ts';
import { notCallableJs } from './not-callable.ts';
import { nullishJs } from './nullish.ts';
import { unparseableJs } from './unparseable.ts';
import type { JsTemplateContext } from './variants.ts';
import { zeroDivisionJs } from './zero-division.ts';

export function jsProposals(ctx: JsTemplateContext, fault: Fault): Proposal[] {
  switch (fault.kind) {
    case 'nullish':
      return nullishJs(ctx, fault);
    case 'not-callable':
      return notCallableJs(ctx, fault);
    case 'index':
      return emptyJs(ctx, fault);
    case 'parse':
      return unparseableJs(ctx, fault);
    case 'zero-division':
      return zeroDivisionJs(ctx);
    default:
      return [];
  }
}
