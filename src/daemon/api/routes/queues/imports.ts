import { type Request, Router } from 'express';
import type pg from 'pg';
import { z } from 'zod';
import * as imports from '../../../db/repositories/imports.ts';
import type { QueueSource } from '../../../queues/index.ts';
import { enqueueSubject } from '../../../queues/subjectQueue.ts';
import { Accepted, Import, ImportSummary } from '../../contract/resources.ts';
import { defineRoute, routesOn } from '../../contract/route.ts';
import { getRoute, listRoute } from '../../contract/shapes.ts';
import { HttpError, notFoundError } from '../../errors.ts';
import { ownerOf } from '../../middleware/auth.ts';
import { pageHandler, parseId, parseInput } from '../../validate.ts';

const CSV_TYPES = ['text/csv', 'application/csv', 'text/plain', 'application/octet-stream'];
// Mounted before the JSON parser: the CSV is the raw body.
const base = { tag: 'Imports', auth: 'user', beforeJsonParser: true } as const;

export const importsApi = {
  list: listRoute({
    ...base,
    path: '/api/imports',
    summary: 'List your contact imports (newest first)',
    what: 'import',
    item: ImportSummary,
  }),
  get: getRoute({
    ...base,
    path: '/api/imports/{id}',
    summary: 'One import, with its first rejected rows and the counts by reason',
    what: 'import',
    schema: Import,
  }),
  create: defineRoute({
    ...base,
    method: 'post',
    path: '/api/imports',
    summary: 'Upload a CSV of contacts; the import job validates and upserts its rows',
    query: z.object({
      filename: z.string().trim().max(200, 'must be at most 200 characters').default(''),
    }),
    rawBody: {
      contentTypes: CSV_TYPES,
      schema: z.string().meta({ contentMediaType: 'text/csv' }),
      description: `a header naming a phone column (phone, telefone, celular or whatsapp), then at most ${imports.MAX_IMPORT_ROWS_TEXT} rows`,
    },
    responses: { 202: { description: 'stored and enqueued: poll the job', schema: Accepted } },
    errors: ['payload_too_large', 'unsupported_media_type', 'queue_unavailable'],
  }),
};

/**
 * Contact imports. The CSV is the raw request body (not JSON, so this router is mounted
 * before the JSON parser), read as a stream against a size limit and stored; the import
 * job validates and upserts the rows. The answer is 202 with the job id.
 */
export function importRoutes(pool: pg.Pool, queues: QueueSource, limitBytes: number): Router {
  const router = Router();
  const on = routesOn(router, '/api/imports');

  on(
    importsApi.list,
    pageHandler(importsApi.list.query, (req, _query, page) => imports.listImports(pool, ownerOf(req), page)),
  );

  on(importsApi.get, async (req, res) => {
    const found = await imports.findImport(pool, ownerOf(req), parseId(req.params.id, 'import'));
    if (!found) throw notFoundError('import');
    res.json(found);
  });

  on(importsApi.create, async (req, res) => {
    if (!req.is(CSV_TYPES)) {
      throw new HttpError('unsupported_media_type', 'send the CSV as the body with Content-Type: text/csv');
    }
    const query = parseInput(importsApi.create.query, req.query, 'query');
    const source = await readLimited(req, limitBytes);
    if (source.trim() === '') throw new HttpError('invalid_request', 'the CSV is empty');
    if (source.includes('\u0000')) throw new HttpError('invalid_request', 'the CSV holds NUL characters');
    // A cheap early answer for files far over the row limit (quoted newlines only undercount).
    if (countLines(source) > imports.MAX_IMPORT_ROWS + 1) {
      throw new HttpError(
        'payload_too_large',
        `at most ${imports.MAX_IMPORT_ROWS_TEXT} rows per import; split the file`,
      );
    }
    const owner = ownerOf(req);
    const created = await imports.insertImport(pool, owner, {
      filename: query.filename,
      source,
      bytes: Buffer.byteLength(source),
    });
    const jobId = await enqueueSubject(pool, queues, 'import', owner, created.id);
    res.status(202).json({ id: created.id, job_id: jobId, status: 'queued' });
  });

  return router;
}

/** The body as UTF-8 text, refused with 413 as soon as it passes the limit. */
async function readLimited(req: Request, limitBytes: number): Promise<string> {
  const declared = Number(req.get('content-length') ?? 0);
  const tooLarge = () =>
    new HttpError('payload_too_large', `the CSV is larger than ${Math.floor(limitBytes / 1024)} kB`);
  if (declared > limitBytes) {
    req.resume();
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limitBytes) {
      req.resume();
      throw tooLarge();
    }
    chunks.push(chunk);
  }
  return new TextDecoder('utf-8', { fatal: false }).decode(Buffer.concat(chunks));
}

/** Lines of text: a final newline ends the last line, it does not start another (\n and \r\n). */
export function countLines(text: string): number {
  if (text === '') return 0;
  let lines = 1;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
  return text.endsWith('\n') ? lines - 1 : lines;
}
