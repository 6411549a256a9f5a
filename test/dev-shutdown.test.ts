import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { leftovers, processesNamingPort, type StartedDev, startDev } from './support/dev-ready'
import { until } from './support/processes'

// `npm run dev` must stop cleanly however it is told to, however busy it is: exit 0, nothing left running. Each
// stop starts a fresh stack (its own redis-server, Mesa, three demo clients online), puts it under load (dispatches
// to the demo clients and an offline id, several in flight at once), and stops it while that load runs. Two lanes
// run side by side, which is also load.

/** Stops in all: each lane does half, turning in order through the ways a stack gets stopped. */
const STOPS = 24
const LANES = 2
/** Dispatches each stack must have answered before it is stopped, so the load is real. */
const WARM_UP_DISPATCHES = 5
/** Concurrent dispatch loops against the endpoint. */
const SENDERS = 6

type Stop = { signal: NodeJS.Signals; to: 'group' | 'npm'; as: string }
const WAYS: Stop[] = [
  { signal: 'SIGINT', to: 'group', as: 'Ctrl-C in a terminal (the whole foreground process group)' },
  { signal: 'SIGTERM', to: 'npm', as: 'a process manager (npm alone)' },
  { signal: 'SIGTERM', to: 'group', as: 'kill -- -PGID (the whole group)' },
]

const FAULTS = fileURLToPath(new URL('./support/dev-faults.mjs', import.meta.url))
const running = new Set<StartedDev>()
afterEach(async () => {
  await Promise.all([...running].map((started) => started.dev.close()))
  running.clear()
})

async function start(env: Record<string, string> = {}): Promise<StartedDev> {
  const started = await startDev(env)
  running.add(started)
  return started
}

/** Dispatch loops against the endpoint: to the three demo clients (online) and `dave` (offline, so stored). */
function startLoad({ endpoint, token }: StartedDev) {
  let stopped = false
  let inFlight = 0
  let answered = 0
  const send = async () => {
    while (!stopped) {
      inFlight++
      try {
        const response = await fetch(endpoint, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ message: { d: { load: answered }, t: 'LOAD' }, recipients: ['alice', 'bob', 'carol', 'dave'] }),
        })
        if (response.ok) answered++
        await response.arrayBuffer()
      } catch {
        // the stack is stopping: its sockets close under us
        await new Promise((resolve) => setTimeout(resolve, 10))
      } finally {
        inFlight--
      }
    }
  }
  const senders = Array.from({ length: SENDERS }, send)
  return {
    answered: () => answered,
    inFlight: () => inFlight,
    async stop() {
      stopped = true
      await Promise.all(senders)
    },
  }
}

/** One stop: start, load, signal; resolves with what went wrong (nothing, when it stopped cleanly). */
async function stopUnderLoad(way: Stop): Promise<string[]> {
  const started = await start()
  const load = startLoad(started)
  try {
    await until(`${WARM_UP_DISPATCHES} dispatches answered`, () => (load.answered() >= WARM_UP_DISPATCHES ? true : undefined), 30_000)
    const inFlight = load.inFlight()
    // Ctrl-C signals the whole foreground group: redis-server must not be in it, or it would die first.
    const redis = processesNamingPort(started.ports.redis).filter((each) => /^\d+ redis-server /.test(each))
    const group = started.dev.survivors()
    const exit = await started.dev.signal(way.signal, way.to, 30_000)
    const problems: string[] = []
    if (inFlight === 0) problems.push('no dispatch was in flight when the signal was sent')
    if (redis.length !== 1) problems.push(`not one redis-server on port ${started.ports.redis} before the stop: ${redis.join('; ')}`)
    if (group.some((each) => each.includes('redis'))) problems.push(`redis-server ran in the process group of npm run dev: ${group.join(', ')}`)
    if (exit.code !== 0 || exit.signal !== null) problems.push(`exited with ${JSON.stringify(exit)}`)
    if (!started.dev.output.includes('dev: stopped')) problems.push('never said "dev: stopped"')
    // The order of the stop is what keeps Mesa's ioredis quiet; the safety net for it must not be needed.
    if (started.dev.output.includes('while stopping, ignored')) problems.push('an error was ignored while stopping')
    await until('the stopped stack to leave nothing behind', async () => ((await leftovers(started)).length === 0 ? true : undefined), 10_000).catch(
      () => undefined,
    )
    problems.push(...(await leftovers(started)))
    return problems.map((problem) => `${way.as}: ${problem}\n${started.dev.output.slice(-2000)}`)
  } finally {
    await load.stop()
    running.delete(started)
    await started.dev.close()
  }
}

describe('stopping npm run dev', () => {
  it(`exits 0 and leaves nothing running, ${STOPS} times under load, whichever way it is stopped`, { timeout: 180_000 }, async () => {
    const started = Date.now()
    const lanes = Array.from({ length: LANES }, async (_, lane) => {
      const problems: string[] = []
      for (let i = lane; i < STOPS; i += LANES) problems.push(...(await stopUnderLoad(WAYS[i % WAYS.length]!)))
      return problems
    })

    const problems = (await Promise.all(lanes)).flat()

    console.log(`dev-shutdown: ${STOPS} stops in ${LANES} lanes took ${((Date.now() - started) / 1000).toFixed(1)} s`)
    expect(problems).toEqual([])
  })

  it('reports an error Mesa leaves unhandled while stopping, and still exits 0', { timeout: 60_000 }, async () => {
    const started = await start({ NODE_OPTIONS: `--import ${FAULTS}`, DEV_FAULT: 'reject-while-stopping' })

    expect(await started.dev.signal('SIGINT', 'group', 30_000)).toEqual({ code: 0, signal: null })
    expect(started.dev.output).toContain('dev: while stopping, ignored: Error: Connection is closed.\n')
    expect(started.dev.output).toContain('dev: stopped\n')
    await until('nothing left', async () => ((await leftovers(started)).length === 0 ? true : undefined), 10_000)
  })

  it('kills its redis-server when it dies of an uncaught error', { timeout: 60_000 }, async () => {
    const started = await start({ NODE_OPTIONS: `--import ${FAULTS}`, DEV_FAULT: 'throw-on-SIGUSR2' })

    // SIGUSR2 to npm would kill npm; the dev process is npm's only child, found through /proc.
    process.kill(devPid(started), 'SIGUSR2')

    expect(await started.dev.exited(30_000)).toEqual({ code: 1, signal: null })
    expect(started.dev.output).toContain('Error: injected failure')
    await until('nothing left', async () => ((await leftovers(started)).length === 0 ? true : undefined), 10_000)
  })

  it('notices its redis-server dying, says so, stops everything else and exits 1, instead of retrying it forever', { timeout: 60_000 }, async () => {
    const started = await start()
    const redis = processesNamingPort(started.ports.redis).find((each) => each.split(' ')[1] === 'redis-server')
    if (!redis) throw new Error(`no redis-server on port ${started.ports.redis}`)

    process.kill(Number(redis.split(' ')[0]), 'SIGKILL')

    expect(await started.dev.exited(30_000)).toEqual({ code: 1, signal: null })
    expect(started.dev.output).toContain('dev: redis-server exited (SIGKILL) while the stack ran; stopping everything, as nothing works without it\n')
    expect(started.dev.output).toContain('dev: stopped\n')
    expect(started.dev.output.match(/ECONNREFUSED/g)?.length ?? 0).toBeLessThan(5)
    await until('nothing left', async () => ((await leftovers(started)).length === 0 ? true : undefined), 10_000)
  })

  it('leaves no redis-server behind when it is killed with SIGKILL, where no exit hook runs', { timeout: 60_000 }, async () => {
    const started = await start()

    expect(await started.dev.signal('SIGKILL', 'group', 30_000)).toEqual({ code: null, signal: 'SIGKILL' })

    await until('nothing left', async () => ((await leftovers(started)).length === 0 ? true : undefined), 10_000)
  })
})

/** The pid of the node process `npm run dev` runs (`exec node …`), a member of its group other than npm. */
function devPid(started: StartedDev): number {
  const member = started.dev.survivors().find((each) => / node$/.test(each) && !each.startsWith(`${started.dev.pid} `))
  if (!member) throw new Error(`no dev node process in ${started.dev.survivors().join(', ')}`)
  return Number(member.split(' ')[0])
}
