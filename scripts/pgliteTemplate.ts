/**
 * Builds the pristine PGlite cluster a new data dir is copied from (see
 * src/daemon/services/pgliteTemplate.ts), as part of `npm run build`:
 *   node scripts/pgliteTemplate.ts [dir]        (default dist/pglite-template)
 * A failure is a warning, not a failed install: the daemon then runs initdb at first start.
 */
import { buildTemplate, defaultTemplateDir } from '../src/daemon/services/pgliteTemplate.ts';

const dir = process.argv[2] ?? defaultTemplateDir;
const began = performance.now();
try {
  await buildTemplate(dir);
  console.log(`PGlite template: ${dir} (${Math.round(performance.now() - began)} ms)`);
} catch (error) {
  console.warn(`warning: no PGlite template (${(error as Error).message}); a first start will run initdb`);
}
