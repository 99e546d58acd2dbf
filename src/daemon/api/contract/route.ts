import type { RequestHandler, Router } from 'express';
import type { z } from 'zod';
import type { ApiErrorCode } from '../errorCatalogue.ts';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * Who may call a route: `public` (probes, the document itself), any authenticated
 * `user` of a tenant, or only its `admin`s.
 */
export type Auth = 'public' | 'user' | 'admin';

export interface ResponseSpec {
  description: string;
  /** The body's schema; absent for an empty body (204). */
  schema?: z.ZodType;
  /** application/json unless said (text/csv, text/plain). */
  contentType?: string;
  /** The same answer in another media type, chosen by the request (a report's CSV). */
  alternative?: { contentType: string; schema: z.ZodType };
}

/**
 * One route of the API, declared once: Express mounts the handler at `path`, the
 * handler validates with `query` and `body`, and the OpenAPI document is generated
 * from the same object (contract/document.ts). Nothing here is a second copy of a schema.
 */
export interface RouteSpec {
  method: Method;
  /** The full path in OpenAPI form: `/api/contacts/{id}`. */
  path: string;
  /** The document's grouping (one per resource). */
  tag: string;
  summary: string;
  description?: string;
  auth: Auth;
  /** Path parameters, for the document; handlers read them with parseId(). */
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** The JSON body the handler parses. */
  body?: z.ZodType;
  /** A body that is not JSON (a CSV upload): its media types and schema. */
  rawBody?: { contentTypes: readonly string[]; schema: z.ZodType; description: string };
  /** Mounted before the JSON body parser (its errors cannot happen here). */
  beforeJsonParser?: boolean;
  /** Success answers by status; 503 only for an answer that is not an error (readiness). */
  responses: Partial<Record<200 | 201 | 202 | 204 | 503, ResponseSpec>>;
  /** The route's own error codes; the ones every route of its kind can answer are added. */
  errors?: readonly ApiErrorCode[];
}

/** Declares a route; the `const` keeps literal types, so handlers see their own schemas. */
export function defineRoute<const S extends RouteSpec>(spec: S): S {
  return spec;
}

/**
 * Registers handlers on a router mounted at `mountedAt`, at the path the spec declares:
 * a route cannot be served at one path and documented at another. A spec outside the
 * router's mount point is a programming error, thrown at start-up.
 */
export function routesOn(router: Router, mountedAt: string) {
  return (spec: RouteSpec, ...handlers: RequestHandler[]): void => {
    if (spec.path !== mountedAt && !spec.path.startsWith(`${mountedAt}/`)) {
      throw new Error(`${spec.method.toUpperCase()} ${spec.path} is not under ${mountedAt}`);
    }
    const local = spec.path.slice(mountedAt.length).replace(/\{(\w+)\}/g, ':$1') || '/';
    router[spec.method](local, ...handlers);
  };
}
