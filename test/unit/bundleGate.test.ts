import { describe, expect, it } from 'vitest';
import { checkChunks, initialFiles } from '../../src/cli/verify/gates/bundle.ts';

const manifest = {
  'index.html': {
    file: 'assets/index-a.js',
    isEntry: true,
    src: 'index.html',
    imports: ['_vendor-react.js', '_vendor-query.js'],
    dynamicImports: ['src/admin/AnalyticsPage.tsx'],
    css: ['assets/index-a.css'],
  },
  '_vendor-react.js': { file: 'assets/vendor-react-b.js', name: 'vendor-react' },
  '_vendor-query.js': {
    file: 'assets/vendor-query-c.js',
    name: 'vendor-query',
    imports: ['_vendor-react.js'],
  },
  '_vendor-ui.js': { file: 'assets/vendor-ui-d.js', name: 'vendor-ui' },
  '_vendor-forms.js': { file: 'assets/vendor-forms-e.js', name: 'vendor-forms' },
  'src/admin/AnalyticsPage.tsx': {
    file: 'assets/admin-f.js',
    name: 'admin',
    imports: ['_vendor-forms.js', '_vendor-ui.js'],
    css: ['assets/admin-f.css'],
  },
  'src/user/AgentsPage.tsx': { file: 'assets/user-g.js', name: 'user' },
  '_daemon-constants.js': { file: 'assets/daemon-constants-h.js', name: 'daemon-constants' },
};

const chunks = {
  'assets/index-a.js': { file: 'assets/index-a.js', modules: ['src/web/src/main.tsx'] },
  'assets/vendor-react-b.js': {
    file: 'assets/vendor-react-b.js',
    modules: ['react', 'react-dom', 'react-router', 'scheduler'],
  },
  'assets/vendor-query-c.js': {
    file: 'assets/vendor-query-c.js',
    modules: ['@tanstack/query-core', '@tanstack/react-query'],
  },
  'assets/vendor-ui-d.js': { file: 'assets/vendor-ui-d.js', modules: ['@radix-ui/react-dialog', 'radix-ui'] },
  'assets/vendor-forms-e.js': { file: 'assets/vendor-forms-e.js', modules: ['react-hook-form', 'zod'] },
  'assets/admin-f.js': { file: 'assets/admin-f.js', modules: ['src/web/src/admin/AnalyticsPage.tsx'] },
  'assets/user-g.js': {
    file: 'assets/user-g.js',
    modules: ['src/web/src/user/AgentsPage.tsx'],
  },
  'assets/daemon-constants-h.js': {
    file: 'assets/daemon-constants-h.js',
    modules: ['src/daemon/queues/campaignLifecycle.ts', 'src/daemon/db/repositories/reportKinds.ts'],
  },
};

describe('the bundle gate reads the build output', () => {
  it('counts the entry, its static imports and their CSS, never the lazy routes', () => {
    expect(initialFiles(manifest).sort()).toEqual(
      [
        'assets/index-a.js',
        'assets/index-a.css',
        'assets/vendor-react-b.js',
        'assets/vendor-query-c.js',
      ].sort(),
    );
  });

  it('accepts named chunks that hold what their names say', () => {
    expect(checkChunks({ manifest, chunks })).toEqual([]);
  });

  it('names a missing chunk, a package leaking into admin, and a package split over two chunks', () => {
    const broken = {
      manifest: Object.fromEntries(Object.entries(manifest).filter(([key]) => key !== '_vendor-ui.js')),
      chunks: {
        ...chunks,
        'assets/admin-f.js': {
          file: 'assets/admin-f.js',
          modules: ['src/web/src/admin/AnalyticsPage.tsx', 'zod'],
        },
      },
    };
    const problems = checkChunks(broken);
    expect(problems).toContain('chunk vendor-ui is missing');
    expect(problems).toContain('admin also holds zod');
    expect(problems.some((p) => p.startsWith('zod is in 2 chunks'))).toBe(true);
  });

  it('names a server module that leaks into the shared constants chunk', () => {
    const leaked = {
      manifest,
      chunks: {
        ...chunks,
        'assets/daemon-constants-h.js': {
          file: 'assets/daemon-constants-h.js',
          modules: ['src/daemon/queues/campaignLifecycle.ts', 'src/daemon/db/repositories/reports.ts'],
        },
      },
    };
    expect(checkChunks(leaked)).toContain(
      'daemon-constants also holds src/daemon/db/repositories/reports.ts',
    );
  });
});
