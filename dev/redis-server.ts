import { type ChildProcess, spawn } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { freePort } from './free-port'

/** A real redis-server child process on a loopback port, stoppable and restartable (outage tests do both). */
export interface RedisServer {
  readonly port: number
  /** redis://127.0.0.1:PORT */
  readonly url: string
  stop(): Promise<void>
  /** Restarts on the same port after stop(). */
  start(): Promise<void>
}

const READY_TIMEOUT_MS = 10_000
const STOP_TIMEOUT_MS = 5_000

// `exec` makes redis-server keep the shell's PID ($$). The background reader holds a copy of our stdin pipe
// and kills that PID once the pipe reaches EOF, which happens on stop() and also when this process dies by
// SIGKILL or an unhandled signal, where no exit hook can run. fd 3 is needed because POSIX points an
// asynchronous list's stdin at /dev/null. The wrapper runs in a process group of its own (`detached`): Ctrl-C
// in a terminal signals the whole foreground group, and redis-server must not die before the clients that use
// it have stopped (Mesa's ioredis then throws `Connection is closed.`); its parent alone decides when it stops.
const WRAPPER = 'exec 3<&0; (read -r _ <&3; kill $$ 2>/dev/null) & exec redis-server "$@" 3<&-'

/** Thrown when there is no redis-server to start; its message says how to install one. */
export class RedisServerMissingError extends Error {
  constructor() {
    super('redis-server is not on PATH: install it with `apt-get install -y redis-server` (Debian/Ubuntu) or ' + '`brew install redis` (macOS).')
    this.name = 'RedisServerMissingError'
  }
}

const running = new Map<ChildProcess, string>()
let exitHookInstalled = false

/** How to start a redis-server. */
export interface RedisServerOptions {
  /** @default a free port */
  port?: number
  /** Told when redis-server exits without being stopped (a crash, a kill, OOM), with its exit code or signal. */
  onExit?: (how: string) => void
}

/** Starts a throwaway redis-server (no persistence) on a free or given loopback port and resolves once it answers PING. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  if (!onPath('redis-server')) throw new RedisServerMissingError()
  installExitHook()
  const port = options.port ?? (await freePort())
  let child: ChildProcess | undefined

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      if (child) return
      const started = await launch(port)
      child = started
      // stop() forgets the child before it ends it, so only an exit nobody asked for is reported.
      started.once('exit', (code, signal) => {
        if (child !== started) return
        child = undefined
        options.onExit?.(signal ?? `exit code ${code}`)
      })
    },
    async stop() {
      const current = child
      child = undefined
      if (current) await terminate(current)
    },
  }
  await server.start()
  return server
}

async function launch(port: number): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'redis-local-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']
  args.push('--dir', dir, '--daemonize', 'no', '--loglevel', 'warning')
  const child = spawn('/bin/sh', ['-c', WRAPPER, 'redis-server', ...args], { stdio: ['pipe', 'pipe', 'pipe'], detached: true })
  running.set(child, dir)

  let log = ''
  const keepTail = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000)
  }
  child.stdout?.on('data', keepTail)
  child.stderr?.on('data', keepTail)
  child.once('exit', () => {
    running.delete(child)
    rmSync(dir, { recursive: true, force: true })
  })
  // A forgotten stop() must not keep a test process alive; the exit hook and the stdin watchdog clean up.
  child.unref()
  for (const stream of [child.stdin, child.stdout, child.stderr]) {
    ;(stream as unknown as { unref?: () => void } | null)?.unref?.()
  }

  const deadline = Date.now() + READY_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`redis-server on port ${port} exited (${child.exitCode ?? child.signalCode}) before answering PING:\n${log}`)
    }
    if (await answersPing(port)) return child
    await sleep(25)
  }
  await terminate(child)
  throw new Error(`redis-server on port ${port} did not answer PING within ${READY_TIMEOUT_MS} ms:\n${log}`)
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => killGroup(child), STOP_TIMEOUT_MS)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    // Closing stdin lets the wrapper's watchdog send SIGTERM, so the watchdog exits too rather than lingering.
    child.stdin?.end()
  })
}

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // 'exit' also runs after an uncaught error; the group id is the wrapper's pid, so the watchdog goes too.
  process.once('exit', () => {
    for (const [child, dir] of running) {
      killGroup(child)
      rmSync(dir, { recursive: true, force: true })
    }
  })
}

/** SIGKILLs the wrapper's process group: redis-server and its watchdog. */
function killGroup(child: ChildProcess): void {
  try {
    if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
  } catch {
    // the group is already gone
  }
}

function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let reply = ''
    const finish = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.setTimeout(1_000, () => finish(false))
    socket.once('error', () => finish(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString()
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'))
    })
  })
}

function onPath(command: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    try {
      accessSync(join(dir, command), constants.X_OK)
      return true
    } catch {
      // not in this directory
    }
  }
  return false
}
