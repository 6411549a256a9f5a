import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Dispatcher, Message } from '../src/index'
import { freePort } from './support/ports'
import { runCommand } from './support/processes'
import { ROOT } from './support/serverless-cli'

// close() is what a server calls in `finally` and on shutdown: for a redis:// Dispatcher whose connection never
// opened it must resolve, leaving the reason to the dispatches that needed the connection.
let dir: string

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mesa-no-ioredis-'))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** What a dispatch over a TCP Dispatcher to `port` and the close() after it did, as plain JSON. */
const PROBE = `
const { Dispatcher, Message } = await import(process.argv[1])
const dispatcher = new Dispatcher('redis://127.0.0.1:' + process.argv[2])
const failure = await dispatcher.dispatch(new Message(0, { n: 1 }, 'NOTE'), ['a']).catch((error) => error)
const close = await dispatcher.close().then(() => 'resolved', (error) => 'rejected: ' + error.message)
console.log(JSON.stringify({ failure: { name: failure.name, variable: failure.variable, message: failure.message, cause: failure.cause?.code }, close }))
`

describe('Dispatcher.close() for a connection that never opened', () => {
  it('resolves when the redis:// port is closed, after the dispatches issued before it failed', async () => {
    const dispatcher = new Dispatcher(`redis://127.0.0.1:${await freePort()}`)
    const pending = dispatcher.dispatch(new Message(0, { n: 1 }, 'NOTE'), ['a']).catch((error: Error) => error.name)

    const closed = await dispatcher.close().then(
      () => 'resolved',
      (error: Error) => `rejected: ${error.message}`,
    )

    expect({ closed, dispatch: await pending }).toEqual({ closed: 'resolved', dispatch: 'RedisUnavailableError' })
  })

  it('resolves when ioredis is not installed, where the dispatch names the missing dependency', async () => {
    // The package bundled into a directory with no node_modules above it: what a consumer without ioredis runs.
    const bundle = join(dir, 'index.mjs')
    await build({ entryPoints: [join(ROOT, 'src/index.ts')], bundle: true, platform: 'node', format: 'esm', outfile: bundle, logLevel: 'silent' })

    const run = await runCommand(process.execPath, ['--input-type=module', '-e', PROBE, pathToFileURL(bundle).href, String(await freePort())], {
      cwd: dir,
      env: { PATH: process.env.PATH },
      timeoutMs: 20_000,
    })

    expect(run.stderr).toBe('')
    expect(JSON.parse(run.stdout)).toEqual({
      failure: {
        name: 'ConfigError',
        variable: 'redis',
        message: 'redis is a redis:// URL, which needs the optional peer dependency ioredis: npm install ioredis',
        cause: 'ERR_MODULE_NOT_FOUND',
      },
      close: 'resolved',
    })
  })
})
