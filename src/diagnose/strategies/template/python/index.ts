/** The Python templates: one module per crash class, all on the stdlib `ast` tree from the helper. */
import type { Proposal } from '../../types.ts';
import { crashClass, type Fault } from '../fault.ts';
import { indexErrorPy } from './index-error.ts';
import { missingKeyPy } from './missing-key.ts';
import { noneOperandPy } from './none-operand.ts';
import { notCallablePy } from './not-callable.ts';
import { nullishPy } from './nullish.ts';
import { unparseablePy } from './unparseable.ts';
import type { PyTemplateContext } from './variants.ts';
import { zeroDivisionPy } from './zero-division.ts';

export function pythonProposals(ctx: PyTemplateContext, fault: Fault): Proposal[] {
  switch (fault.kind) {
    case 'zero-division':
      return zeroDivisionPy(ctx);
    case 'missing-key':
      return missingKeyPy(ctx, fault);
    case 'index':
      return indexErrorPy(ctx, fault);
    case 'parse':
      return unparseablePy(ctx, fault);
    case 'not-callable':
      return notCallablePy(ctx, fault);
    case 'nullish':
      return crashClass(fault) === 'none-operand' ? noneOperandPy(ctx, fault) : nullishPy(ctx, fault);
  }
}
