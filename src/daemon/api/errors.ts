import type { ErrorRequestHandler, RequestHandler } from 'express';

/** The one error shape of the API: `{ error: { code, message, details? } }`. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details?: unknown;

  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export const notFound: RequestHandler = (req, _res, next) => {
  next(new HttpError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/** Turns any error into the JSON shape; a client never sees a stack trace. */
export function errorHandler(log: { error: (obj: object, msg: string) => void }): ErrorRequestHandler {
  return (error, req, res, _next) => {
    if (error instanceof HttpError) {
      res
        .status(error.status)
        .json({ error: { code: error.code, message: error.message, details: error.details } });
      return;
    }
    // body-parser and friends attach a 4xx `status` to their errors (bad JSON, too large…).
    const status =
      typeof error?.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) log.error({ err: error, method: req.method, path: req.path }, 'unhandled error');
    res.status(status).json({
      error: {
        code: status === 500 ? 'internal_error' : (error.type ?? 'bad_request'),
        message: status === 500 ? 'internal server error' : error.message,
      },
    });
  };
}
