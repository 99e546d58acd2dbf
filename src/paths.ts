import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// This file sits one level below the package root both as src/paths.ts and as
// dist/paths.js, so the same relative URL finds the root in development and when built.
export const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** ".ts" when running from source (Node's type stripping), ".js" when running from dist. */
export const moduleExt = path.extname(fileURLToPath(import.meta.url));

/** Absolute path of a sibling module under src/ or dist/, with the right extension. */
export function modulePath(relativeToSrc: string): string {
  return fileURLToPath(new URL(`./${relativeToSrc}${moduleExt}`, import.meta.url));
}

export const version: string = JSON.parse(
  readFileSync(path.join(packageRoot, 'package.json'), 'utf8'),
).version;
