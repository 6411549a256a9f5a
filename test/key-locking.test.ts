import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from '@upstash/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startDevStack } from '../dev/stack'
import { startGateway } from '../dev/upstash-gateway'
import { Dispatcher, Message } from '../src/index'
import { KEY_LOCKING_SHEBANG, scriptText } from '../src/script/lua-script'
import * as scripts from '../src/script/scripts'
import { loadScripts } from '../src/transport/runner'
import { useCleanup } from './support/cleanup'
import { connectMesaClient } from './support/mesa-client'
import { type MesaServer, startMesaServer } from './support/mesa-server'
import { ROOT } from './support/serverless-cli'
import { GATEWAY_TOKEN, useStack } from './support/stack'

// UPSTASH_SCRIPT_KEY_LOCKING: the scripts sent under Upstash's `#!lua flags=allow-key-locking` shebang, with that
// text's own SHA, through the local gateway, which accepts the flag as Upstash does in front of a redis-server 7 that
// refuses it. test/script-keys.test.ts proves every script call names every key it touches in KEYS.
const stack = useStack()
const open = useCleanup()
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')
const AGE = 60
let mesa: MesaServer
let namespace: string

beforeAll(async () => {
  namespace = stack.freshNamespace()
  mesa = await startMesaServer({ redisUrl: stack.redis.url, namespace })
})
afterAll(() => mesa.close())

/** A Dispatcher read from a function's env with the setting on, as a deployed function reads it. */
const keyLockingDispatcher = (env: Record<string, string> = {}) =>
  Dispatcher.fromEnv({ ...stack.functionEnv(namespace), MESA_SYNC_MAX_AGE_SECONDS: String(AGE), UPSTASH_SCRIPT_KEY_LOCKING: 'true', ...env })

/** How many EVALs Redis has run, from INFO commandstats: each is the fallback after a NOSCRIPT. */
async function evals(): Promise<number> {
  return Number(/cmdstat_eval:calls=(\d+)/.exec(await stack.admin.info('commandstats'))?.[1] ?? 0)
}

const note = (text: string) => new Message(0, { text }, 'NOTE')
const frame = (text: string) => ({ op: 0, d: { text }, t: 'NOTE' })

describe('the key-locking form of the scripts', () => {
  it('is refused by redis-server 7 itself, which is why the gateway drops the flag before it', async () => {
    await expect(stack.admin.eval(`${KEY_LOCKING_SHEBANG}return 1`, 0)).rejects.toThrow('Unexpected flag in script shebang')
  })

  it('answers the check docs/capacity.md gives an operator: 1 where the flag is taken, else the refusal it quotes', async () => {
    const page = readFileSync(join(ROOT, 'docs', 'capacity.md'), 'utf8')
    const body = /^curl .* -d '(.+)'$/m.exec(page)?.[1] ?? ''
    const [, script = '', keys = ''] = JSON.parse(body) as string[]
    const answer = await fetch(stack.gateway.url, { method: 'POST', headers: { authorization: `Bearer ${GATEWAY_TOKEN}` }, body })
    const refusal = await stack.admin.eval(script, Number(keys)).catch((error: Error) => error.message)
    expect({ answer: await answer.text(), refusal: page.includes(`{"error":"${refusal}"}`) }).toEqual({ answer: '{"result":1}', refusal: true })
  })

  it("is cached by the gateway under the flagged text's SHA, as Upstash caches it, while redis-server holds the text without the flag", async () => {
    const client = new Redis({ url: stack.gateway.url, token: GATEWAY_TOKEN, enableAutoPipelining: false })
    const plain = 'return {KEYS[1], ARGV[1]}'
    const flagged = `${KEY_LOCKING_SHEBANG}${plain}`
    await stack.admin.script('FLUSH')
    expect({
      unknown: await client.evalsha(sha1(flagged), ['k'], ['a']).catch((error: Error) => error.message.split(',')[0]),
      loaded: await client.scriptLoad(flagged),
      exists: await client.scriptExists(sha1(flagged), sha1(plain)),
      ran: await client.evalsha(sha1(flagged), ['k'], ['a']),
      evaluated: await client.eval(flagged, ['k2'], ['b']),
      inRedis: await stack.admin.script('EXISTS', sha1(flagged), sha1(plain)),
      // Another flag stays: a read-only script under both is still refused a write.
      readOnly: await client
        .eval("#!lua flags=no-writes,allow-key-locking\nreturn redis.call('SET', KEYS[1], 'x')", ['k'], [])
        .catch((error: Error) => /Write commands are not allowed from read-only scripts/.test(error.message)),
    }).toEqual({
      unknown: 'NOSCRIPT No matching script. Please use EVAL.',
      loaded: sha1(flagged),
      exists: [1, 1],
      ran: ['k', 'a'],
      evaluated: ['k2', 'b'],
      inRedis: [0, 1],
      readOnly: true,
    })
  })

  it('asks Redis for the flagged SHA: a gateway that never saw the flagged text lacks it, even where Redis holds the plain script', async () => {
    // A gateway of its own, which has mapped no flagged SHA yet.
    const gateway = open(await startGateway({ redisUrl: stack.redis.url, token: GATEWAY_TOKEN }))
    await stack.loadScripts()
    const env = { UPSTASH_REDIS_REST_URL: gateway.url, MESA_NAMESPACE: stack.freshNamespace() }
    /** What one dispatch cost: the EVALs Redis ran and the requests the gateway received. */
    const cost = async (dispatcher: Dispatcher) => {
      const [before, requests] = [await evals(), gateway.requests]
      await dispatcher.dispatch(note('counted'), ['nobody'])
      return { evals: (await evals()) - before, requests: gateway.requests - requests }
    }
    expect({
      plain: await cost(Dispatcher.fromEnv({ ...stack.functionEnv(namespace), ...env })),
      first: await cost(keyLockingDispatcher(env)),
      second: await cost(keyLockingDispatcher(env)),
    }).toEqual({ plain: { evals: 0, requests: 1 }, first: { evals: 1, requests: 2 }, second: { evals: 0, requests: 1 } })
  })

  it("is what a Lambda function's warm-up loads: SCRIPT EXISTS of the flagged SHAs, then SCRIPT LOAD of the missing ones", async () => {
    await stack.admin.script('FLUSH')
    const connection = { ...stack.connection, keyLocking: true }
    const all = Object.values(scripts)
    expect({ first: await loadScripts(connection, all), again: await loadScripts(connection, all) }).toEqual({
      first: all.map((script) => script.name),
      again: [],
    })
    expect(await stack.admin.script('EXISTS', ...(await Promise.all(all.map(async (script) => sha1(await scriptText(script))))))).toEqual(all.map(() => 1))
  })

  it('runs a dispatch, presence, a backlog read, a clear and a cleanup pass through the gateway, with real Mesa clients', async () => {
    await stack.admin.script('FLUSH')
    const dispatcher = keyLockingDispatcher()
    const alice = open(await connectMesaClient(mesa.url, 'alice'))
    const sent = await dispatcher.dispatch(note('hello'), ['alice', 'bob'])
    await dispatcher.dispatch(note('again'), ['bob'], undefined, { id: 'key-locking-again' })
    const repeated = await dispatcher.dispatch(note('again'), ['bob'], undefined, { id: 'key-locking-again' })
    const presence = await dispatcher.presence(['alice', 'bob'])
    const backlog = await dispatcher.backlog('bob')
    const cleared = await dispatcher.clearBacklog(['bob'])
    await dispatcher.dispatch(note('stale'), ['carol'])
    const stale = await stack.admin.hstrlen(`undelivered_messages_${namespace}`, 'carol')
    const cleanup = await dispatcher.cleanupBacklogs({ now: () => Date.now() + (AGE + 5) * 1000 })
    expect({
      sent,
      duplicate: repeated.duplicate,
      alice: await alice.waitForMessages(1),
      presence,
      backlog,
      cleared,
      cleanup,
      carol: await stack.admin.hget(`undelivered_messages_${namespace}`, 'carol'),
    }).toEqual({
      sent: {
        servers: 1,
        recipients: ['alice'],
        online: ['alice'],
        offline: ['bob'],
        unstored: [],
        stored: 1,
        dropped: 0,
        duplicate: false,
        excludingIgnored: false,
      },
      duplicate: true,
      alice: [frame('hello')],
      presence: { online: ['alice'], offline: ['bob'] },
      backlog: { messages: [frame('hello'), frame('again')], count: 2, bytes: backlog.bytes, total: 2, cursor: null, truncated: false },
      cleared: { cleared: [{ recipient: 'bob', messages: 2, bytes: backlog.bytes }], duplicate: false },
      cleanup: { removed: 1, bytes: stale, forgotten: 1, complete: true },
      carol: null,
    })
    await alice.expectNoMoreMessages(100)
  })

  it('runs under `npm run dev` with UPSTASH_SCRIPT_KEY_LOCKING on: the edge entry asks the gateway for the flagged SHA, and Mesa delivers', async () => {
    await stack.loadScripts()
    const dev = open(await startDevStack({ port: 0, mesaPort: 0, redisUrl: stack.redis.url, namespace: stack.freshNamespace(), keyLocking: true }))
    const dave = open(await connectMesaClient(dev.mesaUrl, 'dave', { redisUrl: dev.redisUrl, namespace: dev.namespace }))
    const before = await evals()
    const send = (text: string) =>
      fetch(dev.endpointUrl, {
        method: 'POST',
        headers: { authorization: `Bearer ${dev.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ message: { d: { text }, t: 'NOTE' }, recipients: ['dave'] }),
      }).then((response) => response.status)
    expect({ first: await send('one'), second: await send('two'), evals: (await evals()) - before, dave: await dave.waitForMessages(2) }).toEqual({
      first: 200,
      second: 200,
      // Redis held the plain script alone: the flagged SHA was missing once, then cached.
      evals: 1,
      dave: [frame('one'), frame('two')],
    })
  })
})
