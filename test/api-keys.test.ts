import { describe, expect, it } from 'vitest'
import { readApiKeys } from '../src/http/app-env'
import { ConfigError } from '../src/index'

// DISPATCH_KEYS, read as the functions read it at start: every bad value is refused naming the variable and the key,
// never quoting a secret.
const NOTIFIER = { name: 'notifier', token: 'notifier-token-0123456789', scopes: ['dispatch'] }
const SUPPORT = {
  name: 'support',
  signingSecret: 'support-signing-secret-0123',
  scopes: ['dispatch', 'presence', 'backlog:read', 'backlog:clear'],
  rateLimit: { requests: 60, windowSeconds: 60 },
}

const keysOf = (value: unknown, extra: Record<string, string> = {}) =>
  readApiKeys({ DISPATCH_KEYS: typeof value === 'string' ? value : JSON.stringify(value), ...extra })

function refusalOf(value: unknown, extra: Record<string, string> = {}): { variable: string; message: string } {
  try {
    keysOf(value, extra)
  } catch (error) {
    if (error instanceof ConfigError) return { variable: error.variable, message: error.message }
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('DISPATCH_KEYS', () => {
  it('reads named keys with their scopes and rate limits', () => {
    expect(keysOf([NOTIFIER, SUPPORT])).toEqual([NOTIFIER, SUPPORT])
  })

  it('keeps DISPATCH_TOKEN and DISPATCH_SIGNING_SECRET working beside it, as the key default with every scope', () => {
    expect(keysOf([NOTIFIER], { DISPATCH_TOKEN: 'the-legacy-dispatch-token' })).toEqual([
      { name: 'default', token: 'the-legacy-dispatch-token', scopes: ['dispatch', 'presence', 'backlog:read', 'backlog:clear'] },
      NOTIFIER,
    ])
  })

  it('takes per-key rotation fields: a previous token and a previous signing secret', () => {
    const rotating = { ...SUPPORT, token: 'support-new-token-0001', previousToken: 'support-old-token-0001', previousSigningSecret: 'support-old-secret-0001' }
    expect(keysOf([rotating])).toEqual([rotating])
  })

  it.each<[string, unknown, string]>([
    ['invalid JSON', '[{"name":"notifier","token":"notifier-token-0123456789"', 'DISPATCH_KEYS is not valid JSON'],
    ['an object instead of an array', NOTIFIER, 'DISPATCH_KEYS must be a JSON array of keys, each { "name", "token" or "signingSecret", "scopes" }'],
    ['no key', [], 'DISPATCH_KEYS must hold at least one key'],
    ['an entry that is not an object', [NOTIFIER, 'support'], 'DISPATCH_KEYS [1] must be an object'],
    ['a name outside the pattern', [{ ...NOTIFIER, name: 'bad name' }], 'DISPATCH_KEYS [0].name must be 1-64 characters of A-Z a-z 0-9 _ . -'],
    ['a name too long', [{ ...NOTIFIER, name: 'n'.repeat(65) }], 'DISPATCH_KEYS [0].name must be 1-64 characters of A-Z a-z 0-9 _ . -'],
    ['a missing name', [{ token: NOTIFIER.token, scopes: ['dispatch'] }], 'DISPATCH_KEYS [0].name must be 1-64 characters of A-Z a-z 0-9 _ . -'],
    ['a duplicate name', [NOTIFIER, { ...SUPPORT, name: 'notifier' }], 'DISPATCH_KEYS names the key "notifier" twice'],
    [
      'an unknown field',
      [{ ...NOTIFIER, tokn: 'x' }],
      'DISPATCH_KEYS key "notifier": has an unknown field "tokn" (known: name, token, previousToken, signingSecret, previousSigningSecret, scopes, rateLimit)',
    ],
    [
      'an unknown scope',
      [{ ...NOTIFIER, scopes: ['dispatch', 'backlog:write'] }],
      'DISPATCH_KEYS key "notifier": has an unknown scope "backlog:write" (known: dispatch, presence, backlog:read, backlog:clear)',
    ],
    [
      'empty scopes',
      [{ ...NOTIFIER, scopes: [] }],
      'DISPATCH_KEYS key "notifier": scopes must be a non-empty array of dispatch, presence, backlog:read, backlog:clear',
    ],
    [
      'missing scopes',
      [{ name: 'notifier', token: NOTIFIER.token }],
      'DISPATCH_KEYS key "notifier": scopes must be a non-empty array of dispatch, presence, backlog:read, backlog:clear',
    ],
    ['a scope named twice', [{ ...NOTIFIER, scopes: ['dispatch', 'dispatch'] }], 'DISPATCH_KEYS key "notifier": names the scope dispatch twice'],
    ['no secret', [{ name: 'notifier', scopes: ['dispatch'] }], 'DISPATCH_KEYS key "notifier": needs a token or a signingSecret (or both)'],
    ['a short token', [{ ...NOTIFIER, token: 'short' }], 'DISPATCH_KEYS key "notifier": token must be a string of at least 16 characters'],
    [
      'a token that is not a string',
      [{ ...NOTIFIER, token: 1234567890123456 }],
      'DISPATCH_KEYS key "notifier": token must be a string of at least 16 characters',
    ],
    [
      'a token with a space',
      [{ ...NOTIFIER, token: 'correct horse battery staple' }],
      'DISPATCH_KEYS key "notifier": token must be printable ASCII without spaces',
    ],
    [
      'a signing secret with a non-ASCII letter',
      [{ ...SUPPORT, signingSecret: 'pässwörd-long-enough-0123' }],
      'DISPATCH_KEYS key "support": signingSecret must be printable ASCII without spaces',
    ],
    [
      'a token two keys share',
      [NOTIFIER, { ...SUPPORT, token: NOTIFIER.token }],
      'DISPATCH_KEYS key "support": its token is also key "notifier"\'s; give each key its own',
    ],
    [
      'a previous token without a current one',
      [{ ...SUPPORT, previousToken: 'support-old-token-0001' }],
      'DISPATCH_KEYS key "support": previousToken is accepted only beside token, the token it is being replaced by',
    ],
    [
      'a previous signing secret without a current one',
      [{ ...NOTIFIER, previousSigningSecret: 'support-old-secret-0001' }],
      'DISPATCH_KEYS key "notifier": previousSigningSecret is accepted only beside signingSecret, the secret it is being replaced by',
    ],
    [
      'a rate limit of zero requests',
      [{ ...SUPPORT, rateLimit: { requests: 0, windowSeconds: 60 } }],
      'DISPATCH_KEYS key "support": rateLimit.requests must be an integer from 1 to 1000000000',
    ],
    [
      'a fractional window',
      [{ ...SUPPORT, rateLimit: { requests: 5, windowSeconds: 1.5 } }],
      'DISPATCH_KEYS key "support": rateLimit.windowSeconds must be an integer from 1 to 86400',
    ],
    [
      'an unknown rate-limit field',
      [{ ...SUPPORT, rateLimit: { requests: 5, windowSeconds: 60, burst: 2 } }],
      'DISPATCH_KEYS key "support": rateLimit has an unknown field "burst" (known: requests, windowSeconds)',
    ],
    ['a rate limit that is a number', [{ ...SUPPORT, rateLimit: 5 }], 'DISPATCH_KEYS key "support": rateLimit must be { "requests": N, "windowSeconds": S }'],
  ])('refuses %s, naming the variable and the key', (_, value, message) => {
    expect(refusalOf(value)).toEqual({ variable: 'DISPATCH_KEYS', message })
  })

  it('refuses a key named default beside DISPATCH_TOKEN, which already makes that key', () => {
    expect(refusalOf([{ ...NOTIFIER, name: 'default' }], { DISPATCH_TOKEN: 'the-legacy-dispatch-token' })).toEqual({
      variable: 'DISPATCH_KEYS',
      message: 'DISPATCH_KEYS names a key "default", which DISPATCH_TOKEN or DISPATCH_SIGNING_SECRET already makes: rename it, or move those secrets into it',
    })
  })

  it('refuses a DISPATCH_KEYS token equal to DISPATCH_TOKEN', () => {
    expect(refusalOf([NOTIFIER], { DISPATCH_TOKEN: NOTIFIER.token })).toEqual({
      variable: 'DISPATCH_KEYS',
      message: 'DISPATCH_KEYS key "notifier": its token is also key "default"\'s; give each key its own',
    })
  })

  it('never quotes a secret, even from invalid JSON or a bad secret', () => {
    const secret = 'very-secret-token-value-9876'
    const messages = [
      refusalOf(`[{"name":"notifier","token":"${secret}",}]`),
      refusalOf([{ ...NOTIFIER, token: `${secret} with space` }]),
      refusalOf([
        { ...NOTIFIER, token: secret },
        { ...SUPPORT, token: secret },
      ]),
    ].map((refusal) => refusal.message)
    expect(messages.filter((message) => message.includes(secret))).toEqual([])
  })
})
