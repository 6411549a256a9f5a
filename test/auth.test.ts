import { describe, expect, it, vi } from 'vitest'
import { signRequest } from '../src/client/index'
import { AuthenticationError, ForbiddenError } from '../src/errors'
import type { ApiKey } from '../src/http/api-keys'
import { authorize, createAuthenticator, type SignedParts } from '../src/http/auth'
import { MAX_SIGNATURES } from '../src/limits'

const SECRET = 'auth-test-signing-secret'
const TOKEN = 'auth-test-bearer-token'
const body = new TextEncoder().encode('{"event":"DISCONNECT_CLIENT","recipients":["0"]}')
const now = 1_800_000_000_000
const seconds = Math.floor(now / 1000)

/** A key with every scope, or the scopes given. */
const keyOf = (fields: Partial<ApiKey> & { name?: string }): ApiKey => ({
  name: 'default',
  scopes: ['dispatch', 'presence', 'backlog:read', 'backlog:clear'],
  ...fields,
})
/** The request a test signs, unless it says otherwise. */
const request: SignedParts = { method: 'POST', path: '/dispatch', body }

/** Identifies and verifies, and reports the outcome as data: the key's name, or the refusal. */
async function check(keys: ApiKey[], headers: Record<string, string>, parts: SignedParts = request) {
  const authenticator = createAuthenticator(keys, () => now)
  try {
    const { key } = await authenticator.verify(await authenticator.identify(new Headers(headers)), parts)
    return `accepted as ${key.name}`
  } catch (error) {
    if (error instanceof AuthenticationError) return `refused: ${error.message}`
    throw error
  }
}

/** A signature header for `parts`, made by the key `keyId` with `secret`. */
const signed = async (parts: Partial<SignedParts> & { keyId?: string; secret?: string; timestamp?: number } = {}) => {
  const { keyId = 'default', secret = SECRET, timestamp = seconds, ...rest } = parts
  return { 'x-mesa-signature': await signRequest(secret, { keyId, timestamp, ...request, ...rest }) }
}

describe('bearer tokens', () => {
  it.each([
    ['the exact token', `Bearer ${TOKEN}`, 'accepted as default'],
    ['a lower-case scheme', `bearer ${TOKEN}`, 'accepted as default'],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`, 'refused: the bearer token is missing or wrong'],
    ['the token with a suffix', `Bearer ${TOKEN}x`, 'refused: the bearer token is missing or wrong'],
    ['another scheme', `Basic ${TOKEN}`, 'refused: the bearer token is missing or wrong'],
  ])('answers %s with %s', async (_, authorization, outcome) => {
    expect(await check([keyOf({ token: TOKEN })], { authorization })).toBe(outcome)
  })

  it('names the key whose token it is, among several', async () => {
    const keys = [keyOf({ name: 'notifier', token: 'notifier-token-0001' }), keyOf({ name: 'support', token: 'support-token-00001' })]
    expect([
      await check(keys, { authorization: 'Bearer notifier-token-0001' }),
      await check(keys, { authorization: 'Bearer support-token-00001' }),
      await check(keys, { authorization: 'Bearer someone-elses-token' }),
    ]).toEqual(['accepted as notifier', 'accepted as support', 'refused: the bearer token is missing or wrong'])
  })

  it('refuses a bearer token when the key only signs', async () => {
    expect(await check([keyOf({ signingSecret: SECRET })], { authorization: `Bearer ${SECRET}` })).toBe('refused: the bearer token is missing or wrong')
  })
})

describe('rotating one key', () => {
  const PREVIOUS = 'auth-test-previous-token'

  it.each([
    ['the new token', TOKEN, 'accepted as default'],
    ['the previous token', PREVIOUS, 'accepted as default'],
    ['any third token', 'auth-test-another-token', 'refused: the bearer token is missing or wrong'],
  ])('answers %s with %s while both are configured', async (_, token, outcome) => {
    expect(await check([keyOf({ token: TOKEN, previousToken: PREVIOUS })], { authorization: `Bearer ${token}` })).toBe(outcome)
  })

  it('accepts a request signed with the previous signing secret while the key rotates, and no other', async () => {
    const key = keyOf({ signingSecret: 'the-new-signing-secret', previousSigningSecret: SECRET })
    expect([
      await check([key], await signed()),
      await check([key], await signed({ secret: 'the-new-signing-secret' })),
      await check([key], await signed({ secret: 'a-third-signing-secret' })),
    ]).toEqual(['accepted as default', 'accepted as default', 'refused: the signature does not match the request'])
  })
})

describe('signed requests', () => {
  const keys = [keyOf({ signingSecret: SECRET })]

  it('accepts a fresh signature over the exact method, route, Idempotency-Key and bytes', async () => {
    expect([await check(keys, await signed()), await check(keys, await signed({ idempotencyKey: 'k-1' }), { ...request, idempotencyKey: 'k-1' })]).toEqual([
      'accepted as default',
      'accepted as default',
    ])
  })

  it.each([
    ['5 minutes old', -300, 'accepted as default'],
    ['just over 5 minutes old', -301, 'refused: the signature timestamp is more than 300 seconds from now'],
    ['just over 5 minutes in the future', 301, 'refused: the signature timestamp is more than 300 seconds from now'],
  ])('answers a signature %s with %s', async (_, offset, outcome) => {
    expect(await check(keys, await signed({ timestamp: seconds + offset }))).toBe(outcome)
  })

  it.each<[string, SignedParts]>([
    ['other bytes', { ...request, body: new TextEncoder().encode('{"event":"DISCONNECT_CLIENT","recipients":["1"]}') }],
    ['another route', { ...request, path: '/backlog/clear' }],
    ['another method', { ...request, method: 'PUT' }],
    ['an added Idempotency-Key', { ...request, idempotencyKey: 'added-by-a-replay' }],
  ])('refuses the signature when the request has %s', async (_, tampered) => {
    expect(await check(keys, await signed(), tampered)).toBe('refused: the signature does not match the request')
  })

  it('refuses the signature of a request whose Idempotency-Key was changed or removed', async () => {
    const header = await signed({ idempotencyKey: 'k-1' })
    expect([await check(keys, header, { ...request, idempotencyKey: 'k-2' }), await check(keys, header)]).toEqual([
      'refused: the signature does not match the request',
      'refused: the signature does not match the request',
    ])
  })

  it('says the same about a secret of another key, an unknown key and a key that cannot sign, naming none', async () => {
    const all = [...keys, keyOf({ name: 'tokens-only', token: TOKEN })]
    expect([
      await check(all, await signed({ secret: 'another-secret-entirely' })),
      await check(all, await signed({ keyId: 'nobody' })),
      await check(all, await signed({ keyId: 'tokens-only' })),
    ]).toEqual(Array(3).fill('refused: the signature does not match the request'))
  })

  it('binds the signature to its key: the same secret under another keyid is refused', async () => {
    const two = [keyOf({ name: 'a', signingSecret: SECRET }), keyOf({ name: 'b', signingSecret: 'b-signing-secret-0001' })]
    const header = await signed({ keyId: 'a' })
    expect([await check(two, header), await check(two, { 'x-mesa-signature': header['x-mesa-signature'].replace('keyid=a', 'keyid=b') })]).toEqual([
      'accepted as a',
      'refused: the signature does not match the request',
    ])
  })

  it('accepts any of several v2 signatures, so a sender can sign with an old and a new secret', async () => {
    const stale = (await signed({ secret: 'the-old-signing-secret' }))['x-mesa-signature']
    const fresh = (await signed())['x-mesa-signature'].split(',')[2]
    expect(await check(keys, { 'x-mesa-signature': `${stale},${fresh}` })).toBe('accepted as default')
  })

  /** A header with the valid signature last, after `wrong` entries that match nothing. */
  const amongWrong = async (wrong: number) =>
    `keyid=default,t=${seconds},${Array(wrong)
      .fill(`v2=${'0'.repeat(64)}`)
      .join(',')},${(await signed())['x-mesa-signature'].split(',')[2]}`

  it(`refuses more than ${MAX_SIGNATURES} v2 entries before any HMAC is computed`, async () => {
    const header = await amongWrong(MAX_SIGNATURES)
    const sign = vi.spyOn(crypto.subtle, 'sign')
    try {
      expect({ outcome: await check(keys, { 'x-mesa-signature': header }), signs: sign.mock.calls.length }).toEqual({
        outcome: `refused: the x-mesa-signature header must carry at most ${MAX_SIGNATURES} v2 signatures, got ${MAX_SIGNATURES + 1}`,
        signs: 0,
      })
    } finally {
      sign.mockRestore()
    }
  })

  it(`computes one HMAC per secret of the key for ${MAX_SIGNATURES} entries, and accepts the valid one among them`, async () => {
    const header = await amongWrong(MAX_SIGNATURES - 1)
    const [sign, verify] = [vi.spyOn(crypto.subtle, 'sign'), vi.spyOn(crypto.subtle, 'verify')]
    try {
      expect({ outcome: await check(keys, { 'x-mesa-signature': header }), signs: sign.mock.calls.length, verifies: verify.mock.calls.length }).toEqual({
        outcome: 'accepted as default',
        signs: 1,
        verifies: 0,
      })
    } finally {
      sign.mockRestore()
      verify.mockRestore()
    }
  })

  it('tells which signature matched, in lower case, and nothing for a bearer token', async () => {
    const authenticator = createAuthenticator([keyOf({ token: TOKEN, signingSecret: SECRET })], () => now)
    const [head, hex] = (await signed())['x-mesa-signature'].split(',v2=') as [string, string]
    const verified = async (headers: Record<string, string>) =>
      (await authenticator.verify(await authenticator.identify(new Headers(headers)), request)).signature
    expect([
      await verified({ 'x-mesa-signature': `${head},v2=${'0'.repeat(64)},v2=${hex.toUpperCase()}` }),
      await verified({ authorization: `Bearer ${TOKEN}` }),
    ]).toEqual([hex, undefined])
  })

  it.each([
    'v2=abc',
    `t=${seconds},v2=${'0'.repeat(64)}`,
    `keyid=default,v2=${'0'.repeat(64)}`,
    `keyid=default,t=soon,v2=${'0'.repeat(64)}`,
    `keyid=default,t=${seconds},v2=${'z'.repeat(64)}`,
    `keyid=no:colons,t=${seconds},v2=${'0'.repeat(64)}`,
  ])('refuses the malformed header %j', async (header) => {
    expect(await check(keys, { 'x-mesa-signature': header })).toBe(
      'refused: the x-mesa-signature header must look like keyid=<key name>,t=<unix seconds>,v2=<64 hex digits>',
    )
  })

  it('refuses the v1 format, which signed only the time and the body, and says how to sign now', async () => {
    expect(await check(keys, { 'x-mesa-signature': `t=${seconds},v1=${'0'.repeat(64)}` })).toBe(
      'refused: v1 signatures are no longer accepted: sign the method, route, Idempotency-Key and body as keyid=<key name>,t=<unix seconds>,v2=<64 hex digits>',
    )
  })
})

describe('an endpoint with no keys', () => {
  it('refuses every request, even a correctly signed one', async () => {
    expect([await check([], { authorization: `Bearer ${TOKEN}` }), await check([], await signed()), await check([], {})]).toEqual(
      Array(3).fill('refused: this endpoint has no credentials configured'),
    )
  })
})

describe('scopes', () => {
  it('lets a key call the routes of its scopes, and refuses the others naming the key and the scope', () => {
    const notifier = keyOf({ name: 'notifier', token: TOKEN, scopes: ['dispatch'] })
    const refusal = (scope: Parameters<typeof authorize>[1]) => {
      try {
        authorize(notifier, scope)
        return 'allowed'
      } catch (error) {
        return error instanceof ForbiddenError ? `${error.name}: ${error.message}` : error
      }
    }
    expect(['dispatch', 'presence', 'backlog:read', 'backlog:clear'].map((scope) => refusal(scope as never))).toEqual([
      'allowed',
      'ForbiddenError: key "notifier" lacks the scope presence',
      'ForbiddenError: key "notifier" lacks the scope backlog:read',
      'ForbiddenError: key "notifier" lacks the scope backlog:clear',
    ])
  })
})
