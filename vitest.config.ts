import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    // Set-up that makes key sets and starts servers takes seconds on a busy 2-core machine.
    hookTimeout: 60_000,
  },
});
