/**
 * npm's `prepare` hook: `npm run build`, unless dist/ was already built from exactly these
 * inputs. Why: npm runs `prepare` again the first time `npx wuzctl` is used in a checkout —
 * npx "installs" the package's own bin into its cache (libnpmexec, "self-execution of a
 * local bin") — so the README's `npm ci && npx wuzctl serve` built everything twice and a
 * new user's first start waited ~10 s more for nothing. `npm run build` itself always builds.
 *   node scripts/prepare.ts            (what `npm ci` runs)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Everything the build reads besides node_modules (whose versions package-lock.json pins). */
const inputs = [
  'src',
  'scripts',
  'package.json',
  'package-lock.json',
  'tsconfig.json',
  'tsconfig.build.json',
];
/** What the build writes that the daemon needs (the PGlite template is optional: see pgliteTemplate.ts). */
const outputs = ['dist/cli/main.js', 'dist/web/index.html'];
const stampFile = path.join(root, 'dist', '.build-inputs');

function fingerprint(): string {
  const files: string[] = [];
  for (const input of inputs) {
    const full = path.join(root, input);
    if (!existsSync(full)) continue;
    if (!statSync(full).isDirectory()) files.push(input);
    else
      for (const entry of readdirSync(full, { recursive: true, withFileTypes: true }))
        if (entry.isFile()) files.push(path.relative(root, path.join(entry.parentPath, entry.name)));
  }
  const hash = createHash('sha256').update(`node ${process.version}\n`);
  for (const file of files.sort()) hash.update(`${file}\n`).update(readFileSync(path.join(root, file)));
  return hash.digest('hex');
}

const wanted = fingerprint();
const current =
  outputs.every((output) => existsSync(path.join(root, output))) &&
  existsSync(stampFile) &&
  readFileSync(stampFile, 'utf8').trim() === wanted;

if (current) {
  console.log('dist/ is already built from these sources; skipping the build (`npm run build` forces one)');
} else {
  execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  writeFileSync(stampFile, `${wanted}\n`);
}
