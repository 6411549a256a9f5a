import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readDispatcherEnv } from '../src/config'
import { createMesaKeys } from '../src/core/keys'
import { readAppEnv } from '../src/http/app-env'
import { ConfigError, Dispatcher } from '../src/index'
import { ROOT } from './support/serverless-cli'

const required = { UPSTASH_REDIS_REST_URL: 'https://example.upstash.io', UPSTASH_REDIS_REST_TOKEN: 'secret-token' }
const TUNING = [
  'DEDUPE_TTL_SECONDS',
  'MAX_RECIPIENTS',
  'REDIS_TIMEOUT_MS',
  'REDIS_RETRIES',
  'MESA_SYNC_MAX_MESSAGES',
  'MESA_SYNC_MAX_BYTES',
  'MESA_SYNC_MAX_AGE_SECONDS',
  'MAX_WRITE_BYTES',
  'MAX_REQUEST_BYTES',
  'MAX_BACKLOG_PAGE_BYTES',
  'MAX_BACKLOG_READ_BYTES',
  'UPSTASH_SCRIPT_KEY_LOCKING',
]

function configErrorOf(build: () => unknown): { name: string; variable: string; message: string } {
  try {
    build()
  } catch (error) {
    if (error instanceof ConfigError) return { name: error.name, variable: error.variable, message: error.message }
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('readDispatcherEnv', () => {
  it('applies the documented defaults', () => {
    expect(readDispatcherEnv(required)).toEqual({
      connection: { url: 'https://example.upstash.io', token: 'secret-token', timeoutMs: 5000, retries: 2 },
      config: {
        sync: { enabled: false, maxMessages: 1000, maxBytes: 262_144, maxAgeSeconds: 2_592_000 },
        dedupeTtlSeconds: 86_400,
        maxRecipients: 10_000,
        maxWriteBytes: 1_048_576,
        maxRequestBytes: 4_194_304,
        maxBacklogPageBytes: 1_048_576,
        maxBacklogReadBytes: 8_388_608,
      },
    })
  })

  it('applies the defaults for tuning variables left empty, as serverless.yml passes them when unset', () => {
    const empty = Object.fromEntries(TUNING.map((name) => [name, '']))
    expect(readDispatcherEnv({ ...required, ...empty })).toEqual(readDispatcherEnv(required))
    expect(readAppEnv({ ...required, ...empty, MAX_BODY_BYTES: '', MAX_BATCH: '' })).toEqual(readAppEnv(required))
  })

  it("states in docs/configuration.md's table of the functions' settings the defaults it applies", () => {
    const page = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8')
    const table = page.slice(page.indexOf('## Settings the functions read'), page.indexOf('\n## ', page.indexOf('## Settings the functions read')))
    const stated = Object.fromEntries([...table.matchAll(/^\| `([A-Z_]+)` \| `(\d+)`/gm)].map(([, name, value]) => [name, Number(value)]))
    const { connection, config, maxBodyBytes, maxBatch } = readAppEnv(required)
    expect(stated).toEqual({
      DEDUPE_TTL_SECONDS: config.dedupeTtlSeconds,
      MAX_RECIPIENTS: config.maxRecipients,
      MESA_SYNC_MAX_MESSAGES: config.sync?.maxMessages,
      MESA_SYNC_MAX_BYTES: config.sync?.maxBytes,
      MESA_SYNC_MAX_AGE_SECONDS: config.sync?.maxAgeSeconds,
      MAX_WRITE_BYTES: config.maxWriteBytes,
      MAX_REQUEST_BYTES: config.maxRequestBytes,
      MAX_BACKLOG_PAGE_BYTES: config.maxBacklogPageBytes,
      MAX_BACKLOG_READ_BYTES: config.maxBacklogReadBytes,
      REDIS_TIMEOUT_MS: connection.timeoutMs,
      REDIS_RETRIES: connection.retries,
      MAX_BODY_BYTES: maxBodyBytes,
      MAX_BATCH: maxBatch,
    })
  })

  it('reads every variable it documents', () => {
    const env = {
      ...required,
      MESA_NAMESPACE: 'api',
      MESA_SYNC: 'TRUE',
      DEDUPE_TTL_SECONDS: '60',
      MAX_RECIPIENTS: '50',
      REDIS_TIMEOUT_MS: '800',
      REDIS_RETRIES: '0',
      MESA_SYNC_MAX_MESSAGES: '0',
      MESA_SYNC_MAX_BYTES: '4096',
      MESA_SYNC_MAX_AGE_SECONDS: '3600',
      MAX_WRITE_BYTES: '65536',
      MAX_REQUEST_BYTES: '100000',
      MAX_BACKLOG_PAGE_BYTES: '4096',
      MAX_BACKLOG_READ_BYTES: '65536',
      UPSTASH_SCRIPT_KEY_LOCKING: 'on',
    }
    expect(readDispatcherEnv(env)).toEqual({
      connection: { url: 'https://example.upstash.io', token: 'secret-token', timeoutMs: 800, retries: 0, keyLocking: true },
      config: {
        namespace: 'api',
        sync: { enabled: true, maxMessages: 0, maxBytes: 4096, maxAgeSeconds: 3600 },
        dedupeTtlSeconds: 60,
        maxRecipients: 50,
        maxWriteBytes: 65_536,
        maxRequestBytes: 100_000,
        maxBacklogPageBytes: 4096,
        maxBacklogReadBytes: 65_536,
      },
    })
  })

  it('ignores bindings that are not strings, as edge envs hold KV namespaces and the like', () => {
    expect(readDispatcherEnv({ ...required, MESA_NAMESPACE: { binding: true } }).config.namespace).toBeUndefined()
  })

  it.each([
    ['a missing URL', { UPSTASH_REDIS_REST_TOKEN: 't' }, 'UPSTASH_REDIS_REST_URL'],
    ['a blank token', { UPSTASH_REDIS_REST_URL: 'https://x.io', UPSTASH_REDIS_REST_TOKEN: ' ' }, 'UPSTASH_REDIS_REST_TOKEN'],
    ['a sync flag that is not a boolean', { ...required, MESA_SYNC: 'maybe' }, 'MESA_SYNC'],
    ['a fractional TTL', { ...required, DEDUPE_TTL_SECONDS: '1.5' }, 'DEDUPE_TTL_SECONDS'],
    ['a zero timeout', { ...required, REDIS_TIMEOUT_MS: '0' }, 'REDIS_TIMEOUT_MS'],
    ['negative retries', { ...required, REDIS_RETRIES: '-1' }, 'REDIS_RETRIES'],
    ['a negative message cap', { ...required, MESA_SYNC_MAX_MESSAGES: '-1' }, 'MESA_SYNC_MAX_MESSAGES'],
    ['a byte cap that is not a number', { ...required, MESA_SYNC_MAX_BYTES: '256k' }, 'MESA_SYNC_MAX_BYTES'],
    ['a zero write budget', { ...required, MAX_WRITE_BYTES: '0' }, 'MAX_WRITE_BYTES'],
    ['a backlog page over what Lambda can answer', { ...required, MAX_BACKLOG_PAGE_BYTES: '4194304' }, 'MAX_BACKLOG_PAGE_BYTES'],
    ['a backlog page too small for a message', { ...required, MAX_BACKLOG_PAGE_BYTES: '512' }, 'MAX_BACKLOG_PAGE_BYTES'],
    ['a zero backlog read bound', { ...required, MAX_BACKLOG_READ_BYTES: '0' }, 'MAX_BACKLOG_READ_BYTES'],
  ])('names the variable for %s', (_, env, variable) => {
    expect(configErrorOf(() => readDispatcherEnv(env)).variable).toBe(variable)
  })

  it('never puts a secret value in an error message', () => {
    const error = configErrorOf(() => readDispatcherEnv({ UPSTASH_REDIS_REST_URL: 'nope', UPSTASH_REDIS_REST_TOKEN: 'hunter2' }))
    expect(error.message).not.toContain('hunter2')
  })
})

describe('readAppEnv', () => {
  it('reads DISPATCH_TOKEN_PREVIOUS beside DISPATCH_TOKEN, for a rotation without downtime, as the key default with every scope', () => {
    expect(readAppEnv({ ...required, DISPATCH_TOKEN: 'the-new-dispatch-token', DISPATCH_TOKEN_PREVIOUS: 'the-old-dispatch-token' }).keys).toEqual([
      {
        name: 'default',
        token: 'the-new-dispatch-token',
        previousToken: 'the-old-dispatch-token',
        scopes: ['dispatch', 'presence', 'backlog:read', 'backlog:clear'],
      },
    ])
  })

  it.each([
    ['alone', { DISPATCH_TOKEN_PREVIOUS: 'the-old-dispatch-token' }],
    ['too short', { DISPATCH_TOKEN: 'the-new-dispatch-token', DISPATCH_TOKEN_PREVIOUS: 'old' }],
  ])('refuses DISPATCH_TOKEN_PREVIOUS %s, naming it', (_, secrets) => {
    expect(configErrorOf(() => readAppEnv({ ...required, ...secrets })).variable).toBe('DISPATCH_TOKEN_PREVIOUS')
  })

  it('accepts secrets of printable ASCII, trimmed as every setting is', () => {
    expect(readAppEnv({ ...required, DISPATCH_TOKEN: '  token-with-!punctuation~  ', DISPATCH_SIGNING_SECRET: 'signing-secret-0123' }).keys).toEqual([
      {
        name: 'default',
        token: 'token-with-!punctuation~',
        signingSecret: 'signing-secret-0123',
        scopes: ['dispatch', 'presence', 'backlog:read', 'backlog:clear'],
      },
    ])
  })

  it('accepts a MAX_BATCH of 1000, and refuses more, so that a batch item id suffix :<index> stays within 4 characters', () => {
    expect([readAppEnv({ ...required, MAX_BATCH: '1000' }).maxBatch, configErrorOf(() => readAppEnv({ ...required, MAX_BATCH: '1001' }))]).toEqual([
      1000,
      { name: 'ConfigError', variable: 'MAX_BATCH', message: 'MAX_BATCH must be an integer from 1 to 1000' },
    ])
  })

  it.each([
    ['an inner space', 'DISPATCH_TOKEN', 'correct horse battery staple'],
    ['an inner tab', 'DISPATCH_SIGNING_SECRET', 'signing\tsecret-0123456789'],
    ['a non-ASCII letter', 'DISPATCH_TOKEN', 'pässwörd-long-enough-0123'],
    ['an emoji', 'DISPATCH_SIGNING_SECRET', 'signing-secret-0123456789-🔑'],
  ])('refuses a secret with %s, which no request could present, naming the variable but not the value', (_, variable, value) => {
    expect(configErrorOf(() => readAppEnv({ ...required, [variable]: value }))).toEqual({
      name: 'ConfigError',
      variable,
      message: `${variable} must be printable ASCII without spaces`,
    })
  })
})

describe('Dispatcher.fromEnv', () => {
  it('uses the namespace from the env for every key and channel', () => {
    expect(Dispatcher.fromEnv({ ...required, MESA_NAMESPACE: 'api' }).keys.channel).toBe('ws_api')
  })

  it('refuses a URL that is not http(s)', () => {
    expect(configErrorOf(() => Dispatcher.fromEnv({ ...required, UPSTASH_REDIS_REST_URL: 'redis://x' })).variable).toBe('UPSTASH_REDIS_REST_URL')
  })
})

describe('createMesaKeys', () => {
  it('spells names exactly as Mesa does, with and without a namespace', () => {
    const pick = (ns?: string) => {
      const keys = createMesaKeys(ns)
      return [keys.channel, keys.connectedClients, keys.undeliveredMessages, keys.backlogs]
    }
    expect([pick(), pick(''), pick('api')]).toEqual([
      ['ws', 'connected_clients', 'undelivered_messages', 'mesa_dispatch_backlogs'],
      ['ws', 'connected_clients', 'undelivered_messages', 'mesa_dispatch_backlogs'],
      ['ws_api', 'connected_clients_api', 'undelivered_messages_api', 'mesa_dispatch_backlogs_api'],
    ])
  })

  it('gives each operation and namespace an id space of its own, which no choice of namespace and id can leave', () => {
    expect([
      createMesaKeys().idempotency('dispatch', 'evt-42'),
      createMesaKeys().idempotency('clear', 'evt-42'),
      createMesaKeys('p14').idempotency('dispatch', 'x:order-17'),
      createMesaKeys('p14:x').idempotency('dispatch', 'order-17'),
      createMesaKeys('api').rateCounter('ci', 60, 3),
    ]).toEqual([
      'mesa_dispatch_id:dispatch:0::evt-42',
      'mesa_dispatch_id:clear:0::evt-42',
      'mesa_dispatch_id:dispatch:3:p14:x:order-17',
      'mesa_dispatch_id:dispatch:5:p14:x:order-17',
      'mesa_dispatch_rate:3:api:60:3:ci',
    ])
  })

  it('gives every script call a key no idempotency key can name', () => {
    const [a, b] = [createMesaKeys('api').callKey(), createMesaKeys('api').callKey()]
    expect({ a: /^mesa_dispatch_call:3:api:[0-9a-f-]{36}$/.test(a), distinct: a !== b }).toEqual({ a: true, distinct: true })
  })

  it.each(['has space', 'x'.repeat(65), '_leading', 'brace{}'])('refuses the namespace %j', (namespace) => {
    expect(configErrorOf(() => createMesaKeys(namespace)).variable).toBe('namespace')
  })
})
