import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    // Real redis-server, Mesa and workerd processes start per file; give them room on a 2-core CI box.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // What the code under test prints (its JSON log lines and EMF metric lines are for CloudWatch) is shown for a
    // failed test alone, where it may explain the failure; a test that asserts them captures them itself.
    silent: 'passed-only',
    onConsoleLog: (log) => !log.startsWith('{"level":'),
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.test.ts'], exclude: ['test/consumers/**'] } },
      // The consumer tests install the packed tarball into fresh projects. Their global setup runs `npm pack` once
      // per run, and vitest runs a project's global setup only when some of its files are selected.
      {
        extends: true,
        test: { name: 'consumers', include: ['test/consumers/**/*.test.ts'], globalSetup: ['test/consumers/support/pack.ts'] },
      },
    ],
  },
})
