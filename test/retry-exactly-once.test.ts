import { beforeAll, describe, expect, it } from 'vitest'
import type { GatewayIntercept } from '../dev/upstash-gateway'
import { createDispatchClient } from '../src/client/index'
import { Dispatcher } from '../src/index'
import { type AnswerDroppingProxy, startAnswerDroppingProxy } from './support/answer-dropping-proxy'
import { useBuiltCli } from './support/built-cli'
import { useCleanup } from './support/cleanup'
import { ENDPOINT_TOKEN, type ServedEndpoint, serveEndpoint } from './support/dispatch-endpoint'
import { CLIENT_KEY, endpointFailureOf } from './support/endpoint-failure'
import { connectMesaClient } from './support/mesa-client'
import { useStack } from './support/stack'
import { pauseWritesAtNextRequest, type WritePause } from './support/write-pause'

// Issue 18's last promise: a call that failed in a way that may have applied it is sent again, and every recipient
// still gets the message exactly once. Three faults, each met by the client, the CLI and a raw HTTP caller that
// follows docs/guarantees.md, against the real stack: redis-server, the gateway, the HTTP app, a Mesa 1.5.8 server.
let fault: GatewayIntercept | undefined
const stack = useStack({ intercept: (req, res) => fault?.(req, res) ?? false })
const open = useCleanup()
const cli = useBuiltCli(stack)
let endpoint: ServedEndpoint
let proxy: AnswerDroppingProxy
beforeAll(async () => {
  // Redis holds the scripts, as a warm one does: a paused EVALSHA of a script it lacked would end in NOSCRIPT, unrun.
  await stack.loadScripts()
  // The endpoint gives Redis 400 ms and no retry of its own, in the namespace of the CLI's Mesa server.
  const dispatcher = new Dispatcher({ ...stack.connection, timeoutMs: 400, retries: 0 }, { namespace: cli.namespace, sync: { enabled: true } })
  endpoint = await serveEndpoint(dispatcher)
  proxy = await startAnswerDroppingProxy(endpoint.url)
  return async () => {
    await proxy.close()
    await endpoint.close()
  }
})

/** A fault the next call meets, and how to wait until whatever it held back has run. */
interface Fault {
  arm(): void
  settled(): Promise<void>
}

let pause: WritePause | undefined
const FAULTS: Record<string, Fault & { retryFinds: 'duplicate' | 'fresh' }> = {
  // Redis paused for writes as the call reaches it: the endpoint times out (503, outcome unknown), and Redis runs it later.
  'Redis paused mid-call': {
    retryFinds: 'duplicate',
    arm() {
      pause = pauseWritesAtNextRequest(stack.admin)
      fault = pause.intercept
    },
    async settled() {
      fault = undefined
      await pause?.resumed()
    },
  },
  // The call is applied, and a proxy loses the answer: the caller sees its connection closed.
  'a proxy dropping the answer after forwarding': { retryFinds: 'duplicate', arm: () => proxy.dropNext(1), settled: async () => {} },
  // The gateway answers 503 before the call reaches Redis: the endpoint says 503, and the retry applies it.
  'a 503 then success': {
    retryFinds: 'fresh',
    arm() {
      let answered = false
      fault = (_req, res) => {
        if (answered) return false
        answered = true
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"unavailable"}')
        return true
      }
    },
    async settled() {
      fault = undefined
    },
  },
}

let recipients = 0
/** A fresh online Mesa client and offline id, the note for both, and what each got of it once the dust settled. */
async function audience() {
  const n = ++recipients
  const online = open(await connectMesaClient(cli.mesa.url, `on-${n}`))
  const body = { message: { d: { n }, t: 'NOTE' }, recipients: [`on-${n}`, `off-${n}`] }
  const before = endpoint.requests
  const reached = async () => {
    // The first copy may still be on its way from Mesa; then none may follow. A missing one shows in the assertion.
    await online.waitForMessages(1, 2000).catch(() => undefined)
    await online.expectNoMoreMessages(300)
    const stored = JSON.parse((await stack.admin.hget(`undelivered_messages_${cli.namespace}`, `off-${n}`)) ?? '[]') as unknown[]
    return { requests: endpoint.requests - before, online: online.raw, stored: stored.length }
  }
  return { n, body, reached, once: { requests: 2, online: [`{"op":0,"d":{"n":${n}},"t":"NOTE"}`], stored: 1 } }
}

/**
 * A raw HTTP caller as docs/guarantees.md tells it to be: an Idempotency-Key of its own on every change, and the
 * same request sent again with it after no answer, a 429 or a 5xx, once Retry-After (seconds) has passed.
 */
async function sendAsDocumented(body: unknown, wait: (seconds: number) => Promise<void>, retries = 2) {
  const headers = { authorization: `Bearer ${ENDPOINT_TOKEN}`, 'content-type': 'application/json', 'idempotency-key': crypto.randomUUID() }
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(`${proxy.url}/dispatch`, { method: 'POST', headers, body: JSON.stringify(body) }).catch((error: unknown) => {
      if (attempt === retries) throw error
      return undefined
    })
    if ((response && !(response.status === 429 || response.status >= 500)) || attempt === retries) return (await response!.json()) as { result?: unknown }
    await wait(Number(response?.headers.get('retry-after') ?? 1))
  }
}

describe.each(Object.entries(FAULTS))('after %s, every recipient is reached exactly once', (_, scenario) => {
  it('through the client, which sends the call again with its own key', async () => {
    const { body, reached, once } = await audience()
    const waits: number[] = []
    // The client's wait is where the time passes in which Redis runs what it held: the test waits for exactly that.
    const client = createDispatchClient({ endpoint: proxy.url, token: ENDPOINT_TOKEN, sleep: (ms) => scenario.settled().then(() => void waits.push(ms)) })
    scenario.arm()
    const result = await client.dispatch(body)
    await scenario.settled()
    expect({ duplicate: result.duplicate, waits: waits.length, reached: await reached() }).toEqual({
      duplicate: scenario.retryFinds === 'duplicate',
      waits: 1,
      reached: once,
    })
  })

  it('through the CLI, which does the same, waiting the Retry-After it is told', async () => {
    const { n, reached, once } = await audience()
    scenario.arm()
    const run = await cli.run([
      'send',
      '--endpoint',
      proxy.url,
      '--token',
      ENDPOINT_TOKEN,
      '--to',
      `on-${n},off-${n}`,
      '--type',
      'NOTE',
      '--data',
      JSON.stringify({ n }),
    ])
    await scenario.settled()
    expect({ code: run.code, stderr: run.stderr, reached: await reached() }).toEqual({ code: 0, stderr: '', reached: once })
  }, 30_000)

  it('through a raw HTTP caller that follows the documented retry advice', async () => {
    const { body, reached, once } = await audience()
    scenario.arm()
    const answer = await sendAsDocumented(body, () => scenario.settled())
    await scenario.settled()
    expect({ duplicate: (answer.result as { duplicate?: boolean })?.duplicate, reached: await reached() }).toEqual({
      duplicate: scenario.retryFinds === 'duplicate',
      reached: once,
    })
  })
})

describe('a call that ran out of retries names the key that finishes it', () => {
  const paused = FAULTS['Redis paused mid-call']!

  it('in the client error: sent again with it, the dispatch is a duplicate, and reached everyone once', async () => {
    const { body, reached, once } = await audience()
    const client = createDispatchClient({ endpoint: proxy.url, token: ENDPOINT_TOKEN, maxRetries: 0 })
    paused.arm()
    const failure = await endpointFailureOf(client.dispatch(body))
    await paused.settled()
    const finished = await client.dispatch(body, { idempotencyKey: failure.idempotencyKey! })
    expect({ failure, duplicate: finished.duplicate, reached: await reached() }).toMatchObject({
      failure: { status: 503, errorName: 'RedisUnavailableError', outcome: 'unknown', attempts: 1, idempotencyKey: CLIENT_KEY },
      duplicate: true,
      reached: once,
    })
  })

  it('in the CLI advice: the same command with --id KEY is a duplicate, and reached everyone once', async () => {
    const { n, reached, once } = await audience()
    const send = ['send', '--endpoint', proxy.url, '--token', ENDPOINT_TOKEN, '--to', `on-${n},off-${n}`, '--type', 'NOTE', '--data', JSON.stringify({ n })]
    paused.arm()
    const failed = await cli.run([...send, '--retries', '0'])
    await paused.settled()
    const key = /--id (\S+) to apply it at most once/.exec(failed.stderr)?.[1]
    const finished = await cli.run([...send, '--id', key ?? 'no key printed'])
    expect({ failed: failed.code, key, finished, reached: await reached() }).toEqual({
      failed: 4,
      key: CLIENT_KEY,
      finished: {
        code: 0,
        stdout: 'duplicate: this id was already applied, by an earlier call or an earlier attempt of this one, so nothing was sent again\n',
        stderr: '',
      },
      reached: once,
    })
  })
})
