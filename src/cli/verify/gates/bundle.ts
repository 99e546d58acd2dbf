import { execFile } from 'node:child_process';
import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { z } from 'zod';
import { packageRoot } from '../../../paths.ts';
import { type Gate, GateCannotRun, type GateContext, type GateResult } from '../gate.ts';

const run = promisify(execFile);

/**
 * Gate `bundle`: builds the web app twice — as configured, and with code splitting off —
 * and reads the *output* (Vite's manifest and the chunk contents the build records), not
 * the config. Initial bundle = the entry chunk, its static imports (transitively) and
 * their CSS, gzipped. It must stay under the budget and be far smaller than the unsplit
 * build's, and every named chunk must exist and hold what its name says.
 */
const settings = z
  .object({
    /** Initial bundle, gzipped, in KB (1000 bytes). */
    threshold: z.number().positive().max(200),
    /** The split build's initial bundle must be at least this much smaller than the unsplit one. */
    minReduction: z.number().min(0.4).max(1),
  })
  .strict();

export type BundleGateSettings = z.infer<typeof settings>;

/** What each named chunk must (and must not) contain: packages, or app folders. */
export const CHUNK_RULES: Record<string, { holds: string[]; only: (module: string) => boolean }> = {
  'vendor-react': {
    holds: ['react', 'react-dom', 'react-router'],
    only: (m) =>
      ['react', 'react-dom', 'react-router', 'scheduler', 'cookie', 'set-cookie-parser'].includes(m),
  },
  // The unified radix-ui package only re-exports: what lands is the @radix-ui/* it names.
  'vendor-ui': {
    holds: ['@radix-ui/react-dialog'],
    only: (m) => !m.startsWith('src/') && !['react', 'react-dom', 'zod'].includes(m),
  },
  'vendor-query': {
    holds: ['@tanstack/react-query', '@tanstack/query-core'],
    only: (m) => m.startsWith('@tanstack/'),
  },
  'vendor-forms': {
    holds: ['react-hook-form', 'zod'],
    only: (m) => ['react-hook-form', 'zod', '@hookform/resolvers', '@standard-schema/utils'].includes(m),
  },
  // The area's own pages and components: never a package, a shared module or the other area.
  admin: { holds: ['src/web/src/admin/'], only: (m) => m.startsWith('src/web/src/admin/') },
  user: { holds: ['src/web/src/user/'], only: (m) => m.startsWith('src/web/src/user/') },
  // The pure constant modules the web shares with the server (lifecycle, report kinds,
  // permissions): a daemon module with a server import landing here would be a leak.
  'daemon-constants': {
    holds: ['src/daemon/queues/campaignLifecycle.ts'],
    only: (m) =>
      [
        'src/daemon/queues/campaignLifecycle.ts',
        'src/daemon/db/repositories/reportKinds.ts',
        'src/daemon/api/routes/session/permissions.ts',
      ].includes(m),
  },
};

interface ManifestEntry {
  file: string;
  name?: string;
  src?: string;
  isEntry?: boolean;
  imports?: string[];
  dynamicImports?: string[];
  css?: string[];
}

interface Build {
  dir: string;
  manifest: Record<string, ManifestEntry>;
  chunks: Record<string, { file: string; modules: string[] }>;
}

export const bundleGate: Gate<BundleGateSettings> = {
  name: 'bundle',
  description:
    'web app: initial bundle gzipped under budget, ≥ 40% smaller than unsplit, named chunks hold what they say',
  unit: 'KB gzipped (initial)',
  direction: 'max',
  settings,
  defaults: { threshold: 200, minReduction: 0.4 },
  needsDaemon: false,
  run: runBundleGate,
};

const gzipSize = (body: Buffer) => gzipSync(body, { level: 9 }).length;
const kb = (bytes: number) => Math.round(bytes / 100) / 10;

async function build(split: boolean, progress: (line: string) => void): Promise<Build> {
  const config = path.join(packageRoot, 'src', 'web', 'vite.config.ts');
  const vite = path.join(packageRoot, 'node_modules', 'vite', 'bin', 'vite.js');
  for (const file of [config, vite]) {
    await access(file).catch(() => {
      throw new GateCannotRun(
        `${path.relative(packageRoot, file)} is missing: the bundle gate builds the web app from its sources`,
        'run it in a clone of the repository after `npm ci`',
      );
    });
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), `wuzctl-bundle-${split ? 'split' : 'single'}-`));
  progress(`bundle: vite build (${split ? 'as configured' : 'code splitting off'}) → ${dir}`);
  await run(process.execPath, [vite, 'build', '-c', config, '--logLevel', 'warn'], {
    cwd: packageRoot,
    env: {
      ...process.env,
      // The production build whatever the caller's NODE_ENV (vitest sets "test", which
      // would bundle React's development build).
      NODE_ENV: 'production',
      WUZ_WEB_OUT: dir,
      WUZ_WEB_SPLIT: split ? '1' : '0',
      WUZ_WEB_ANALYZE: '',
    },
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stderr?: string; message: string }) => {
    throw new Error(
      `vite build failed: ${(error.stderr || error.message).trim().split('\n').slice(-5).join(' | ')}`,
    );
  });
  const read = async (name: string) => JSON.parse(await readFile(path.join(dir, '.vite', name), 'utf8'));
  return { dir, manifest: await read('manifest.json'), chunks: await read('chunks.json') };
}

/** The entry, everything it imports statically (not its lazy routes), and their CSS. */
export function initialFiles(manifest: Record<string, ManifestEntry>): string[] {
  const entry = Object.keys(manifest).find((key) => manifest[key]?.isEntry && key.endsWith('index.html'));
  if (!entry) throw new Error('the manifest has no index.html entry');
  const files = new Set<string>();
  const visit = (key: string) => {
    const chunk = manifest[key];
    if (!chunk || files.has(chunk.file)) return;
    files.add(chunk.file);
    for (const css of chunk.css ?? []) files.add(css);
    for (const imported of chunk.imports ?? []) visit(imported);
  };
  visit(entry);
  return [...files];
}

async function measure(built: Build) {
  const files = initialFiles(built.manifest);
  let bytes = 0;
  for (const file of files) bytes += gzipSize(await readFile(path.join(built.dir, file)));
  return { files, gzipBytes: bytes };
}

/** Problems with the named chunks of a build: missing, or holding the wrong things. */
export function checkChunks(built: Pick<Build, 'manifest' | 'chunks'>): string[] {
  const problems: string[] = [];
  for (const [name, rule] of Object.entries(CHUNK_RULES)) {
    const entry = Object.values(built.manifest).find((chunk) => chunk.name === name);
    const contents = entry ? built.chunks[entry.file] : undefined;
    if (!entry || !contents) {
      problems.push(`chunk ${name} is missing`);
      continue;
    }
    for (const wanted of rule.holds) {
      if (!contents.modules.some((m) => m === wanted || m.startsWith(wanted)))
        problems.push(`${name} does not contain ${wanted}`);
    }
    const strays = contents.modules.filter((m) => !m.startsWith('\0') && !rule.only(m));
    if (strays.length) problems.push(`${name} also holds ${strays.slice(0, 5).join(', ')}`);
  }
  // Each vendor package lives in exactly one chunk: zod in vendor-forms, never in admin too.
  for (const pkg of [
    'react-dom',
    'zod',
    'react-hook-form',
    '@tanstack/query-core',
    '@radix-ui/react-dialog',
  ]) {
    const holders = Object.entries(built.chunks)
      .filter(([, chunk]) => chunk.modules.includes(pkg))
      .map(([file]) => file);
    if (holders.length > 1) problems.push(`${pkg} is in ${holders.length} chunks: ${holders.join(', ')}`);
  }
  return problems;
}

async function runBundleGate(context: GateContext, config: BundleGateSettings): Promise<GateResult> {
  const builds: Build[] = [];
  try {
    const split = await build(true, context.progress);
    builds.push(split);
    const single = await build(false, context.progress);
    builds.push(single);
    const [initial, unsplit] = [await measure(split), await measure(single)];
    const reduction = 1 - initial.gzipBytes / unsplit.gzipBytes;
    const problems = checkChunks(split);
    const chunkSizes: Record<string, number> = {};
    for (const chunk of Object.values(split.manifest)) {
      if (chunk.name && CHUNK_RULES[chunk.name])
        chunkSizes[chunk.name] = kb(gzipSize(await readFile(path.join(split.dir, chunk.file))));
    }
    const figure = kb(initial.gzipBytes);
    const failures = [...problems];
    if (figure >= config.threshold) failures.push(`initial bundle ${figure} KB ≥ ${config.threshold} KB`);
    if (reduction < config.minReduction)
      failures.push(
        `initial bundle only ${(reduction * 100).toFixed(1)}% smaller than unsplit (needs ${config.minReduction * 100}%)`,
      );
    return {
      gate: 'bundle',
      pass: failures.length === 0,
      figure,
      threshold: config.threshold,
      unit: 'KB gzipped (initial)',
      details: {
        summary:
          `initial ${figure} KB gz (${initial.files.length} files) vs unsplit ${kb(unsplit.gzipBytes)} KB: ` +
          `${(reduction * 100).toFixed(1)}% smaller · chunks ${Object.entries(chunkSizes)
            .map(([name, size]) => `${name} ${size}`)
            .join(', ')} KB gz`,
        failures,
        initial: { gzip_kb: figure, files: initial.files },
        unsplit: { gzip_kb: kb(unsplit.gzipBytes), files: unsplit.files },
        reduction: Math.round(reduction * 1000) / 1000,
        chunks_gzip_kb: chunkSizes,
      },
    };
  } finally {
    await Promise.all(builds.map((built) => rm(built.dir, { recursive: true, force: true })));
  }
}
