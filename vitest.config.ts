import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Real redis-server, Mesa and workerd processes start per file; give them room on a 2-core CI box.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // The app's structured JSON log lines are for CloudWatch, not for the test report.
    onConsoleLog: (log) => !log.startsWith('{"level":'),
  },
})
