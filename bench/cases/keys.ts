import { createApp } from '../../src/http/app'
import { silentLogger } from '../../src/observe/logger'
import { signRequest } from '../../src/signature'
import { alternateRedisTime } from '../redis-stats'
import { CaseRecorder, type CaseResult } from '../results'
import { interleave } from '../rounds'
import { pick } from '../settings'
import type { BenchStack } from '../stack'

const MAX_REDIS_RATIO = 1.05
const TOKEN = 'bench-single-bearer-token'
const KEY_TOKEN = 'bench-named-key-token-0001'
const KEY_SECRET = 'bench-named-key-secret-0001'

/**
 * Case 10: what named keys cost one dispatch to one recipient. The same request through the app with a single bearer
 * token (the key `default`, no limit) and with a named key whose rate limit the script counts in the same call:
 * Redis's own time per call, requests per dispatch, and the app's time end to end, bearer and signed.
 */
export async function runKeys(stack: BenchStack): Promise<CaseResult> {
  const record = new CaseRecorder('10', 'Named keys and rate limits: one recipient, against a single bearer token')
  const rounds = pick(1000, 50)
  const sync = { off: 'sync off', on: 'sync on, the recipient offline' } as const
  for (const [mode, enabled] of [
    [sync.off, false],
    [sync.on, true],
  ] as const) {
    const namespace = `keys${enabled ? 'sync' : ''}`
    const dispatcher = stack.dispatcher({ namespace, sync: { enabled, maxMessages: 10 } })
    const single = createApp({ dispatcher, auth: { token: TOKEN }, logger: silentLogger })
    const keyed = createApp({
      dispatcher,
      keys: [{ name: 'bench', token: KEY_TOKEN, signingSecret: KEY_SECRET, scopes: ['dispatch'], rateLimit: { requests: 1_000_000_000, windowSeconds: 60 } }],
      logger: silentLogger,
    })
    const body = JSON.stringify({ message: { d: { content: 'hello from the benchmark', n: 1 }, t: 'NEW_MESSAGE' }, recipients: ['user-1'] })
    const request = (token: string) => new Request('https://bench.example/dispatch', { method: 'POST', headers: { authorization: `Bearer ${token}` }, body })
    const signed = async () =>
      new Request('https://bench.example/dispatch', {
        method: 'POST',
        headers: { 'x-mesa-signature': await signRequest(KEY_SECRET, { keyId: 'bench', method: 'POST', path: '/dispatch', body }) },
        body,
      })
    const send = async (app: typeof single, made: Request | Promise<Request>) => {
      const response = await app.fetch(await made)
      if (response.status !== 200) throw new Error(`bench: ${mode} answered ${response.status}: ${await response.text()}`)
    }
    // Each signed request differs by its time only; the same second signs the same bytes, which the endpoint
    // would answer as a replay, so each carries a fresh Idempotency-Key of its own.
    const names = { single: `${mode}: single bearer token`, keyed: `${mode}: named key, rate-limited`, signed: `${mode}: named key, signed` }
    const samples = await interleave(
      [
        { name: names.single, run: () => send(single, request(TOKEN)) },
        { name: names.keyed, run: () => send(keyed, request(KEY_TOKEN)) },
        { name: names.signed, run: () => send(keyed, signed()) },
      ],
      { rounds, warmup: pick(100, 10) },
    )
    for (const [name, values] of Object.entries(samples)) record.samples(name, values, 'ms', 'the app’s fetch, in this process, to the gateway and back')
    record.compare(`${mode}: named key / single token, end to end`, names.keyed, samples[names.keyed]!, names.single, samples[names.single]!)
    record.compare(`${mode}: signed / single token, end to end`, names.signed, samples[names.signed]!, names.single, samples[names.single]!)

    // Redis's own time per call, the two variants alternating in short blocks: paired block by block.
    const blocks = await alternateRedisTime(
      stack.admin,
      { single: () => send(single, request(TOKEN)), keyed: () => send(keyed, request(KEY_TOKEN)) },
      { blocks: pick(40, 4), callsPerBlock: 50 },
    )
    const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)]!
    const paired = median(blocks.keyed!.map((each, i) => each / blocks.single![i]!))
    const [a, b] = [median(blocks.keyed!), median(blocks.single!)]
    const how = `EVALSHA from INFO commandstats, median of ${blocks.single!.length} alternating blocks of 50`
    record.value(`${mode}: Redis time per dispatch, single token`, b, 'µs', how)
    record.value(`${mode}: Redis time per dispatch, named key with its rate limit`, a, 'µs', how)
    record.target(
      `${mode}: Redis time, named key / single token`,
      `<= ${MAX_REDIS_RATIO}x`,
      `${paired.toFixed(3)}x paired block by block (medians ${a} µs against ${b} µs)`,
      paired <= MAX_REDIS_RATIO,
    )

    const requests = async (app: typeof single, token: string) => {
      const before = stack.gateway.requests
      await send(app, request(token))
      return stack.gateway.requests - before
    }
    const [singleRequests, keyedRequests] = [await requests(single, TOKEN), await requests(keyed, KEY_TOKEN)]
    record.target(
      `${mode}: gateway requests per dispatch, named key / single token`,
      'unchanged',
      `${keyedRequests} against ${singleRequests}`,
      keyedRequests === singleRequests,
    )
  }
  record.note(
    'The rate limit is a fixed window counted by one INCRBY in the dispatch script itself (EXPIREAT once per window), ' +
      'so it adds no request; the bearer token is one SHA-256 and the signature one SHA-256 and one HMAC, in the app, not in Redis.',
  )
  return record.result
}
