import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Secrets the daemon generates for its embedded services (the Redis and PostgreSQL
 * passwords, the default secret key) live in `<data-dir>/secrets/`, one file each, 0600.
 * Whoever reads them already owns the data itself; nobody else can, so a local process of
 * another user can no longer talk to the embedded Redis or database.
 */
export type CredentialName = 'redis.password' | 'database.password' | 'secret.key';

export function secretsDir(dataDir: string): string {
  return path.join(dataDir, 'secrets');
}

/**
 * The credential `name` of this data dir, generated (256 random bits, base64url) on first
 * use. Two processes starting at once agree on one value: each writes its own temporary
 * file and links it into place, which fails for the second (EEXIST), who then reads the
 * first one's. A half-written file is never visible under the final name.
 */
export async function dataDirCredential(dataDir: string, name: CredentialName): Promise<string> {
  const dir = secretsDir(dataDir);
  const file = path.join(dir, name);
  const existing = await readCredential(file);
  if (existing) return existing;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const value = randomBytes(32).toString('base64url');
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(temporary, `${value}\n`, { mode: 0o600, flag: 'wx' });
  try {
    await link(temporary, file);
    return value;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const winner = await readCredential(file);
    if (!winner) throw new Error(`${file} is empty: remove it and start again`);
    return winner;
  } finally {
    await rm(temporary, { force: true });
  }
}

async function readCredential(file: string): Promise<string | null> {
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  return text.trim() || null;
}
