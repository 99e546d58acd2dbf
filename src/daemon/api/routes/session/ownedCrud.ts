import type { Request, RequestHandler } from 'express';
import type { Queryable } from '../../../db/queryable.ts';
import {
  agentsUsing,
  deleteOwned,
  findOwned,
  type OwnedTable,
  type Owner,
} from '../../../db/repositories/owned.ts';
import { conflictError, notFoundError } from '../../errors.ts';
import { ownerOf } from '../../middleware/auth.ts';
import { parseId } from '../../validate.ts';

/** `GET /:id` of one of the caller's rows; another's id (or a malformed one) is a 404. */
export function getOwnedById(db: Queryable, spec: OwnedTable, what: string): RequestHandler {
  return async (req, res) => {
    const row = await findOwned(db, spec, ownerOf(req), parseId(req.params.id, what));
    if (!row) throw notFoundError(what);
    res.json(row);
  };
}

/** `DELETE /:id` of one of the caller's rows; `afterDelete` runs before the 204 (cache invalidation). */
export function deleteOwnedById(
  db: Queryable,
  spec: OwnedTable,
  what: string,
  afterDelete: (req: Request) => Promise<void> = async () => {},
): RequestHandler {
  return async (req, res) => {
    if (!(await deleteOwned(db, spec, ownerOf(req), parseId(req.params.id, what)))) throw notFoundError(what);
    await afterDelete(req);
    res.status(204).end();
  };
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
