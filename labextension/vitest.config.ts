import { defineConfig } from 'vitest/config';

// The document model's unit tests: plain TypeScript, run in Node (no DOM).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node'
  }
});
