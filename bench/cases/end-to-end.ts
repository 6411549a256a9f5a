import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import { httpApiEvent, lambdaContext } from '../../test/support/events'
import { DISPATCH_TOKEN, type Handlers, LAMBDA_NAMESPACE, loadHandlers } from '../handlers'
import { withoutAppLogs } from '../quiet'
import { CaseRecorder, type CaseResult } from '../results'
import { pick } from '../settings'
import type { BenchStack } from '../stack'
import { loginTimed } from '../ws-login'

const ONLINE = 'e2e-online'
const ONLINE_SET = `connected_clients_${LAMBDA_NAMESPACE}`

/**
 * Case 5: from the http handler's invocation to the frame at a real Mesa server's WebSocket client (online),
 * and from a client's login (op 2 sent) to the frame Mesa redelivers from what our dispatch stored (offline).
 */
export async function runEndToEnd(stack: BenchStack): Promise<CaseResult> {
  const record = new CaseRecorder('5', 'End to end through a real Mesa 1.5.8 server and WebSocket clients')
  const handlers = await loadHandlers(stack)
  const server = await stack.mesaServer({ namespace: LAMBDA_NAMESPACE, sync: true })
  const online = await loginTimed(server.url, ONLINE)
  await until(async () => (await stack.admin.sismember(ONLINE_SET, ONLINE)) === 1)

  const delivery: number[] = []
  const redelivery: number[] = []
  const ack: number[] = []
  const rounds = pick(300, 20)
  const warmup = pick(20, 2)
  await withoutAppLogs(async () => {
    for (let round = 0; round < warmup + rounds; round++) {
      // Online: invocation → frame.
      const event = eventFor(ONLINE, round)
      const arrived = online.nextMessage()
      const started = performance.now()
      await invoke(handlers, event)
      const frame = await arrived
      if ((frame.frame.d as { n?: number }).n !== round) throw new Error(`online client got ${JSON.stringify(frame.frame)} in round ${round}`)
      if (round >= warmup) delivery.push(frame.at - started)

      // Offline: store through the handler, then log in and wait for Mesa's redelivery (every fifth round: each costs a login).
      if (round % 5 !== 0) continue
      const id = `e2e-away-${round}`
      await invoke(handlers, eventFor(id, round))
      const client = await loginTimed(server.url, id)
      const redelivered = await client.nextMessage()
      if (redelivered.frame.s !== 1 || (redelivered.frame.d as { n?: number }).n !== round) {
        throw new Error(`redelivery to ${id} was ${JSON.stringify(redelivered.frame)}`)
      }
      if (round >= warmup) {
        redelivery.push(redelivered.at - client.loginSentAt)
        ack.push(client.ackAt - client.loginSentAt)
      }
      await client.close()
      // Mesa's SREM follows the close; wait for it so rounds do not overlap.
      await until(async () => (await stack.admin.sismember(ONLINE_SET, id)) === 0)
    }
  })
  await online.close()
  if (server.errors.length > 0) throw new Error(`Mesa reported errors: ${server.errors.map((error) => error.message).join('; ')}`)

  record.samples('online: handler invoked → frame at the client', delivery)
  record.samples('sync redelivery: op 2 sent → redelivered frame at the client', redelivery)
  record.samples('for reference: op 2 sent → op 22 (auth ack) at the client', ack)
  record.note(
    "Online: performance.now() before calling functions/http.ts's handler with a one-dispatch HTTP API v2 event (sync on), to the " +
      "arrival of the op 0 frame at a `ws` client logged in to a real Mesa server: handler → our script via the gateway → Redis PUBLISH → Mesa's subscriber → WebSocket.",
  )
  record.note(
    'Sync redelivery: the handler first stores a message for a client that is offline (untimed); then from the moment the client sends op 2 ' +
      "to the arrival of the redelivered frame (s = 1). This is Mesa's own path (authenticate, HGET, then a setInterval(…, 0) tick per frame); " +
      'our code only decides what is stored, so this measures Mesa, not the Dispatcher.',
  )
  return record.result
}

function eventFor(recipient: string, n: number) {
  const body = JSON.stringify({ message: { d: { n }, t: 'E2E' }, recipients: [recipient] })
  return httpApiEvent({ method: 'POST', path: '/dispatch', headers: { authorization: `Bearer ${DISPATCH_TOKEN}`, 'content-type': 'application/json' }, body })
}

async function invoke(handlers: Handlers, event: ReturnType<typeof eventFor>): Promise<void> {
  const answer = (await handlers.http(event, lambdaContext())) as { statusCode?: number }
  if (answer.statusCode !== 200) throw new Error(`the http handler answered ${answer.statusCode}`)
}

async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`)
    await sleep(2)
  }
}
