import type { Request } from 'express';
import type { Queryable } from '../../../db/queryable.ts';
import { agentsUsing, deleteOwned, type OwnedTable, type Owner } from '../../../db/repositories/owned.ts';
import { conflictError, notFoundError } from '../../errors.ts';
import { principalOf } from '../../middleware/auth.ts';

export function ownerOf(req: Request): Owner {
  const { tenantId, userId } = principalOf(req);
  return { tenantId, userId };
}

/**
 * Deletes a team or role unless agents still use it: then a 409 that names them, so the
 * client knows what to move first. (The foreign key would refuse too; this says why.)
 */
export async function deleteUnlessUsed(
  db: Queryable,
  spec: OwnedTable,
  owner: Owner,
  id: string,
  column: 'team_id' | 'role_id',
  what: string,
): Promise<void> {
  const usage = await agentsUsing(db, owner, column, id);
  if (usage.agents > 0) {
    throw conflictError(`${what} is used by ${usage.agents} agent${usage.agents === 1 ? '' : 's'}`, usage);
  }
  if (!(await deleteOwned(db, spec, owner, id))) throw notFoundError(what);
}
