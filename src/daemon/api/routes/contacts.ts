import { Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import { contactsTable, insertContacts, insertOwned, listOwned } from '../../db/repositories/owned.ts';
import { Contact, ContactBatchResult } from '../contract/resources.ts';
import { defineRoute, routesOn } from '../contract/route.ts';
import { deleteRoute, getRoute, listRoute } from '../contract/shapes.ts';
import { ownerOf } from '../middleware/auth.ts';
import { pageHandler, pageQuery, parseInput, search } from '../validate.ts';
import { deleteOwnedById, getOwnedById } from './session/ownedCrud.ts';

export const MAX_BATCH = 1000;

// E.164: a plus, then 8 to 15 digits, the first not 0. Spaces, dashes and dots are
// forgiven ("+55 11 91234-5678"), since people paste numbers as they see them.
const phone = z
  .string()
  .meta({
    description: 'E.164; spaces, dashes, dots and parentheses are removed',
    examples: ['+5511912345678'],
  })
  .transform((value) => value.replace(/[\s().-]/g, ''))
  .pipe(z.string().regex(/^\+[1-9]\d{7,14}$/, 'must be an E.164 phone number such as +5511912345678'));

const variables = z
  .record(
    z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names are letters, digits and _'),
    z.string().max(1000, 'must be at most 1000 characters'),
  )
  .refine((record) => Object.keys(record).length <= 50, 'must have at most 50 variables');

const contactBody = z.strictObject({
  phone,
  name: z.string().trim().max(100, 'must be at most 100 characters').default(''),
  variables: variables.default({}),
});

const contactBatch = z
  .array(contactBody)
  .min(1, 'must hold at least one contact')
  .max(MAX_BATCH, `must hold at most ${MAX_BATCH} contacts`);

const tag = 'Contacts';
const base = { tag, auth: 'user' } as const;

export const contactsApi = {
  list: listRoute({
    ...base,
    path: '/api/contacts',
    summary: 'List your contacts (newest first); `q` matches the name or the phone',
    what: 'contact',
    item: Contact,
    query: z.object({ ...pageQuery, q: search }),
  }),
  get: getRoute({ ...base, path: '/api/contacts/{id}', what: 'contact', schema: Contact }),
  create: defineRoute({
    ...base,
    method: 'post',
    path: '/api/contacts',
    summary: 'Create one contact, or up to 1000 at once',
    description:
      'One object creates that contact (409 if its phone exists); an array creates each one and ' +
      'lists the duplicates it skipped. Phones are E.164; spaces, dashes, dots and parentheses are removed.',
    body: z.union([contactBody, contactBatch]),
    responses: {
      201: {
        description: 'the contact, or the batch result',
        schema: z.union([Contact, ContactBatchResult]),
      },
    },
    errors: ['conflict'],
  }),
  remove: deleteRoute({ ...base, path: '/api/contacts/{id}', what: 'contact' }),
};

export function contactRoutes(pool: pg.Pool): Router {
  const router = Router();
  const on = routesOn(router, '/api/contacts');

  on(
    contactsApi.list,
    pageHandler(contactsApi.list.query, (req, query, page) => {
      const conditions = query.q
        ? [{ sql: '(strpos(lower(name), lower($?)) > 0 OR strpos(phone, $?) > 0)', value: query.q }]
        : [];
      return listOwned(pool, contactsTable, ownerOf(req), conditions, page);
    }),
  );

  on(contactsApi.get, getOwnedById(pool, contactsTable, 'contact'));

  // One object → that contact (409 if its phone exists); an array → created and skipped.
  on(contactsApi.create, async (req, res) => {
    const owner = ownerOf(req);
    // Parsed by shape, so a bad item's error names its index (body.3.phone), not "invalid union".
    if (Array.isArray(req.body)) {
      const batch = parseInput(contactBatch, req.body, 'body');
      res.status(201).json(await insertContacts(pool, owner, batch));
    } else {
      const contact = parseInput(contactBody, req.body, 'body');
      res.status(201).json(await insertOwned(pool, contactsTable, owner, contact));
    }
  });

  on(contactsApi.remove, deleteOwnedById(pool, contactsTable, 'contact'));

  return router;
}
