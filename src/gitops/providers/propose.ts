/**
 * The platform providers' propose: one open proposal per fingerprint, never two. The open one is updated;
 * otherwise one is created; a create that lost a race to another run (the platform says it exists) updates
 * the winner; a proposal on the branch that is not suture's for this fingerprint is a conflict.
 */
import type { ProposalRef, ProposeRequest, ProposeResult } from './types.ts';

export interface ProposeOps {
  findOpen(fingerprint: string, branch: string): Promise<ProposalRef | null>;
  /** Null when the platform refused because one already exists. */
  create(req: ProposeRequest): Promise<ProposeResult | null>;
  update(existing: ProposalRef, req: ProposeRequest): Promise<ProposeResult>;
  /** The error for a branch whose proposal is somebody else's. */
  conflict(req: ProposeRequest): Error;
}

export async function proposeOnce(ops: ProposeOps, req: ProposeRequest): Promise<ProposeResult> {
  const existing = await ops.findOpen(req.fingerprint, req.branch);
  if (existing) return ops.update(existing, req);
  const created = await ops.create(req);
  if (created) return created;
  const raced = await ops.findOpen(req.fingerprint, req.branch);
  if (!raced) throw ops.conflict(req);
  return ops.update(raced, req);
}
