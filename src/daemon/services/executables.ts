import { access, constants } from 'node:fs/promises';
import path from 'node:path';

/** True when `file` exists and this process may execute it. */
export async function isExecutable(file: string): Promise<boolean> {
  return access(file, constants.X_OK).then(
    () => true,
    () => false,
  );
}

/** The first executable `binary` in a PATH directory, like `command -v`; null when none. */
export async function findOnPath(binary: string): Promise<string | null> {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) {
    const candidate = path.join(dir, binary);
    if (await isExecutable(candidate)) return candidate;
  }
  return null;
}

/** `override` (an env var naming the binary) when set and executable, else `binary` on PATH. */
export async function findExecutable(binary: string, override: string | undefined): Promise<string | null> {
  if (override) return (await isExecutable(override)) ? override : null;
  return findOnPath(binary);
}
