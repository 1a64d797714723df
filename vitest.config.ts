import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The fixture services' own tests run inside the sandbox, with their own runners, never here.
    exclude: [...configDefaults.exclude, 'test/fixtures/**', 'demo/**'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Docker-backed tests share one engine on a 2-core machine; a few files at a time is the sweet spot.
    maxWorkers: 2,
    reporters: process.env.SUTURE_VITEST_JSON ? ['default', 'json'] : ['default'],
    ...(process.env.SUTURE_VITEST_JSON ? { outputFile: { json: process.env.SUTURE_VITEST_JSON } } : {}),
  },
});
