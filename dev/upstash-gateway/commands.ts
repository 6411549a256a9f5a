/** One Redis command as the gateway forwards it: the name, then its arguments. */
export type RedisCommand = [name: string, ...args: (string | number | Buffer)[]]

// Each of these would tie the one shared Redis connection to a single HTTP caller: subscriber or monitor mode,
// MULTI state, a selected database, a blocked socket, or a closed/re-authenticated connection.
const REFUSED = new Set([
  'subscribe',
  'psubscribe',
  'ssubscribe',
  'unsubscribe',
  'punsubscribe',
  'sunsubscribe',
  'monitor',
  'sync',
  'psync',
  'blpop',
  'brpop',
  'brpoplpush',
  'blmove',
  'blmpop',
  'bzpopmin',
  'bzpopmax',
  'bzmpop',
  'wait',
  'waitaof',
  'multi',
  'exec',
  'discard',
  'watch',
  'unwatch',
  'select',
  'quit',
  'reset',
  'hello',
  'auth',
])

/** Validates one decoded JSON command, returning it (booleans stringified) or a reason it is malformed. */
export function toCommand(value: unknown): RedisCommand | string {
  if (!Array.isArray(value) || value.length === 0) return 'ERR a command must be a non-empty JSON array'
  if (typeof value[0] !== 'string' || value[0] === '') return 'ERR the command name must be a non-empty string'
  for (let i = 1; i < value.length; i++) {
    const arg: unknown = value[i]
    if (typeof arg === 'string' || typeof arg === 'number') continue
    // @upstash/redis serialises boolean arguments as JSON booleans (defaultSerializer in its Command class).
    if (typeof arg === 'boolean') value[i] = String(arg)
    else return `ERR argument ${i} must be a string or a number`
  }
  return value as RedisCommand
}

/** Validates a decoded /pipeline or /multi-exec body, returning its commands or the first reason one is malformed. */
export function toCommands(value: unknown): RedisCommand[] | string {
  if (!Array.isArray(value) || value.length === 0) return 'ERR a pipeline must be a non-empty JSON array of commands'
  for (let i = 0; i < value.length; i++) {
    const command = toCommand(value[i])
    if (typeof command === 'string') return `${command} (command ${i + 1})`
  }
  return value as RedisCommand[]
}

/** Returns why a command cannot run through a shared HTTP connection, or undefined when it can. */
export function refusal(command: RedisCommand): string | undefined {
  const name = command[0].toLowerCase()
  if (REFUSED.has(name) || (name === 'client' && lower(command[1]) === 'reply') || blockingRead(name, command)) {
    return `ERR ${name.toUpperCase()} is not supported over REST`
  }
  return undefined
}

function blockingRead(name: string, command: RedisCommand): boolean {
  if (name !== 'xread' && name !== 'xreadgroup') return false
  // Only options before STREAMS count: after it come key names, and a stream may well be called "block".
  for (let i = 1; i < command.length; i++) {
    const arg = lower(command[i])
    if (arg === 'streams') return false
    if (arg === 'block') return true
  }
  return false
}

function lower(arg: unknown): string | undefined {
  return typeof arg === 'string' ? arg.toLowerCase() : undefined
}

/**
 * Builds a command from a REST path such as /set/foo/bar: a POST body becomes the last path argument and
 * query parameters (except _token) follow it, as in Upstash's "JSON or Binary Value" docs.
 */
export function pathCommand(path: string, body: Buffer, query: URLSearchParams | undefined): RedisCommand | string {
  const segments = path.slice(1).split('/')
  if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop()
  const command: (string | Buffer)[] = []
  try {
    for (const segment of segments) command.push(decodeURIComponent(segment))
  } catch {
    return 'ERR malformed percent-encoding in the path'
  }
  if (body.length > 0) command.push(body)
  if (query) {
    for (const [key, value] of query) {
      if (key === '_token') continue
      command.push(key)
      if (value !== '') command.push(value)
    }
  }
  return command as RedisCommand
}
