import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type DevProcess, startDevProcess } from './support/dev-process'
import { leftovers, type StartedDev, shellExports, startDev as startDevStack } from './support/dev-ready'
import { freePort } from './support/ports'
import { connectionRefused, runCommand, until } from './support/processes'
import { startRedisServer } from './support/redis-server'

type Frame = { op: number; d: unknown; t?: string; s?: number }

let running: DevProcess | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

describe('npm run dev', () => {
  it('prints a ready line whose curl, like the CLI, reaches a demo client, an export line that points the CLI at its Redis, and stops everything on Ctrl-C', {
    timeout: 240_000,
  }, async () => {
    if (spawnSync('sh', ['-c', 'command -v curl']).status !== 0) {
      throw new Error('curl is not on PATH, and this test runs the curl command npm run dev prints: install curl (`apt-get install -y curl`)')
    }
    const started = await startDev()
    const { dev, port, mesaPort, consoleUrl, endpoint, token } = started
    expect(consoleUrl).toBe(`http://127.0.0.1:${port}/`)
    expect(endpoint).toBe(`http://127.0.0.1:${port}/dispatch`)
    expect(started.mesaUrl).toBe(`ws://127.0.0.1:${mesaPort}`)
    // One token for the endpoint, the export line, the sample events and the README's examples.
    expect(token).toBe('local-dev-dispatch-token')
    expect(await (await fetch(consoleUrl)).text()).toContain('dev console')

    // (a) The printed curl, run verbatim, dispatches HELLO to alice through the real endpoint and its auth.
    const curl = await runCommand('sh', ['-c', started.curl])
    expect(curl.code, curl.stderr).toBe(0)
    expect(JSON.parse(curl.stdout)).toMatchObject({ ok: true, result: { recipients: ['alice'], online: ['alice'], stored: 0 } })

    // (b) The CLI sends through the same endpoint with the same token; its --endpoint is the base URL.
    const base = new URL(endpoint).origin
    const cli = await runCommand('npm', [
      'run',
      '--silent',
      'cli',
      '--',
      'send',
      '--endpoint',
      base,
      '--token',
      token,
      '--to',
      'alice',
      '--type',
      'CLI',
      '--data',
      '{"via":"cli"}',
    ])
    expect(cli.code, `${cli.stdout}\n${cli.stderr}`).toBe(0)

    // (c) The export line, run by a real shell, gives the env `serverless invoke local` and the CLI read: with it,
    // the CLI dispatches straight to this stack's Redis, through its gateway.
    const exported = await shellExports(started.exportLine)
    expect(exported).toEqual({
      UPSTASH_REDIS_REST_URL: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      UPSTASH_REDIS_REST_TOKEN: expect.stringMatching(/^[0-9a-f]{32}$/),
      MESA_NAMESPACE: 'api',
      MESA_SYNC: 'true',
      MESA_DISPATCH_ENDPOINT: base,
      DISPATCH_TOKEN: token,
    })
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^(UPSTASH_|MESA_|DISPATCH_)/.test(name)))
    const cliViaExports = await runCommand(
      'npm',
      // It exports the endpoint too, so the CLI is told which of the two to use; the rest comes from the env.
      [
        'run',
        '--silent',
        'cli',
        '--',
        'send',
        '--rest-url',
        exported.UPSTASH_REDIS_REST_URL!,
        '--to',
        'alice',
        '--type',
        'EXPORTED',
        '--data',
        '{"via":"export"}',
      ],
      {
        env: { ...inherited, ...exported },
      },
    )
    expect(cliViaExports).toEqual({ code: 0, stdout: 'sent to 1 server(s): online alice\n', stderr: '' })

    // Alice, a real ws client of the demo Mesa server, received all three: the console's JSON endpoint lists her frames.
    const frames = await until('alice to receive the CLI dispatches', async () => {
      const { clients } = (await (await fetch(`${consoleUrl}__dev/clients`)).json()) as { clients: Array<{ id: string; frames: Array<{ frame: Frame }> }> }
      const alice = clients.find((client) => client.id === 'alice')?.frames.map((entry) => entry.frame) ?? []
      return alice.some((frame) => frame.t === 'CLI') && alice.some((frame) => frame.t === 'EXPORTED') ? alice : undefined
    })
    expect(frames).toContainEqual({ op: 0, d: { hello: 'world' }, t: 'HELLO' })
    expect(frames).toContainEqual({ op: 0, d: { via: 'cli' }, t: 'CLI' })
    expect(frames).toContainEqual({ op: 0, d: { via: 'export' }, t: 'EXPORTED' })

    // Ctrl-C in a terminal sends SIGINT to the whole process group.
    expect(await dev.signal('SIGINT', 'group', 60_000)).toEqual({ code: 0, signal: null })
    await expectNothingLeft(started)
  })

  it('stops everything it started when only npm gets SIGTERM, as from a process manager', { timeout: 180_000 }, async () => {
    const started = await startDev()
    expect(await started.dev.signal('SIGTERM', 'npm', 60_000)).toEqual({ code: 0, signal: null })
    await expectNothingLeft(started)
  })

  it('uses REDIS_URL when it is set, and leaves that Redis running when it stops', { timeout: 180_000 }, async () => {
    const redis = await startRedisServer()
    try {
      const started = await startDev({ REDIS_URL: redis.url })
      expect(started.redisUrl).toBe(redis.url)
      expect(await started.dev.signal('SIGINT', 'group', 60_000)).toEqual({ code: 0, signal: null })
      expect(await connectionRefused(redis.port)).toBe(false)
    } finally {
      await redis.stop()
    }
  })

  it('exits with how to install redis-server when there is none and no REDIS_URL', { timeout: 120_000 }, async () => {
    // A PATH with node, npm and the shell npm runs scripts with, but no redis-server.
    const bin = mkdtempSync(join(tmpdir(), 'dev-path-'))
    for (const tool of ['node', 'npm', 'sh'])
      symlinkSync(
        execFileSync('sh', ['-c', `command -v ${tool}`])
          .toString()
          .trim(),
        join(bin, tool),
      )
    try {
      const dev = startDevProcess({ PATH: bin, REDIS_URL: '', PORT: String(await freePort()), MESA_PORT: String(await freePort()) })
      running = dev
      expect(await dev.exited(60_000)).toEqual({ code: 1, signal: null })
      expect(dev.output).toContain('redis-server is not on PATH: install it with `apt-get install -y redis-server`')
    } finally {
      rmSync(bin, { recursive: true, force: true })
    }
  })
})

/** Starts `npm run dev` on free ports (with a redis-server of its own unless `env` names one), and reads its ready line. */
async function startDev(env: Record<string, string> = {}) {
  const [port, mesaPort] = [await freePort(), await freePort()]
  const started = await startDevStack({ PORT: String(port), MESA_PORT: String(mesaPort), ...env })
  running = started.dev
  return { ...started, port, mesaPort }
}

/** Asserts that the stopped dev process left no process running (of its group, or its redis-server) and no port listening. */
async function expectNothingLeft(started: StartedDev) {
  expect(started.dev.output).toContain('dev: stopped')
  await until('everything npm run dev started to stop', async () => ((await leftovers(started)).length === 0 ? true : undefined)).catch(() => undefined)
  expect(await leftovers(started)).toEqual([])
}
