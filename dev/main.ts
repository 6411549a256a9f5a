// `npm run dev`: the whole stack on this machine, a console page to drive it, and one ready line to start from.
import { readBoolean } from '../src/config'
import { ConfigError } from '../src/errors'
import { MIN_SECRET_LENGTH } from '../src/limits'
import { exportLine, readyLine } from './ready-line'
import { RedisServerMissingError } from './redis-server'
import { type DevStack, type DevStackOptions, startDevStack } from './stack'

/** How long a stop may take before we give up on a clean one. */
const STOP_TIMEOUT_MS = 20_000

/** Reads the settings from env variables, or says which one to fix. */
function readSettings(env: NodeJS.ProcessEnv): DevStackOptions | string {
  const port = readPort(env, 'PORT', 8787)
  const mesaPort = readPort(env, 'MESA_PORT', 4000)
  if (typeof port === 'string') return port
  if (typeof mesaPort === 'string') return mesaPort
  const token = env.DISPATCH_TOKEN?.trim() || undefined
  if (token !== undefined && token.length < MIN_SECRET_LENGTH) {
    return `DISPATCH_TOKEN must be at least ${MIN_SECRET_LENGTH} characters, as the endpoint demands (unset it for local-dev-dispatch-token)`
  }
  let keyLocking: boolean
  try {
    keyLocking = readBoolean(env, 'UPSTASH_SCRIPT_KEY_LOCKING', false)
  } catch (error) {
    if (error instanceof ConfigError) return error.message
    throw error
  }
  return { port, mesaPort, token, redisUrl: env.REDIS_URL?.trim() || undefined, keyLocking }
}

function readPort(env: NodeJS.ProcessEnv, name: string, fallback: number): number | string {
  const value = env[name]?.trim()
  if (!value) return fallback
  const port = Number(value)
  return /^\d+$/.test(value) && port <= 65_535 ? port : `${name} must be a port number (0-65535), not ${JSON.stringify(value)}`
}

/** Turns a startup failure into the advice a developer needs. */
function explain(error: unknown, settings: DevStackOptions): string {
  if (error instanceof RedisServerMissingError) {
    return `${error.message} Or set REDIS_URL=redis://HOST:PORT to use a Redis you already run.`
  }
  const { code, port } = error as { code?: string; port?: number }
  if (code === 'EADDRINUSE') {
    const variable = port === settings.mesaPort ? 'MESA_PORT' : 'PORT'
    return `port ${port} is already in use: set ${variable} to a free port (0 picks one)`
  }
  return error instanceof Error ? (error.stack ?? error.message) : String(error)
}

function fail(message: string): never {
  console.error(`dev: ${message}`)
  process.exit(1)
}

const read = readSettings(process.env)
const settings: DevStackOptions = typeof read === 'string' ? fail(read) : read

let stopping = false
const starting: Promise<DevStack> = startDevStack({
  ...settings,
  // Without its Redis nothing works, and Mesa's ioredis would only print ECONNREFUSED twice a second: say so and stop.
  onRedisExit: (how) => shutdown(`redis-server exited (${how}) while the stack ran; stopping everything, as nothing works without it`, 1),
})

function stop(signal: NodeJS.Signals): void {
  shutdown(`${signal}, stopping`, 0)
}

/** Stops the whole stack once, however many reasons arrive, and exits with `code`. */
function shutdown(reason: string, code: number): void {
  // Ctrl-C under `npm run dev` reaches us twice (from the terminal and relayed by npm): stop once.
  if (stopping) return
  stopping = true
  ;(code === 0 ? console.log : console.error)(`dev: ${reason}`)
  setTimeout(() => {
    console.error(`dev: not stopped after ${STOP_TIMEOUT_MS} ms; exiting anyway`)
    process.exit(1)
  }, STOP_TIMEOUT_MS).unref()
  starting
    .then(
      (stack) => stack.close(),
      () => undefined,
    )
    .then(
      () => {
        console.log('dev: stopped')
        process.exit(code)
      },
      (error: unknown) => {
        fail(explain(error, settings))
      },
    )
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

/**
 * An error nobody caught. While stopping, it comes from a part being taken down (Mesa's ioredis rejects the
 * commands still queued on a closing connection with `Connection is closed.`, and Mesa never handles them): it
 * must not turn a clean stop into exit 1, so it is reported and the stop goes on. At any other time it ends the
 * process as Node would, and the exit hook of dev/redis-server.ts kills the redis-server this process started.
 */
function strayError(error: unknown): void {
  if (stopping) {
    console.error(`dev: while stopping, ignored: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`)
    return
  }
  console.error(error)
  process.exit(1)
}
process.on('uncaughtException', strayError)
process.on('unhandledRejection', strayError)

starting.then(
  (stack) => {
    if (!stopping) console.log(`${readyLine(stack)}\n${exportLine(stack)}`)
  },
  (error: unknown) => {
    if (!stopping) fail(explain(error, settings))
  },
)
