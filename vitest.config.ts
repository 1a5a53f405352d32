import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The CLI tests run the built bin/knet: build dist/ once before any test.
    globalSetup: ['test/support/build-once.ts'],
    // KNET_REQUIRE_REAL and the removal of temporary folders: test/support/setup.ts.
    setupFiles: ['test/support/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Lab and capture tests create network namespaces: files run one after another.
    fileParallelism: false,
  },
});
