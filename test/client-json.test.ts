import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDispatchClient, type DispatchClient, ValidationError } from '../src/client/index'
import { ENDPOINT_SECRET, ENDPOINT_TOKEN, type ServedEndpoint, serveEndpoint } from './support/dispatch-endpoint'
import { useStack } from './support/stack'

// A body that cannot be JSON is the caller's mistake: the client names its field, as the Dispatcher does, and sends
// nothing. The real HTTP app counts what reaches it.
const stack = useStack()
let endpoint: ServedEndpoint

beforeAll(async () => {
  endpoint = await serveEndpoint(stack.dispatcher({ namespace: stack.freshNamespace() }))
})
afterAll(() => endpoint.close())

const clients = (): DispatchClient[] => [
  createDispatchClient({ endpoint: endpoint.url, token: ENDPOINT_TOKEN }),
  createDispatchClient({ endpoint: endpoint.url, secret: ENDPOINT_SECRET }),
]
const cyclic = (): Record<string, unknown> => {
  const data: Record<string, unknown> = { n: 1 }
  data.self = data
  return data
}
const fine = { message: { d: { n: 0 }, t: 'NOTE' }, recipients: ['nobody'] }
const BIGINT = 'cannot be serialized as JSON: Do not know how to serialize a BigInt'
const CYCLE =
  "cannot be serialized as JSON: Converting circular structure to JSON\n    --> starting at object with constructor 'Object'\n    --- property 'self' closes the circle"

/** The ValidationError a call rejected with, as everything a caller can branch on. */
async function refusalOf(call: Promise<unknown>) {
  const error = await call.then(
    () => undefined,
    (reason: unknown) => reason,
  )
  if (!(error instanceof ValidationError)) throw new Error(`expected a ValidationError, got ${String(error)}`)
  return { name: error.name, field: error.field, problem: error.problem, message: error.message }
}

describe('createDispatchClient given a body that cannot be JSON', () => {
  it('rejects a BigInt or a cycle in d with a ValidationError naming message.d, and sends no request', async () => {
    const before = endpoint.requests
    const refusals = []
    for (const client of clients()) {
      refusals.push(await refusalOf(client.dispatch({ message: { d: { n: 10n }, t: 'NOTE' }, recipients: ['0'] })))
      refusals.push(await refusalOf(client.dispatch({ message: { d: cyclic() }, recipients: ['0'] })))
    }

    // Once for the token client, once for the signing one.
    const expected = [
      { name: 'ValidationError', field: 'message.d', problem: BIGINT, message: `message.d ${BIGINT}` },
      { name: 'ValidationError', field: 'message.d', problem: CYCLE, message: `message.d ${CYCLE}` },
    ]
    expect({ refusals, requests: endpoint.requests - before }).toEqual({ refusals: [...expected, ...expected], requests: 0 })
  })

  it('names the batch item, dispatches[i].message.d, and sends none of the batch', async () => {
    const before = endpoint.requests
    const [client] = clients()

    const bigint = await refusalOf(client!.dispatchBatch([fine, { message: { d: [1n] }, recipients: ['0'] }]))
    const cycle = await refusalOf(client!.dispatchBatch([{ message: { d: cyclic() } }, fine]))

    expect({ fields: [bigint.field, cycle.field], requests: endpoint.requests - before }).toEqual({
      fields: ['dispatches[1].message.d', 'dispatches[0].message.d'],
      requests: 0,
    })
  })

  it('names any other field of the body the same way, e.g. a BigInt recipient', async () => {
    const [client] = clients()
    expect(await refusalOf(client!.disconnect(['0', 1n as unknown as string]))).toEqual({
      name: 'ValidationError',
      field: 'recipients[1]',
      problem: BIGINT,
      message: `recipients[1] ${BIGINT}`,
    })
  })

  it('still sends a body that is JSON, which the count of requests sees', async () => {
    const before = endpoint.requests
    const [client] = clients()
    expect((await client!.dispatch(fine)).recipients).toEqual(['nobody'])
    expect(endpoint.requests - before).toBe(1)
  })
})
