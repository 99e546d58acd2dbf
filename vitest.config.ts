import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// Two projects: the daemon/CLI tests (node, real Redis/PostgreSQL started by globalSetup)
// and the web app's component tests (happy-dom, no services). CI reads test-results.json
// to print the closing "N passed, N failed" line.
export default defineConfig({
  test: {
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          // Starts the machine's Redis/PostgreSQL when they are down (see the file).
          globalSetup: ['test/globalSetup.ts'],
          // Every API response a test receives is checked against the OpenAPI document.
          setupFiles: ['test/contract/checkResponses.ts'],
          testTimeout: 60_000,
          hookTimeout: 90_000,
          // Integration tests spawn whole daemons (several processes each): on a 2-core
          // machine, running files one at a time keeps them from starving each other.
          fileParallelism: false,
        },
      },
      {
        plugins: [react()],
        resolve: {
          alias: {
            'virtual:pwa-register/react': new URL('src/web/test/pwaRegister.ts', import.meta.url).pathname,
          },
        },
        test: {
          name: 'web',
          include: ['src/web/test/**/*.test.tsx'],
          environment: 'happy-dom',
          setupFiles: ['src/web/test/setup.ts'],
        },
      },
    ],
  },
});
