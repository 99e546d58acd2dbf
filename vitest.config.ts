import { defineConfig } from 'vitest/config';

// CI reads test-results.json to print the closing "N passed, N failed" line.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts the machine's Redis/PostgreSQL when they are down (see the file).
    globalSetup: ['test/globalSetup.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
    // Integration tests spawn whole daemons (several processes each): on a 2-core
    // machine, running files one at a time keeps them from starving each other.
    fileParallelism: false,
    reporters: process.env.CI ? ['default', ['json', { outputFile: 'test-results.json' }]] : ['default'],
  },
});
