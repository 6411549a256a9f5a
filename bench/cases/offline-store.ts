import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { Message } from '../../src/index'
import { DEFAULT_SYNC_MAX_BYTES, DEFAULT_SYNC_MAX_MESSAGES, MAX_CHECKS_PER_CALL } from '../../src/limits'
import { alternateRedisTime, measureRedisTime } from '../redis-stats'
import { CaseRecorder, type CaseResult } from '../results'
import { pick } from '../settings'
import type { BenchStack } from '../stack'
import { median } from '../stats'

const NAMESPACE = 'store'
const HASH = `undelivered_messages_${NAMESPACE}`
const INDEX = `mesa_dispatch_backlogs_${NAMESPACE}`
const MAX_RATIO = 1.5
const MAX_BLOCK_MS = 50
/** Issue 18's and 20's bound: what a backlog at the caps adds to a dispatch, against a bare rewrite of the field. */
const MAX_BARE_RATIO = 1.25

/**
 * The least any store into Mesa's format can do at the caps, shipped nowhere: read the field, cut its oldest message,
 * append one, write it back. KEYS[1] the hash; ARGV[1] the field, ARGV[2] the message. Reply: the new length.
 */
const BARE_REWRITE = `local v = redis.call('HGET', KEYS[1], ARGV[1])
local cut = string.find(v, ',{', 2, true)
local out = '[' .. string.sub(v, cut + 1, -2) .. ',' .. ARGV[2] .. ']'
redis.call('HSET', KEYS[1], ARGV[1], out)
return #out`

/** A stored message of about `bytes` bytes, as JSON. */
const storedMessage = (n: number, bytes: number) => {
  const json = JSON.stringify({ op: 0, d: { n, text: '' }, t: 'NOTE' })
  return JSON.stringify({ op: 0, d: { n, text: 'x'.repeat(Math.max(0, bytes - json.length)) }, t: 'NOTE' })
}

/** The first 8 hex digits of a message's SHA-1, as the index keeps them (src/script/shared/fingerprint.lua). */
const hashOf = (message: string) => createHash('sha1').update(message).digest('hex').slice(0, 8)

/**
 * A backlog of `count` messages of about `bytes` each, as the dispatch script writes it, with the index entry it
 * writes beside it, "<bytes>:<count>:<time>:<fingerprint>:<lengths>": the script vouches for the value by that
 * entry, as it does for every backlog it wrote, instead of checking it as JSON.
 */
export function backlog(count: number, bytes: number): { value: string; index: string } {
  const messages = Array.from({ length: count }, (_, n) => storedMessage(n, bytes))
  const value = `[${messages.join(',')}]`
  const fingerprint = hashOf(messages[0]!) + hashOf(messages[count - 1]!)
  const lengths = messages.map((each) => each.length).join(',')
  return { value, index: `${value.length}:${count}:${Math.floor(Date.now() / 1000)}:${fingerprint}:${lengths}` }
}

async function arrange(admin: Redis, ids: string[], state: { value: string; index: string } | undefined): Promise<void> {
  await admin.del(HASH, INDEX)
  if (!state) return
  for (let from = 0; from < ids.length; from += 100) {
    const slice = ids.slice(from, from + 100)
    await admin.hset(HASH, ...slice.flatMap((id) => [id, state.value]))
    await admin.hset(INDEX, ...slice.flatMap((id) => [id, state.index]))
  }
}

/**
 * Case 8: the bounded offline store. (a) Redis's time for a dispatch to one offline recipient whose backlog is
 * empty, against one at the default caps; (b) the longest a script call holds Redis in the worst case the
 * default limits allow, seen by a PING sent over and over from another connection, and by SLOWLOG.
 */
export async function runOfflineStore(stack: BenchStack): Promise<CaseResult> {
  const record = new CaseRecorder('8', 'The bounded offline store: one offline recipient at the caps, and the worst call the limits allow')
  const dispatcher = stack.dispatcher({ namespace: NAMESPACE, sync: { enabled: true } })
  const message = new Message(0, { content: 'hello to an offline user', author: 'bench', n: 1 }, 'NEW_MESSAGE')
  const rounds = pick(200, 10)

  // (a) One recipient, offline. Each shape is measured in a steady state: an empty backlog is a new recipient
  // each time, and a backlog at the caps stays there, since each dispatch drops the oldest message and appends one.
  const shapes: Array<[string, { value: string; index: string } | undefined]> = [
    ['an empty backlog', undefined],
    [`${DEFAULT_SYNC_MAX_MESSAGES} messages of 100 B (the message cap)`, backlog(DEFAULT_SYNC_MAX_MESSAGES, 100)],
    [`${DEFAULT_SYNC_MAX_MESSAGES} messages of 262 B (both caps, ${DEFAULT_SYNC_MAX_BYTES} B)`, backlog(DEFAULT_SYNC_MAX_MESSAGES, 261)],
  ]
  const usec: Record<string, number> = {}
  await dispatcher.dispatch(message, ['warm-up'])
  for (const [name, state] of shapes) {
    await arrange(stack.admin, ['later'], state)
    for (let i = 0; i < 20; i++) await dispatcher.dispatch(message, [state ? 'later' : `warm-${i}`])
    const stats = await measureRedisTime(stack.admin, async () => {
      for (let i = 0; i < rounds; i++) await dispatcher.dispatch(message, [state ? 'later' : `new-${i}`])
    })
    usec[name] = stats.evalsha?.usecPerCall ?? Number.NaN
    record.value(
      `Redis time per dispatch to one offline recipient with ${name}`,
      Math.round(usec[name]!),
      'µs',
      `EVALSHA from INFO commandstats over ${rounds} dispatches`,
    )
  }
  const empty = usec['an empty backlog']!
  // What the caps add, against the bare rewrite of a field of the same size, in alternating blocks on the same Redis.
  const bareSha = String(await stack.admin.script('LOAD', BARE_REWRITE))
  const messageJson = message.json
  let fresh = 0
  for (const [name, state] of shapes.slice(1)) {
    await arrange(stack.admin, ['later', 'bare'], state)
    // As in (a): the first dispatch checks the arranged value in full and indexes it as its own; then steady state.
    for (let i = 0; i < 20; i++) await dispatcher.dispatch(message, ['later'])
    const blocks = await alternateRedisTime(
      stack.admin,
      {
        ours: () => dispatcher.dispatch(message, ['later']),
        empty: () => dispatcher.dispatch(message, [`fresh-${fresh++}`]),
        bare: () => stack.admin.evalsha(bareSha, 1, HASH, 'bare', messageJson),
      },
      { blocks: pick(8, 2), callsPerBlock: pick(50, 5) },
    )
    const added = median(blocks.ours!) - median(blocks.empty!)
    const bare = median(blocks.bare!)
    const times = added / bare
    record.target(
      `what ${name} adds to a dispatch / a bare script's read, cut and rewrite of the field`,
      `<= ${MAX_BARE_RATIO}x`,
      `${times.toFixed(2)}x (${Math.round(median(blocks.ours!))} - ${Math.round(median(blocks.empty!))} µs against ${Math.round(bare)} µs)`,
      times <= MAX_BARE_RATIO,
    )
  }
  for (const [name] of shapes.slice(1)) {
    const times = usec[name]! / empty
    record.target(
      `Redis time with ${name} / with an empty backlog`,
      `<= ${MAX_RATIO}x`,
      `${times.toFixed(2)}x (${Math.round(usec[name]!)} µs against ${Math.round(empty)} µs)`,
      times <= MAX_RATIO,
    )
  }

  // (b) The most recipients one call checks, a hundred of them offline with backlogs at both caps, and three
  // message sizes: small (drops one message), half a backlog (drops by scanning), and almost a whole one.
  const ids = Array.from({ length: MAX_CHECKS_PER_CALL }, (_, i) => `user-${i}`)
  const offline = ids.slice(0, 100)
  const full = backlog(DEFAULT_SYNC_MAX_MESSAGES, 261)
  await stack.admin.del(`connected_clients_${NAMESPACE}`)
  await stack.admin.sadd(`connected_clients_${NAMESPACE}`, ...ids.slice(100))
  let worst = 0
  for (const [label, bytes] of [
    ['100 B', 100],
    ['128 KiB', 128 * 1024],
    ['255 KiB', DEFAULT_SYNC_MAX_BYTES - 1024],
  ] as const) {
    const big = new Message(0, { text: 'y'.repeat(bytes) }, 'NOTE')
    const pings: number[] = []
    let longest = 0
    let calls = 0
    for (let i = 0; i < pick(3, 1); i++) {
      await arrange(stack.admin, offline, full)
      // Every script call of a dispatch takes well over 1 ms here; the PINGs, which must not fill the log, do not.
      await stack.admin.config('SET', 'slowlog-log-slower-than', '1000', 'slowlog-max-len', '100000')
      await stack.admin.slowlog('RESET')
      // The PINGs come from a process of their own, so that nothing in this one (the gateway parsing requests,
      // the Dispatcher) delays them: what they wait for is Redis.
      const pinger = await startPinger(stack.redis.port)
      const before = stack.gateway.requests
      await dispatcher.dispatch(big, ids)
      pings.push(...(await pinger.stop()))
      calls += stack.gateway.requests - before
      const log = (await stack.admin.slowlog('GET', -1)) as Array<[number, number, number, string[]]>
      for (const [, , micros, args] of log) if (String(args[0]).toLowerCase() === 'evalsha') longest = Math.max(longest, micros / 1000)
      await stack.admin.config('SET', 'slowlog-log-slower-than', '10000')
    }
    const maxPing = pings.reduce((max, each) => Math.max(max, each), 0)
    worst = Math.max(worst, maxPing)
    record.value(`message of ${label}: script calls per dispatch`, calls / pick(3, 1), 'calls')
    record.value(`message of ${label}: longest script call (SLOWLOG)`, Number(longest.toFixed(2)), 'ms')
    record.value(`message of ${label}: longest PING during the dispatch`, Number(maxPing.toFixed(2)), 'ms', `${pings.length} PINGs`)
  }
  record.target('the worst call the default limits allow, seen by a concurrent PING', `<= ${MAX_BLOCK_MS} ms`, `${worst.toFixed(1)} ms`, worst <= MAX_BLOCK_MS)
  record.note(
    'The bare rewrite (BARE_REWRITE in this file, shipped nowhere) HGETs the field, cuts its oldest message, appends the ' +
      'message and HSETs it; it runs in blocks alternating with our dispatch at the caps and with one to a new recipient, ' +
      "whose time is taken off ours, so the ratio is what the caps add against the least any store in Mesa's format does.",
  )
  record.note(
    "A backlog is one field of Mesa's hash, read by one HGET at login, so every append rewrites it whole; redis-server " +
      '7 hashes every byte of every string its Lua creates (deps/lua/src/lstring.c, step 1), about 1.2 ns per byte, ' +
      'and an append creates three: the value read, the part kept, and the value written.',
  )
  return record.result
}

/**
 * PINGs Redis from a child process until stopped, one at a time and at most one per millisecond (so that the
 * pinger does not itself take a core from Redis), and returns every round trip in ms: a PING sent while a
 * script runs waits for it to end.
 */
async function startPinger(port: number): Promise<{ stop(): Promise<number[]> }> {
  const code = `
    const net = require('node:net'); const times = []; let started = 0; let stopped = false
    const socket = net.connect(${port}, '127.0.0.1', () => { process.stdout.write('ready\\n'); ping() })
    const ping = () => { if (!stopped) { started = performance.now(); socket.write('PING\\r\\n') } }
    socket.on('data', () => { const took = performance.now() - started; times.push(took); setTimeout(ping, Math.max(0, 1 - took)) })
    process.stdin.on('end', () => { stopped = true; socket.destroy(); process.stdout.write(JSON.stringify(times) + '\\n') }); process.stdin.resume()`
  const child = spawn(process.execPath, ['-e', code], { stdio: ['pipe', 'pipe', 'inherit'] })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  await new Promise<void>((resolve) => child.stdout.on('data', () => output.includes('ready') && resolve()))
  return {
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => resolve(JSON.parse(output.slice(output.indexOf('\n') + 1)) as number[]))
        child.stdin.end()
      }),
  }
}
