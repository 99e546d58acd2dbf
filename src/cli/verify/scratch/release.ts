import { cp, mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { modulePath, packageRoot } from '../../../paths.ts';

/**
 * A copy of this installation's code in a directory of its own, for a daemon the gate may
 * "deploy" to: `wuzctl reload` forks its new workers from the code on disk, so breaking a
 * file here (or adding a migration) is what a bad deploy does — with nothing of the kind
 * built into the daemon. The dependencies and the big read-only assets are symlinked.
 */
export class ScratchRelease {
  readonly root: string;
  /** `src` (running from TypeScript) or `dist` (built). */
  private readonly codeDir: string;
  private readonly ext: string;
  private saved = new Map<string, string>();

  private constructor(root: string, codeDir: string, ext: string) {
    this.root = root;
    this.codeDir = codeDir;
    this.ext = ext;
  }

  static async create(root: string): Promise<ScratchRelease> {
    const here = path.dirname(modulePath('paths'));
    const codeDir = path.basename(here);
    const ext = path.extname(modulePath('paths'));
    await mkdir(path.join(root, codeDir), { recursive: true });
    // The code's folders and every module at its top (paths, random, nodeHttp…): a module
    // added there is in the copy without being listed here.
    const topModules = (await readdir(here)).filter((name) => name.endsWith(ext));
    for (const entry of ['cli', 'daemon', 'devtools', ...topModules]) {
      await cp(path.join(here, entry), path.join(root, codeDir, entry), { recursive: true });
    }
    await cp(path.join(packageRoot, 'package.json'), path.join(root, 'package.json'));
    await cp(
      path.join(packageRoot, 'src', 'daemon', 'db', 'migrations'),
      path.join(root, 'src', 'daemon', 'db', 'migrations'),
      {
        recursive: true,
      },
    );
    await symlink(path.join(packageRoot, 'node_modules'), path.join(root, 'node_modules'));
    // The web app and the PGlite template: read as files, never imported.
    if (codeDir === 'dist') {
      for (const asset of ['web', 'pglite-template']) {
        await symlink(path.join(here, asset), path.join(root, 'dist', asset)).catch(() => {});
      }
    } else await symlink(path.join(packageRoot, 'dist'), path.join(root, 'dist')).catch(() => {});
    return new ScratchRelease(root, codeDir, ext);
  }

  /** The CLI entry of the copy: `node <cli> serve …` runs a daemon from it. */
  get cli(): string {
    return path.join(this.root, this.codeDir, 'cli', `main${this.ext}`);
  }

  /** A deploy whose API worker module does not load: new API workers fail at start. */
  async breakApiWorker(): Promise<void> {
    await this.replace(
      path.join(this.root, this.codeDir, 'daemon', 'api', `worker${this.ext}`),
      "throw new Error('this build is broken: the API worker module does not load');\n",
    );
  }

  /** A migration, as a deploy would bring one (its number after the existing ones). */
  async addMigration(name: string, sql: string): Promise<string> {
    const file = path.join(this.root, 'src', 'daemon', 'db', 'migrations', name);
    await writeFile(file, sql);
    return file;
  }

  async removeMigration(file: string): Promise<void> {
    await rm(file, { force: true });
  }

  /** Undoes every breakage: the copy is this installation's code again. */
  async restore(): Promise<void> {
    for (const [file, text] of this.saved) await writeFile(file, text);
    this.saved.clear();
  }

  private async replace(file: string, text: string): Promise<void> {
    if (!this.saved.has(file)) this.saved.set(file, await readFile(file, 'utf8'));
    await writeFile(file, text);
  }
}
