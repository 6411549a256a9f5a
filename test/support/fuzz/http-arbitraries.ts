import fc from 'fast-check'
import { type Body, httpBody } from './http-bodies'
import { FRESH_SECONDS, SECRET, TOKEN } from './settings'

// HTTP methods, paths, headers and credentials, gathered into one plan per request.

const method = fc.oneof(
  { weight: 6, arbitrary: fc.constant('POST') },
  { weight: 1, arbitrary: fc.constantFrom('GET', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH') },
)
const path = fc.oneof(
  { weight: 16, arbitrary: fc.constant('/dispatch') },
  { weight: 1, arbitrary: fc.constant('/health') },
  {
    weight: 1,
    arbitrary: fc.constantFrom('/', '/dispatch/', '/Dispatch', '/dispatch?x=1', '/dispatch#top', '//dispatch', '/%64ispatch', '/health/../dispatch'),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^\/[\w\-.~%!$&'()*+,;=:@/]{0,20}$/) },
)

/**
 * Header names the platforms own (Host, framing, hop-by-hop), Miniflare's and Cloudflare's control headers, and the
 * three this app reads, which are generated on their own below.
 */
const RESERVED_HEADER =
  /^(host|content-length|transfer-encoding|connection|keep-alive|upgrade|expect|te|trailer|proxy-.*|mf-.*|cf-.*|authorization|x-mesa-signature|idempotency-key)$/i
const isValidHeader = (name: string, value: string) => {
  try {
    new Headers([[name, value]])
    return true
  } catch {
    return false
  }
}
const headerName = fc
  .oneof(
    fc.constantFrom('content-type', 'Content-Type', 'content-encoding', 'accept-encoding', 'cookie', 'x-forwarded-for', 'origin', 'x-amz-date'),
    fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,16}$/),
  )
  .filter((name) => !RESERVED_HEADER.test(name))
/** What HTTP can carry in a value: tab, visible ASCII and obs-text bytes (Latin-1), as API Gateway and workerd pass them. */
const headerChar = fc
  .oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
    { weight: 1, arbitrary: fc.constant(0x09) },
  )
  .map((code) => String.fromCharCode(code))
const headerText = (constraints: { minLength?: number; maxLength: number }) => fc.string({ ...constraints, unit: headerChar })
const extraHeaders = fc
  .uniqueArray(fc.tuple(headerName, headerText({ maxLength: 40 })), { maxLength: 4, selector: ([name]) => name.toLowerCase() })
  .map((pairs) => pairs.filter(([name, value]) => isValidHeader(name, value)))

/** An Authorization header and whether it carries the dispatch token. */
interface AuthorizationPlan {
  value: string
  valid: boolean
}
const rightBearer = fc
  .tuple(fc.constantFrom('Bearer', 'bearer', 'BEARER', 'bEaReR'), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 2 }))
  .map(([scheme, gap, tail]) => ({ value: `${scheme}${' '.repeat(gap)}${TOKEN}${' '.repeat(tail)}`, valid: true }))
const wrongBearer = fc
  .oneof(
    fc.constantFrom(`Bearer ${TOKEN}x`, `Bearer x${TOKEN}`, `Bearer ${TOKEN.toUpperCase()}`, `Basic ${TOKEN}`, `Bearer\t${TOKEN}`),
    fc.constantFrom(`Bearer ${TOKEN} ${TOKEN}`, `Bearer ${SECRET}`, TOKEN, 'Bearer', 'Bearer ', `Bearer ${TOKEN.slice(0, -1)}`),
    headerText({ minLength: 1, maxLength: 40 }),
  )
  .map((value) => ({ value, valid: false }))
const authorization: fc.Arbitrary<AuthorizationPlan> = fc.oneof({ weight: 3, arbitrary: rightBearer }, { weight: 1, arbitrary: wrongBearer })

/** An X-Mesa-Signature header: a real signature (maybe stale, wrong-keyed, over other bytes, or among decoys) or a literal. */
export type SignaturePlan =
  | { kind: 'signed'; secret: string; skewSeconds: number; tampered: boolean; decoy: 'none' | 'before' | 'after' }
  | { kind: 'literal'; value: string }
const signature: fc.Arbitrary<SignaturePlan> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('signed' as const),
      secret: fc.oneof({ weight: 6, arbitrary: fc.constant(SECRET) }, { weight: 1, arbitrary: fc.constant('fuzz-other-secret-0123456789') }),
      skewSeconds: fc.oneof(
        { weight: 8, arbitrary: fc.integer({ min: -FRESH_SECONDS, max: FRESH_SECONDS }) },
        { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 360, max: 100_000_000 }), fc.boolean()).map(([s, past]) => (past ? -s : s)) },
      ),
      tampered: fc.oneof({ weight: 6, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
      decoy: fc.constantFrom('none', 'none', 'before', 'after'),
    }),
  },
  {
    weight: 1,
    arbitrary: fc
      .oneof(
        headerText({ minLength: 1, maxLength: 60 }),
        fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `keyid=default,t=${Math.floor(Date.now() / 1000)},v2=${hex}`),
        fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `t=${Math.floor(Date.now() / 1000)},v1=${hex}`),
        fc.constantFrom(
          'keyid=default,t=1,v2=00',
          `v2=${'0'.repeat(64)}`,
          `keyid=default,t=${Math.floor(Date.now() / 1000)}`,
          `keyid=default,t=9999999999999,v2=${'a'.repeat(64)}`,
          ',',
        ),
      )
      .map((value) => ({ kind: 'literal' as const, value })),
  },
)

/** The Idempotency-Key header: absent mostly; else short, empty, or around its 252-character limit and the id's 256. */
const idempotencyKey = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: headerText({ minLength: 1, maxLength: 16 }).filter((key) => /^[\x20-\x7e]+$/.test(key)) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ') },
  { weight: 1, arbitrary: fc.constantFrom(251, 252, 253, 256, 257, 300).map((n) => 'k'.repeat(n)) },
)

/** One HTTP request as a plan: everything random, materialized (and signed) only when sent. */
export interface HttpPlan {
  method: string
  path: string
  headers: Array<[string, string]>
  authorization: AuthorizationPlan | undefined
  signature: SignaturePlan | undefined
  idempotencyKey: string | undefined
  body: Body | undefined
  /** Lambda only: deliver the body base64-encoded, as API Gateway does for binary media types. */
  base64: boolean
}
/** Random HTTP requests, mostly POST /dispatch, with every header and credential valid, wrong or absent. */
export const httpPlan: fc.Arbitrary<HttpPlan> = fc.record({
  method,
  path,
  headers: extraHeaders,
  authorization: fc.option(authorization, { nil: undefined, freq: 2 }),
  signature: fc.option(signature, { nil: undefined, freq: 4 }),
  idempotencyKey,
  body: httpBody,
  base64: fc.boolean(),
})
