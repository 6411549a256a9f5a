import { describe, expect, it, vi } from 'vitest'
import { signBody } from '../src/client/index'
import type { AuthSecrets } from '../src/config'
import { AuthenticationError } from '../src/errors'
import { createAuthenticator } from '../src/http/auth'
import { MAX_SIGNATURES } from '../src/limits'

const SECRET = 'auth-test-signing-secret'
const TOKEN = 'auth-test-bearer-token'
const body = new TextEncoder().encode('{"event":"DISCONNECT_CLIENT","recipients":["0"]}')
const now = 1_800_000_000_000
const seconds = Math.floor(now / 1000)

/** Runs both checks and reports the outcome as data. */
async function check(secrets: AuthSecrets, headers: Record<string, string>, signedBody = body) {
  const authenticator = createAuthenticator(secrets, () => now)
  try {
    await authenticator.verify(await authenticator.precheck(new Headers(headers)), signedBody)
    return 'accepted'
  } catch (error) {
    if (error instanceof AuthenticationError) return `refused: ${error.message}`
    throw error
  }
}

describe('bearer tokens', () => {
  it.each([
    ['the exact token', `Bearer ${TOKEN}`, 'accepted'],
    ['a lower-case scheme', `bearer ${TOKEN}`, 'accepted'],
    ['a prefix of the token', `Bearer ${TOKEN.slice(0, -1)}`, 'refused: the bearer token is missing or wrong'],
    ['the token with a suffix', `Bearer ${TOKEN}x`, 'refused: the bearer token is missing or wrong'],
    ['another scheme', `Basic ${TOKEN}`, 'refused: the bearer token is missing or wrong'],
  ])('answers %s with %s', async (_, authorization, outcome) => {
    expect(await check({ token: TOKEN }, { authorization })).toBe(outcome)
  })

  it('refuses a bearer token when only signing is configured', async () => {
    expect(await check({ signingSecret: SECRET }, { authorization: `Bearer ${SECRET}` })).toBe('refused: the bearer token is missing or wrong')
  })
})

describe('rotating the bearer token', () => {
  const PREVIOUS = 'auth-test-previous-token'

  it.each([
    ['the new token', TOKEN, 'accepted'],
    ['the previous token', PREVIOUS, 'accepted'],
    ['any third token', 'auth-test-another-token', 'refused: the bearer token is missing or wrong'],
  ])('answers %s with %s while both are configured', async (_, token, outcome) => {
    expect(await check({ token: TOKEN, previousToken: PREVIOUS }, { authorization: `Bearer ${token}` })).toBe(outcome)
  })

  it('never accepts a previous token without a current one', async () => {
    expect(await check({ previousToken: PREVIOUS }, { authorization: `Bearer ${PREVIOUS}` })).toBe('refused: this endpoint has no credentials configured')
  })
})

describe('signed webhooks', () => {
  const signed = async (timestamp = seconds, secret = SECRET) => ({ 'x-mesa-signature': await signBody(secret, body, timestamp) })

  it('accepts a fresh signature over the exact bytes', async () => {
    expect(await check({ signingSecret: SECRET }, await signed())).toBe('accepted')
  })

  it.each([
    ['5 minutes old', -300, 'accepted'],
    ['just over 5 minutes old', -301, 'refused: the signature timestamp is more than 300 seconds from now'],
    ['just over 5 minutes in the future', 301, 'refused: the signature timestamp is more than 300 seconds from now'],
  ])('answers a signature %s with %s', async (_, offset, outcome) => {
    expect(await check({ signingSecret: SECRET }, await signed(seconds + offset))).toBe(outcome)
  })

  it('refuses a signature made with another secret, or over other bytes', async () => {
    expect([
      await check({ signingSecret: SECRET }, await signed(seconds, 'another-secret-entirely')),
      await check({ signingSecret: SECRET }, await signed(), new TextEncoder().encode('{"event":"DISCONNECT_CLIENT","recipients":["1"]}')),
    ]).toEqual(['refused: the signature does not match the body', 'refused: the signature does not match the body'])
  })

  it('accepts any of several v1 signatures, so a sender can rotate secrets', async () => {
    const stale = (await signed(seconds, 'the-old-signing-secret'))['x-mesa-signature']
    const fresh = (await signed())['x-mesa-signature'].split(',')[1]
    expect(await check({ signingSecret: SECRET }, { 'x-mesa-signature': `${stale},${fresh}` })).toBe('accepted')
  })

  it('accepts a header signed with the old and the new secret both before and after the server switches secrets', async () => {
    const OLD = 'the-old-signing-secret'
    const both = `${(await signed(seconds, OLD))['x-mesa-signature']},${(await signed())['x-mesa-signature'].split(',')[1]}`
    expect([await check({ signingSecret: OLD }, { 'x-mesa-signature': both }), await check({ signingSecret: SECRET }, { 'x-mesa-signature': both })]).toEqual([
      'accepted',
      'accepted',
    ])
  })

  /** A header with the valid signature last, after `wrong` entries that match nothing. */
  const amongWrong = async (wrong: number) =>
    `t=${seconds},${Array(wrong)
      .fill(`v1=${'0'.repeat(64)}`)
      .join(',')},${(await signed())['x-mesa-signature'].split(',')[1]}`

  it(`refuses more than ${MAX_SIGNATURES} v1 entries before any HMAC is computed`, async () => {
    const header = await amongWrong(MAX_SIGNATURES)
    const sign = vi.spyOn(crypto.subtle, 'sign')
    try {
      expect({ outcome: await check({ signingSecret: SECRET }, { 'x-mesa-signature': header }), signs: sign.mock.calls.length }).toEqual({
        outcome: `refused: the x-mesa-signature header must carry at most ${MAX_SIGNATURES} v1 signatures, got ${MAX_SIGNATURES + 1}`,
        signs: 0,
      })
    } finally {
      sign.mockRestore()
    }
  })

  it(`computes the body's HMAC once for ${MAX_SIGNATURES} entries, and accepts the valid one among them`, async () => {
    const header = await amongWrong(MAX_SIGNATURES - 1)
    const [sign, verify] = [vi.spyOn(crypto.subtle, 'sign'), vi.spyOn(crypto.subtle, 'verify')]
    try {
      expect({
        outcome: await check({ signingSecret: SECRET }, { 'x-mesa-signature': header }),
        signs: sign.mock.calls.length,
        verifies: verify.mock.calls.length,
      }).toEqual({ outcome: 'accepted', signs: 1, verifies: 0 })
    } finally {
      sign.mockRestore()
      verify.mockRestore()
    }
  })

  it('tells which signature matched, in lower case, and nothing for a bearer token', async () => {
    const authenticator = createAuthenticator({ token: TOKEN, signingSecret: SECRET }, () => now)
    const [timestamp, hex] = (await signBody(SECRET, body, seconds)).split(',v1=') as [string, string]
    const verified = async (headers: Record<string, string>) => authenticator.verify(await authenticator.precheck(new Headers(headers)), body)
    expect([
      await verified({ 'x-mesa-signature': `${timestamp},v1=${'0'.repeat(64)},v1=${hex.toUpperCase()}` }),
      await verified({ authorization: `Bearer ${TOKEN}` }),
    ]).toEqual([{ signature: hex }, undefined])
  })

  it.each(['v1=abc', `t=${seconds}`, `t=soon,v1=${'0'.repeat(64)}`, `t=${seconds},v1=${'z'.repeat(64)}`])('refuses the malformed header %j', async (header) => {
    expect(await check({ signingSecret: SECRET }, { 'x-mesa-signature': header })).toBe(
      'refused: the x-mesa-signature header must look like t=<unix seconds>,v1=<64 hex digits>',
    )
  })

  it('refuses signatures when only a bearer token is configured', async () => {
    expect(await check({ token: TOKEN }, await signed())).toBe('refused: signed requests are not accepted by this endpoint')
  })
})

describe('an endpoint with no secrets', () => {
  it('refuses every request, even a correctly signed one', async () => {
    expect([await check({}, { authorization: `Bearer ${TOKEN}` }), await check({}, {})]).toEqual([
      'refused: this endpoint has no credentials configured',
      'refused: this endpoint has no credentials configured',
    ])
  })
})
