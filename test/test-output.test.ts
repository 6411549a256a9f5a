import { describe, expect, it } from 'vitest'
import { runCommand } from './support/processes'
import { ROOT } from './support/serverless-cli'

// `npm test` is read by people: the handlers' EMF metric lines and JSON log lines (1,773 of its 5,305 lines once)
// stay out of a passing run's output. The handlers still write them, to stdout, as a Lambda must.

describe('a passing test run', () => {
  it('prints no EMF metric line and no JSON log line of the handlers it runs', { timeout: 120_000 }, async () => {
    // The handler tests write an EMF line per invocation, and a log line per dispatch.
    const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(VITEST|npm_)/i.test(name)))
    const run = await runCommand(
      process.execPath,
      ['node_modules/vitest/vitest.mjs', 'run', '--project', 'unit', 'test/sqs.test.ts', 'test/eventbridge.test.ts'],
      {
        cwd: ROOT,
        env: { ...env, NO_COLOR: '1' },
        timeoutMs: 110_000,
      },
    )

    const lines = `${run.stdout}\n${run.stderr}`.split('\n')
    expect({ code: run.code, emf: lines.filter((line) => line.includes('"_aws"')), logs: lines.filter((line) => line.startsWith('{"level":')) }).toEqual({
      code: 0,
      emf: [],
      logs: [],
    })
    expect(lines.filter((line) => line.startsWith('stdout |') || line.startsWith('stderr |'))).toEqual([])
  })
})
