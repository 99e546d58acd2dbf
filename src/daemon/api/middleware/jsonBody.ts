import express, { type RequestHandler } from 'express';
import { HttpError } from '../errors.ts';

const hasBody = (headers: Record<string, unknown>) =>
  headers['transfer-encoding'] !== undefined || Number(headers['content-length'] ?? 0) > 0;

/** A body must be JSON: anything else is a 415 rather than an empty object. */
const requireJson: RequestHandler = (req, _res, next) => {
  if (hasBody(req.headers) && !req.is('application/json')) {
    next(new HttpError('unsupported_media_type', 'send the body as application/json'));
    return;
  }
  next();
};

/** Deeper than any body of this API (they nest 3 levels at most): refused, never walked. */
export const MAX_JSON_DEPTH = 32;

type Problem = { path: string; reason: 'nul' | 'depth' };

/**
 * PostgreSQL text cannot hold NUL, and a NUL in a name is never intended: refuse it here,
 * once, for every body and query string, instead of letting the database answer a 500.
 * The walk keeps its own stack (a recursive one overflowed on a body nested 8,000 levels
 * deep, a 500 on every JSON route) and stops at MAX_JSON_DEPTH.
 */
function findProblem(root: unknown, rootPath: string): Problem | null {
  const stack: Array<{ value: unknown; path: string; depth: number }> = [
    { value: root, path: rootPath, depth: 0 },
  ];
  for (let item = stack.pop(); item; item = stack.pop()) {
    const { value, path, depth } = item;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return { path, reason: 'nul' };
      continue;
    }
    if (!value || typeof value !== 'object') continue;
    if (depth >= MAX_JSON_DEPTH) return { path, reason: 'depth' };
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], path: `${path}[${i}]`, depth: depth + 1 });
      continue;
    }
    const entries = Object.entries(value);
    for (let i = entries.length - 1; i >= 0; i--) {
      const [key, child] = entries[i] as [string, unknown];
      if (key.includes('\u0000')) return { path: `${path}.(key)`, reason: 'nul' };
      stack.push({ value: child, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return null;
}

const rejectProblems: RequestHandler = (req, _res, next) => {
  const problem = findProblem(req.body, 'body') ?? findProblem(req.query, 'query');
  if (problem?.reason === 'depth') {
    next(new HttpError('json_too_deep', `the JSON is nested deeper than ${MAX_JSON_DEPTH} levels`));
    return;
  }
  if (problem) {
    const message = 'NUL characters are not allowed';
    next(new HttpError('invalid_request', `${problem.path}: ${message}`, [{ path: problem.path, message }]));
    return;
  }
  next();
};

export function jsonBody(limitBytes: number): RequestHandler[] {
  return [requireJson, express.json({ limit: limitBytes, strict: true }), rejectProblems];
}
