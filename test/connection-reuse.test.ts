import { describe, expect, it } from 'vitest'
import { Dispatcher, type DispatcherConfig, Message } from '../src/index'
import { useCleanup } from './support/cleanup'
import { type DelayProxy, startDelayProxy } from './support/delay-proxy'
import { GATEWAY_TOKEN, useStack } from './support/stack'

// Every connection costs a handshake (TCP, then TLS): a Dispatcher over REST keeps to the one it has open, even for
// a request sent the moment the last answer came, which Node's fetch would otherwise give a connection of its own.
// Connections are counted where they are accepted, by a proxy in front of the gateway: a new one per test, whose
// port no earlier connection of the process's pool went to.
const stack = useStack()
const open = useCleanup()

const note = (n: number, text = '') => new Message(0, text ? { n, text } : { n }, 'NOTE')
const ids = Array.from({ length: 6 }, (_, i) => `user-${i}`)

/** A Dispatcher in a fresh namespace that reaches the gateway through a new counting proxy. */
async function dispatcherThroughProxy(config: DispatcherConfig = {}) {
  const proxy = open(await startDelayProxy({ host: '127.0.0.1', port: stack.gateway.port }, 0))
  const connection = { url: proxy.url, token: GATEWAY_TOKEN, timeoutMs: 2000, retries: 0 }
  return { proxy, dispatcher: new Dispatcher(connection, { namespace: stack.freshNamespace(), ...config }) }
}

/** The requests the gateway got while `work` ran, and the connections the proxy accepted since it started. */
async function costOf(proxy: DelayProxy, work: () => Promise<unknown>) {
  const requests = await stack.requestsDuring(work)
  return { requests, connections: proxy.accepted }
}

describe('a REST Dispatcher with a connection open', () => {
  it('sends a dispatch issued as soon as the last one answered on that connection', async () => {
    const { proxy, dispatcher } = await dispatcherThroughProxy()
    // Straight to the gateway, so that Redis holds the script and each dispatch is one EVALSHA.
    await stack.dispatcher().dispatch(note(0), ['nobody'])

    const cost = await costOf(proxy, async () => {
      for (let n = 1; n <= 3; n++) await dispatcher.dispatch(note(n), ['alice'])
    })

    expect(cost).toEqual({ requests: 3, connections: 1 })
  })

  it('sends the EVAL that follows a NOSCRIPT on that connection', async () => {
    const { proxy, dispatcher } = await dispatcherThroughProxy()
    await stack.admin.script('FLUSH')

    const cost = await costOf(proxy, () => dispatcher.dispatch(note(1), ['alice']))

    expect(cost).toEqual({ requests: 2, connections: 1 })
  })

  it('sends each part of a dispatch split by the write budget on that connection', async () => {
    const config = { namespace: stack.freshNamespace(), sync: { enabled: true, maxBytes: 20_000 }, maxWriteBytes: 50_000 }
    const { proxy, dispatcher } = await dispatcherThroughProxy(config)
    // Backlogs of about 18 KB each, written straight to the gateway: two fit in one call's write budget, three do not.
    const filler = stack.dispatcher(config)
    for (const id of ids) await filler.dispatch(note(0, 'x'.repeat(18_000)), [id])

    const cost = await costOf(proxy, () => dispatcher.dispatch(note(1), ids))

    expect(cost).toEqual({ requests: 3, connections: 1 })
  })
})
