import path from 'node:path';
import react from '@vitejs/plugin-react';
import { visualizer } from 'rollup-plugin-visualizer';
import { defineConfig, type Plugin } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';

/**
 * The web app's build. Vite 8 bundles with Rolldown: chunks are named through
 * `rolldownOptions.output.codeSplitting.groups` (manualChunks is a deprecated shim that
 * put react and zod into `admin` when tried). Vendor groups outrank the app groups, or a
 * group's recursive dependencies would pull react and zod into `admin`/`user`.
 *
 *   WUZ_WEB_SPLIT=0   one bundle (the `bundle` gate's baseline)
 *   WUZ_WEB_OUT=dir   another output folder (default dist/web)
 *   WUZ_WEB_ANALYZE=1 also write a treemap of the bundle (npm run analyze)
 *   WUZ_WEB_API=url   the daemon `vite` (dev server) proxies /api to (default http://127.0.0.1:3000)
 */
const root = import.meta.dirname;
const repo = path.resolve(root, '../..');
const split = process.env.WUZ_WEB_SPLIT !== '0';
const outDir = path.resolve(repo, process.env.WUZ_WEB_OUT ?? 'dist/web');

const CHUNK_GROUPS = [
  {
    name: 'vendor-react',
    test: /[\\/]node_modules[\\/](react|react-dom|react-router|scheduler)[\\/]/,
    priority: 50,
  },
  { name: 'vendor-ui', test: /[\\/]node_modules[\\/](radix-ui|@radix-ui|@floating-ui)[\\/]/, priority: 40 },
  { name: 'vendor-query', test: /[\\/]node_modules[\\/]@tanstack[\\/]/, priority: 40 },
  { name: 'vendor-forms', test: /[\\/]node_modules[\\/](react-hook-form|zod|@hookform)[\\/]/, priority: 40 },
  // The areas take their own files only: with their dependencies they would also capture
  // the shared modules the entry uses, and the entry would then load `admin` up front.
  {
    name: 'admin',
    test: /[\\/]src[\\/]web[\\/]src[\\/]admin[\\/]/,
    priority: 10,
    includeDependenciesRecursively: false,
  },
  {
    name: 'user',
    test: /[\\/]src[\\/]web[\\/]src[\\/]user[\\/]/,
    priority: 10,
    includeDependenciesRecursively: false,
  },
  // The daemon's constant lists the app imports (statuses, kinds, permissions, the
  // campaign actions' table): modules without imports, in one small chunk rather than one each.
  {
    name: 'daemon-constants',
    test: /[\\/]src[\\/]daemon[\\/]/,
    priority: 10,
    includeDependenciesRecursively: false,
  },
];

/**
 * Writes `.vite/chunks.json` (chunk name → the packages and app files in it): the `bundle`
 * gate checks each named chunk holds what its name says from this, not from the config.
 */
function chunkContents(): Plugin {
  return {
    name: 'wuz-chunk-contents',
    apply: 'build',
    generateBundle(_options, bundle) {
      const chunks: Record<string, { file: string; modules: string[] }> = {};
      for (const output of Object.values(bundle)) {
        if (output.type !== 'chunk') continue;
        const modules = new Set<string>();
        for (const id of output.moduleIds) {
          const pkg = /node_modules[\\/]((?:@[^\\/]+[\\/])?[^\\/]+)/.exec(id);
          modules.add(
            pkg ? (pkg[1] as string).replace('\\', '/') : path.relative(repo, id.replace(/\?.*$/, '')),
          );
        }
        chunks[output.fileName] = { file: output.fileName, modules: [...modules].sort() };
      }
      this.emitFile({
        type: 'asset',
        fileName: '.vite/chunks.json',
        source: JSON.stringify(chunks, null, 1),
      });
    },
  };
}

export default defineConfig({
  root,
  publicDir: path.join(root, 'public'),
  plugins: [
    react(),
    chunkContents(),
    VitePWA({
      strategies: 'injectManifest',
      srcDir: 'src',
      filename: 'sw.ts',
      registerType: 'prompt',
      injectRegister: false,
      manifest: {
        name: 'WUZAPI Manager',
        short_name: 'WUZAPI',
        start_url: '/',
        display: 'standalone',
        theme_color: '#0f766e',
        background_color: '#ffffff',
        icons: [{ src: '/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' }],
      },
      injectManifest: { globPatterns: ['**/*.{js,css,html,svg,woff2,webmanifest}'] },
    }),
    ...(process.env.WUZ_WEB_ANALYZE
      ? [
          visualizer({
            filename: path.join(repo, 'dist', 'bundle-report.html'),
            template: 'treemap',
            gzipSize: true,
            brotliSize: true,
          }) as Plugin,
        ]
      : []),
  ],
  build: {
    outDir,
    emptyOutDir: true,
    manifest: true,
    // Chunk sizes are checked by the `bundle` gate, against the output.
    chunkSizeWarningLimit: split ? 500 : 2000,
    rolldownOptions: { output: { codeSplitting: split ? { groups: CHUNK_GROUPS } : false } },
  },
  server: { proxy: { '/api': process.env.WUZ_WEB_API ?? 'http://127.0.0.1:3000' } },
});
