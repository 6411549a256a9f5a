import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type EdgeWorker, startEdgeWorker } from './support/edge-worker'
import { type Door, EDGE_DOOR, edgeDoor, type LambdaHttpHandler, lambdaDoorNames, lambdaDoors } from './support/fuzz/doors'
import { useFuzzStack } from './support/fuzz/harness'
import { type HttpPlan, httpPlan } from './support/fuzz/http-arbitraries'
import { prepareHttp } from './support/fuzz/http-requests'
import type { HttpVerdict } from './support/fuzz/oracle'
import { MAX_BODY_BYTES, RUNS } from './support/fuzz/settings'

// Property tests of the HTTP entry points (the Lambda adapter in its three event shapes, and the edge worker in
// workerd) against the real stack: whatever comes in, no 5xx, no unhandled rejection, no publish the oracle forbids.
const fuzz = useFuzzStack()
let edge: EdgeWorker | undefined
const doors: Door[] = []

beforeAll(async () => {
  // useFuzzStack has set process.env by now, which the function reads when it is first imported.
  const { handler } = (await import('../functions/http')) as unknown as { handler: LambdaHttpHandler }
  edge = await startEdgeWorker(fuzz.env)
  doors.push(...lambdaDoors(handler), edgeDoor(edge))
})
afterAll(async () => {
  await edge?.close()
})

/** Checks one HTTP answer against the oracle; returns the verdict so that the property can count both sides. */
async function checkHttp(door: Door, plan: HttpPlan): Promise<HttpVerdict> {
  const { request, verdict } = await prepareHttp(plan, door)
  // Each request starts with no id claimed: fast-check repeats values across runs.
  await fuzz.forgetIds()
  const mark = fuzz.recorder.messages.length
  const reply = await door.send(request)
  const published = await fuzz.publishedSince(mark)
  const context = `${door.name}: ${request.method} ${request.path} -> ${reply.status} ${reply.contentType ?? '(no content-type)'} ${reply.text.slice(0, 300)}`

  expect(reply.status, context).toBeLessThan(500)
  // HEAD answers may carry no body; every other answer is the app's JSON, `ok` exactly when it is a 200.
  if (request.method !== 'HEAD' || reply.text !== '') {
    expect(reply.contentType, context).toMatch(/^application\/json/)
    expect(JSON.parse(reply.text), context).toHaveProperty('ok', reply.status === 200)
  }
  if (verdict === 'refused' || verdict === 'another route') expect(published, `${context}\npublished for a ${verdict} request`).toEqual([])
  if (verdict === 'refused') expect(reply.status, context).toBeGreaterThanOrEqual(400)
  // The converse keeps the oracle honest: what it calls valid and authenticated is accepted.
  if (verdict === 'accepted') expect(reply.status, context).toBe(200)
  return verdict
}

/**
 * Local workerd resets the connection when a Worker answers without reading a request body of a few KB or more
 * (cloudflare/workerd#1741, cloudflare/workers-sdk#15709; draining is the only cure, cancelling is not), so a
 * dispatchFetch of a 401/404/413 with such a body fails with ECONNRESET in about half the tries. That is the local
 * runtime, not the Worker: the edge gets bodies up to a little past the limit, the Lambda doors get them all.
 */
const EDGE_BODY_CAP = MAX_BODY_BYTES + 512
const edgeSizedPlan = httpPlan.filter((plan) => (plan.body?.bytes.length ?? 0) <= EDGE_BODY_CAP)

describe('fuzzing the HTTP entry points', () => {
  it('never answers 5xx, non-JSON or a publish for a refused request through the Lambda adapter', () =>
    fuzz.assertProperty(RUNS.lambda, ['accepted', 'refused'], (seen) =>
      fc.asyncProperty(fc.constantFrom(...lambdaDoorNames), httpPlan, async (name, plan) => {
        seen.add(await checkHttp(doors.find((door) => door.name === name)!, plan))
      }),
    ))

  it('never answers 5xx, non-JSON or a publish for a refused request through the edge worker', () =>
    fuzz.assertProperty(RUNS.edge, ['accepted', 'refused'], (seen) =>
      fc.asyncProperty(edgeSizedPlan, async (plan) => {
        seen.add(await checkHttp(doors.find((door) => door.name === EDGE_DOOR)!, plan))
      }),
    ))
})
