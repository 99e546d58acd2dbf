import express, { type RequestHandler } from 'express';
import { HttpError } from '../errors.ts';

const hasBody = (headers: Record<string, unknown>) =>
  headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;

/** A body must be JSON: anything else is a 415 rather than an empty object. */
const requireJson: RequestHandler = (req, _res, next) => {
  if (hasBody(req.headers) && !req.is('application/json')) {
    next(new HttpError(415, 'unsupported_media_type', 'send the body as application/json'));
    return;
  }
  next();
};

/**
 * PostgreSQL text cannot hold NUL, and a NUL in a name is never intended: refuse it here,
 * once, for every body and query string, instead of letting the database answer a 500.
 */
function findNul(value: unknown, path: string): string | null {
  if (typeof value === 'string') return value.includes('\u0000') ? path : null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findNul(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) return `${path}.(key)`;
      const found = findNul(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return null;
}

const rejectNul: RequestHandler = (req, _res, next) => {
  const where = findNul(req.body, 'body') ?? findNul(req.query, 'query');
  if (where) {
    const message = 'NUL characters are not allowed';
    next(new HttpError(400, 'invalid_request', `${where}: ${message}`, [{ path: where, message }]));
    return;
  }
  next();
};

export function jsonBody(limitBytes: number): RequestHandler[] {
  return [requireJson, express.json({ limit: limitBytes, strict: true }), rejectNul];
}
