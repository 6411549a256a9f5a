import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Dispatcher, IdempotencyConflictError, Message, RateLimitedError } from '../src/index'
import * as scripts from '../src/script/scripts'
import { type MonitoredCommand, startMonitor } from './support/monitor'
import { useStack } from './support/stack'

// Under Upstash's allow-key-locking flag a script locks only its KEYS, and a key it touches beyond them is refused
// (https://upstash.com/docs/redis/commands/scripting/eval). Every script call of every kind is run here against a
// real redis-server while MONITOR records each command the scripts run (Redis logs those of a script, as `lua`,
// right after the EVALSHA or EVAL that ran it), and Redis itself names each command's keys (COMMAND GETKEYS).
const stack = useStack()
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

// A channel is not a key: PUBLISH is the one command without keys a script may run. Any other (SCAN, KEYS, DBSIZE)
// reaches the whole database, which no key lock covers.
const KEYLESS = new Set(['publish'])

/** One script call as MONITOR saw it: the script, its KEYS, and the commands it ran. */
interface ScriptCall {
  script: string
  keys: string[]
  commands: string[][]
}

/** Groups what MONITOR recorded into script calls; a command of a script with no call before it is its own call. */
async function scriptCalls(recorded: MonitoredCommand[]): Promise<ScriptCall[]> {
  const names = new Map<string, string>()
  for (const script of Object.values(scripts)) {
    names.set(script.sha1, script.name)
    // What a gateway that has not yet seen the flagged text passes on as is, for redis-server to answer NOSCRIPT.
    names.set(script.keyLockingSha1, script.name)
  }
  const calls: ScriptCall[] = []
  let current: ScriptCall | undefined
  for (const { source, args } of recorded) {
    const [name = '', body = '', count = '0'] = args
    if (source === 'lua') {
      if (!current) {
        current = { script: 'unknown', keys: [], commands: [] }
        calls.push(current)
      }
      current.commands.push(args)
    } else if (/^eval(sha)?$/i.test(name)) {
      const digest = /^evalsha$/i.test(name) ? body : sha1(body)
      current = { script: names.get(digest) ?? digest, keys: args.slice(3, 3 + Number(count)), commands: [] }
      calls.push(current)
    } else current = undefined
  }
  return calls
}

/** The keys Redis says a command names, or why it may not run under a key lock. */
async function keysOf(command: string[]): Promise<string[]> {
  try {
    return (await stack.admin.call('COMMAND', 'GETKEYS', ...command)) as string[]
  } catch (error) {
    if (/no key arguments/.test((error as Error).message) && KEYLESS.has(command[0]!.toLowerCase())) return []
    throw new Error(`${command[0]} has no key Redis can name: it may touch any key`, { cause: error })
  }
}

/** Each command of a call that touches a key not in its KEYS, as `<script>: <command> <key>`. */
async function undeclared(calls: ScriptCall[]): Promise<string[]> {
  const found: string[] = []
  for (const call of calls) {
    for (const command of call.commands) {
      for (const key of await keysOf(command)) if (!call.keys.includes(key)) found.push(`${call.script}: ${command[0]} ${key}`)
    }
  }
  return found
}

const note = (text: string) => new Message(0, { text }, 'NOTE')

/** Every kind of call the package makes: each script, on each of its paths that reaches Redis differently. */
async function runEveryCall(): Promise<void> {
  const namespace = stack.freshNamespace()
  const connection = { ...stack.connection, keyLocking: true }
  const config = { namespace, sync: { enabled: true, maxMessages: 2, maxBytes: 2048, maxAgeSeconds: 60 }, maxWriteBytes: 2048 }
  const dispatcher = new Dispatcher(connection, config)
  const hash = `undelivered_messages_${namespace}`
  await stack.admin.sadd(`connected_clients_${namespace}`, 'online-1', '7')
  // A backlog another writer stored (Mesa's own Dispatcher), which the script parses rather than trusts.
  await stack.admin.hset(hash, 'foreign', JSON.stringify([{ op: 0, d: { text: 'from Mesa' }, t: 'NOTE' }]))

  await dispatcher.dispatch(note('online and offline'), ['online-1', 7, 'offline-1', 'foreign'])
  await dispatcher.dispatch(note('to all'), ['*'])
  await dispatcher.dispatch(new Message(0, { text: 'no sync' }, 'NOTE', { sync: false }), ['offline-1'])
  // Past the caps: the oldest messages go.
  for (const text of ['cap 1', 'cap 2', 'cap 3']) await dispatcher.dispatch(note(text), ['offline-1'])
  // A dispatch whose stores need more than one call's write budget goes in parts, resumed by its id.
  const crowd = Array.from({ length: 6 }, (_, i) => `part-${i}`)
  await dispatcher.dispatch(note('x'.repeat(600)), crowd, undefined, { id: 'in-parts' })
  await dispatcher.dispatch(note('x'.repeat(600)), crowd, undefined, { id: 'in-parts' })
  await dispatcher.dispatchMany([
    { event: note('batch 1'), recipients: ['offline-2'], options: { id: 'batch-1' } },
    { event: note('batch 2'), recipients: ['online-1'], excluding: ['offline-2'] },
  ])

  // A named key's rate limit, on every kind of call: admitted, then refused.
  const rateLimit = { name: 'key-a', requests: 4, windowSeconds: 86_400 }
  await dispatcher.dispatch(note('limited'), ['offline-3'], undefined, { rateLimit })
  await dispatcher.presence(['offline-3'], { rateLimit })
  await dispatcher.backlog('offline-3', { rateLimit })
  await dispatcher.clearBacklog(['offline-3'], { rateLimit })
  await expect(dispatcher.connectedCount({ rateLimit })).rejects.toBeInstanceOf(RateLimitedError)

  await dispatcher.presence(['online-1', 7, 'nobody'])
  await dispatcher.connectedCount()
  for await (const _ of dispatcher.backlogPages('offline-1', { limit: 1 })) void _
  await dispatcher.backlog('foreign')
  await dispatcher.clearBacklog(['foreign', 'part-0', 'never-stored'], { id: 'clear-once' })
  await dispatcher.clearBacklog(['foreign', 'part-0', 'never-stored'], { id: 'clear-once' })
  await expect(dispatcher.clearBacklog(['foreign'], { id: 'clear-once' })).rejects.toBeInstanceOf(IdempotencyConflictError)
  // A backlog whose index entry is stale (Mesa deleted the value at a login) and the rest, old by then.
  await stack.admin.hdel(hash, 'part-1')
  await dispatcher.cleanupBacklogs({ now: () => Date.now() + 120_000, stepSize: 3 })
}

describe('every script call', () => {
  it("names in KEYS every key its script touches, as Upstash's key locking demands, on every path of every script", async () => {
    await stack.admin.script('FLUSH')
    const monitor = await startMonitor(stack.redis.url)
    await runEveryCall()
    const calls = await scriptCalls(await monitor.stop())
    const seen = (script: string) =>
      [...new Set(calls.filter((call) => call.script === script).flatMap((call) => call.commands.map(([name]) => name!.toLowerCase())))].sort()
    expect({
      undeclared: await undeclared(calls),
      scripts: [...new Set(calls.map((call) => call.script))].sort(),
      commands: Object.fromEntries(Object.values(scripts).map((script) => [script.name, seen(script.name)])),
    }).toEqual({
      undeclared: [],
      scripts: ['backlog', 'cleanup', 'clear', 'dispatch', 'presence'],
      // What the calls ran, so that a path that stopped running would show here.
      commands: {
        backlog: ['hget', 'hstrlen', 'incrby'],
        cleanup: ['hdel', 'hget', 'hscan', 'hstrlen'],
        clear: ['get', 'hdel', 'hmget', 'hstrlen', 'incrby', 'set'],
        dispatch: ['expireat', 'get', 'hmget', 'hset', 'hstrlen', 'incrby', 'publish', 'set', 'smismember'],
        presence: ['decrby', 'incrby', 'scard', 'smismember'],
      },
    })
  })
})
