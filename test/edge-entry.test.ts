import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GATEWAY_TOKEN, useStack } from './support/stack'

// functions/edge.ts's own choice of config: bindings when the runtime passes them, else process.env (Bun, Deno,
// Vercel Edge). The bundle itself runs in workerd in edge.test.ts; this runs the entry in Node, where process exists.
const stack = useStack()
const TOKEN = 'edge-entry-dispatch-token'
let edge: { fetch(request: Request, env?: Record<string, unknown>): Promise<Response> }
const saved = { ...process.env }

beforeAll(async () => {
  Object.assign(process.env, { UPSTASH_REDIS_REST_URL: stack.gateway.url, UPSTASH_REDIS_REST_TOKEN: GATEWAY_TOKEN, DISPATCH_TOKEN: TOKEN })
  edge = (await import('../functions/edge')).default
})
afterAll(() => {
  process.env = saved
})

const dispatch = () =>
  new Request('https://edge.example.com/dispatch', {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify({ event: 'DISCONNECT_CLIENT', recipients: ['nobody'] }),
  })

describe('the edge entry', () => {
  it('reads process.env when the runtime passes no bindings, or an empty object', async () => {
    const statuses = [(await edge.fetch(dispatch())).status, (await edge.fetch(dispatch(), {})).status]
    expect(statuses).toEqual([200, 200])
  })

  it('prefers the bindings it is given, so one isolate can serve what its env says', async () => {
    const response = await edge.fetch(dispatch(), {
      UPSTASH_REDIS_REST_URL: stack.gateway.url,
      UPSTASH_REDIS_REST_TOKEN: GATEWAY_TOKEN,
      DISPATCH_TOKEN: 'another-token-from-bindings',
    })
    expect(response.status).toBe(401)
  })
})
