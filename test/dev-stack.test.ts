import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type DevProcess, startDevProcess } from './support/dev-process'
import { freePort } from './support/ports'
import { connectionRefused, runCommand, until } from './support/processes'
import { startRedisServer } from './support/redis-server'

// `ready: console URL  endpoint URL  mesa URL  redis URL  token T  try: curl …`, as dev/ready-line.ts prints it.
const READY = /^ready: console (\S+) {2}endpoint (\S+) {2}mesa (\S+) {2}redis (\S+) {2}token (\S+) {2}try: (curl .+)$/

type Frame = { op: number; d: unknown; t?: string; s?: number }
type Started = Awaited<ReturnType<typeof startDev>>

let running: DevProcess | undefined
afterEach(async () => {
  await running?.close()
  running = undefined
})

describe('npm run dev', () => {
  it('prints a ready line whose curl, like the CLI, reaches a demo client, and stops everything on Ctrl-C', { timeout: 240_000 }, async () => {
    if (spawnSync('sh', ['-c', 'command -v curl']).status !== 0) {
      throw new Error('curl is not on PATH, and this test runs the curl command npm run dev prints: install curl (`apt-get install -y curl`)')
    }
    const started = await startDev()
    const { dev, port, mesaPort, consoleUrl, endpoint, token } = started
    expect(consoleUrl).toBe(`http://127.0.0.1:${port}/`)
    expect(endpoint).toBe(`http://127.0.0.1:${port}/dispatch`)
    expect(started.mesaUrl).toBe(`ws://127.0.0.1:${mesaPort}`)
    expect(token.length).toBeGreaterThanOrEqual(16)
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

    // Alice, a real ws client of the demo Mesa server, received both: the console's JSON endpoint lists her frames.
    const frames = await until('alice to receive the CLI dispatch', async () => {
      const { clients } = (await (await fetch(`${consoleUrl}__dev/clients`)).json()) as { clients: Array<{ id: string; frames: Array<{ frame: Frame }> }> }
      const alice = clients.find((client) => client.id === 'alice')?.frames.map((entry) => entry.frame) ?? []
      return alice.some((frame) => frame.t === 'CLI') ? alice : undefined
    })
    expect(frames).toContainEqual({ op: 0, d: { hello: 'world' }, t: 'HELLO' })
    expect(frames).toContainEqual({ op: 0, d: { via: 'cli' }, t: 'CLI' })

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
  // Empty values count as unset, so settings in the caller's environment cannot change what is tested.
  const dev = startDevProcess({ PORT: String(port), MESA_PORT: String(mesaPort), REDIS_URL: '', DISPATCH_TOKEN: '', ...env })
  running = dev
  const line = await dev.waitForLine(/^ready: /, 120_000)
  const match = READY.exec(line)
  if (!match) throw new Error(`the ready line has an unexpected shape: ${line}`)
  const [consoleUrl = '', endpoint = '', mesaUrl = '', redisUrl = '', token = '', curl = ''] = match.slice(1)
  return { dev, port, mesaPort, consoleUrl, endpoint, mesaUrl, redisUrl, token, curl }
}

/** Asserts that the stopped dev process left no process of its group running and none of its ports listening. */
async function expectNothingLeft({ dev, port, mesaPort, redisUrl }: Started) {
  expect(dev.output).toContain('dev: stopped')
  await until('every process npm run dev started to exit', () => (dev.survivors().length === 0 ? true : undefined)).catch((error: Error) => {
    throw new Error(`${error.message}; still running: ${dev.survivors().join(', ')}`)
  })
  const ports = { endpoint: port, mesa: mesaPort, redis: Number(new URL(redisUrl).port) }
  for (const [what, each] of Object.entries(ports)) {
    expect(await connectionRefused(each), `the ${what} port ${each} still accepts connections`).toBe(true)
  }
}
