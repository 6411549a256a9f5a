import { describe, expect, it } from 'vitest'
import { DispatchEvent, Message, type MessageOptions, type Recipient } from '../src/index'
import { recordChannel } from './support/channel-recorder'
import { useCleanup } from './support/cleanup'
import * as mesa from './support/mesa-dispatcher'
import { TRANSPORTS, type Transport, useStack } from './support/stack'

// Differential proof: for the same inputs and the same online set, our Dispatcher and Mesa 1.5.8's own
// Dispatcher leave exactly the same bytes on the channel and in the undelivered-messages hash.
const stack = useStack()
const open = useCleanup()

interface Case {
  sync: boolean
  online?: string[]
  /** Arrays already stored before the dispatch, keyed by client id, as raw JSON. */
  stored?: Record<string, string>
  event: { op: number; d: unknown; t?: string; o?: MessageOptions } | 'DISCONNECT_CLIENT'
  recipients?: Recipient[]
  excluding?: Recipient[]
}

/** Runs one case through one Dispatcher in its own namespace and returns what Redis saw. */
async function observe(kind: Transport | 'mesa', input: Case) {
  const namespace = stack.freshNamespace()
  const config = { namespace, sync: { enabled: input.sync } }
  if (input.online?.length) await stack.admin.sadd(`connected_clients_${namespace}`, ...input.online)
  for (const [id, json] of Object.entries(input.stored ?? {})) await stack.admin.hset(`undelivered_messages_${namespace}`, id, json)
  const recorder = open(await recordChannel(stack.redis.url, `ws_${namespace}`))
  const { event, recipients, excluding } = input
  if (kind !== 'mesa') {
    const built = event === 'DISCONNECT_CLIENT' ? new DispatchEvent(event) : new Message(event.op, event.d, event.t, event.o)
    await stack.dispatcher(config, kind).dispatch(built, recipients, excluding)
  } else {
    const sender = open(mesa.createMesaDispatcher(stack.redis.url, config))
    const built = event === 'DISCONNECT_CLIENT' ? new mesa.DispatchEvent(event) : new mesa.Message(event.op, event.d as object, event.t, event.o as never)
    sender.dispatcher.dispatch(built, recipients as string[], excluding as string[])
    await sender.settle()
    expect(sender.errors).toEqual([])
  }
  return { published: await recorder.waitFor(1), stored: await stack.admin.hgetall(`undelivered_messages_${namespace}`) }
}

const cases: Record<string, Case> = {
  'a targeted dispatch with sync off': { sync: false, event: { op: 0, d: { status: 'online' }, t: 'STATUS_UPDATE' }, recipients: ['0', '1'] },
  "'*' with sync off": { sync: false, event: { op: 0, d: { alert: true }, t: 'GLOBAL_ALERT' }, recipients: ['*'] },
  'omitted recipients': { sync: true, event: { op: 0, d: 1, t: 'T' } },
  'excluding with sync off': { sync: false, event: { op: 0, d: [], t: 'T' }, recipients: ['a', 'b', 'c'], excluding: ['b'] },
  "excluding next to '*'": { sync: true, online: ['a'], event: { op: 0, d: {}, t: 'T' }, recipients: ['*', 'a', 'z'], excluding: ['a'] },
  "excluding '*' itself": { sync: false, event: { op: 0, d: {}, t: 'T' }, recipients: ['*', 'a'], excluding: ['*'] },
  'online and offline recipients with sync on': {
    sync: true,
    online: ['a', 'c'],
    event: { op: 0, d: { n: 1 }, t: 'T' },
    recipients: ['a', 'b', 'c', 'd'],
  },
  'numeric recipients, online and offline': { sync: true, online: ['7'], event: { op: 0, d: 0, t: 'T' }, recipients: [7, 9, '7'] },
  'blank recipients, never stored': { sync: true, event: { op: 0, d: 0, t: 'T' }, recipients: ['', '  ', 'x'] },
  'options without sync': { sync: true, event: { op: 0, d: 0, t: 'T', o: {} }, recipients: ['x'] },
  'sync: false': { sync: true, online: ['a'], event: { op: 0, d: 0, t: 'T', o: { sync: false } }, recipients: ['a', 'x'] },
  'no type': { sync: true, event: { op: 3, d: { a: 1 } }, recipients: ['x'] },
  'DISCONNECT_CLIENT with sync on': { sync: true, event: 'DISCONNECT_CLIENT', recipients: ['online-or-not', 'x'] },
  'an existing stored array': {
    sync: true,
    stored: { x: '[{"op":0,"d":{"f":0.30000000000000004,"e":[]},"t":"OLD"}]' },
    event: { op: 0, d: { f: 1e-7, o: {} }, t: 'NEW' },
    recipients: ['x'],
  },
  'ids that JSON must escape, online and offline': {
    sync: true,
    online: ['qu"ote', 'emoji 😀'],
    event: { op: 0, d: 1, t: 'T' },
    recipients: ['qu"ote', 'back\\slash', 'tab\tid', 'emoji 😀', 'e\u0301', '\u2028', 'plain', 7, '\t'],
  },
  "'*' among escaped ids": { sync: true, event: { op: 0, d: 1, t: 'T' }, recipients: ['a"b', '*', 'c\\d'] },
  'tricky data': { sync: true, event: { op: 0, d: { s: '😀\u2028"\\\u0000', n: null, big: 1e21, neg: -0 }, t: 'T' }, recipients: ['x', 'y'] },
}

describe.each(TRANSPORTS)("our Dispatcher over %s writes exactly what Mesa's own Dispatcher writes", (transport) => {
  it.each(Object.entries(cases))('for %s', async (_, input) => {
    expect(await observe(transport, input)).toEqual(await observe('mesa', input))
  })

  it('stores once for a recipient named twice, where Mesa would store twice (a deliberate difference)', async () => {
    const input: Case = { sync: true, event: { op: 0, d: 1, t: 'T' }, recipients: ['x', 'x'] }
    const [ours, theirs] = [await observe(transport, input), await observe('mesa', input)]
    expect({ ours, theirs }).toEqual({
      ours: { published: ['{"message":{"op":0,"d":1,"t":"T"},"recipients":[]}'], stored: { x: '[{"op":0,"d":1,"t":"T"}]' } },
      theirs: { published: ['{"message":{"op":0,"d":1,"t":"T"},"recipients":[]}'], stored: { x: '[{"op":0,"d":1,"t":"T"},{"op":0,"d":1,"t":"T"}]' } },
    })
  })
})
