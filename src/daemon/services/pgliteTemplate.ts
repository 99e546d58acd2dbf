import { cpSync, existsSync } from 'node:fs';
import { readFile, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { packageRoot } from '../../paths.ts';
import { applyMigrations, type MigrationClient, migrationsFingerprint } from '../db/migrate.ts';

/**
 * A pristine PGlite cluster, made once when the package is built (`npm run build`, which
 * `npm ci` runs): a new data dir starts as a copy of it (~0.2 s) instead of an initdb in
 * WebAssembly (~2.5 s, most of a first start). It holds the schema — the package's
 * migrations, applied by the same code as at start (0.4 s of a first start otherwise) —
 * and no data and no password (the wire server checks those), so every install may share
 * it. A template from another PGlite version, or made from other migration files (they
 * changed since the build), is never used: the first start then runs initdb and the
 * migrations as before.
 */
export const defaultTemplateDir = path.join(packageRoot, 'dist', 'pglite-template');

const MARKER = 'wuzctl-template.json';

/** The installed @electric-sql/pglite's version (its package.json is not exported). */
export async function pgliteVersion(): Promise<string> {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(await readFile(file, 'utf8')) as { name?: string; version?: string };
    if (manifest.name === '@electric-sql/pglite') return manifest.version ?? 'unknown';
  }
  return 'unknown';
}

/** Writes the template to `dir`, whole or not at all (built aside, then renamed). */
export async function buildTemplate(dir = defaultTemplateDir): Promise<void> {
  const aside = `${dir}.tmp-${process.pid}`;
  await rm(aside, { recursive: true, force: true });
  const db = await PGlite.create({ dataDir: aside });
  try {
    await applyMigrations(pgliteClient(db));
  } finally {
    await db.close();
  }
  await writeFile(path.join(aside, MARKER), `${JSON.stringify(await templateIdentity())}\n`);
  await rm(dir, { recursive: true, force: true });
  await rename(aside, dir);
}

/**
 * Makes `target` (which must not exist yet) a copy of the template; false, with nothing
 * written, when there is no usable template.
 */
export async function copyTemplate(target: string, dir = defaultTemplateDir): Promise<boolean> {
  const marker = await readFile(path.join(dir, MARKER), 'utf8').catch(() => null);
  if (!marker) return false;
  const made = JSON.parse(marker) as Partial<TemplateIdentity>;
  const wanted = await templateIdentity();
  if (made.pglite !== wanted.pglite || made.migrations !== wanted.migrations) return false;
  try {
    // A symlinked template (a linked install) is copied as its contents, not as the link:
    // the new data dir must never be the template itself.
    // cpSync, without a filter, is Node's native copy: ~80 ms of CPU for the template's
    // ~1000 files, where the promise-based cp (or any filter) walks them in JavaScript,
    // one thread-pool round trip per stat: ~0.7–1.2 s of CPU, and seconds of a first
    // start on a busy machine. Nothing else needs this process's event loop meanwhile.
    cpSync(await realpath(dir), target, { recursive: true, errorOnExist: true, force: false });
    await rm(path.join(target, MARKER), { force: true });
    return true;
  } catch (error) {
    await rm(target, { recursive: true, force: true });
    throw error;
  }
}

interface TemplateIdentity {
  pglite: string;
  /** migrationsFingerprint() of the files the template's schema was made from. */
  migrations: string;
}

async function templateIdentity(): Promise<TemplateIdentity> {
  return { pglite: await pgliteVersion(), migrations: await migrationsFingerprint() };
}

/** PGlite as a MigrationClient: parameters take the extended protocol, a script the simple one. */
function pgliteClient(db: PGlite): MigrationClient {
  return {
    query: async (sql, params) => {
      if (params) return db.query<Record<string, unknown>>(sql, params);
      return (await db.exec(sql)).at(-1) ?? { rows: [] };
    },
  };
}
