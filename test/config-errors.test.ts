import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { type Env, readMetricsEnv } from '../src/config'
import { createRequestParser } from '../src/core/request'
import { readAppEnv } from '../src/http/app-env'
import { ConfigError, Dispatcher } from '../src/index'

// Every ConfigError a deployed function can meet names the env variable that holds the bad value, whichever part
// of the code finds it: the env readers, the Dispatcher they feed, or the request parser.

const required = { UPSTASH_REDIS_REST_URL: 'https://example.upstash.io', UPSTASH_REDIS_REST_TOKEN: 'secret-token' }

/** Everything the Lambda functions and the edge entry build from their env, as functions/*.ts and app.ts do. */
function buildFromEnv(env: Env): void {
  readMetricsEnv(env)
  const { connection, config, maxBatch } = readAppEnv(env)
  new Dispatcher(connection, config)
  createRequestParser({ maxBatch })
}

function configErrorOf(build: () => unknown): { name: string; variable: string; message: string } {
  try {
    build()
  } catch (error) {
    if (error instanceof ConfigError) return { name: error.name, variable: error.variable, message: error.message }
    throw error
  }
  throw new Error('expected a ConfigError')
}

/** The variables the env readers look at, recorded as they read them. */
function variablesRead(): string[] {
  const read = new Set<string>()
  const env = new Proxy<Env>(required, {
    get(target, name) {
      if (typeof name === 'string') read.add(name)
      return Reflect.get(target, name)
    },
  })
  buildFromEnv(env)
  return [...read].sort()
}

const SYNC_CAP = 'or no backlog at its cap could be written'
/** For each variable: a bad value, the other settings it is bad beside, and the message that must name it. */
const BAD: Record<string, [value: string, beside: Record<string, string>, message: string]> = {
  UPSTASH_REDIS_REST_URL: ['redis://example:6379', {}, 'must be an http(s) URL'],
  UPSTASH_REDIS_REST_TOKEN: ['two words', {}, 'must be printable ASCII without spaces'],
  MESA_NAMESPACE: ['has space', {}, 'must be 1-64 characters of letters, digits, "_", ".", ":" or "-", starting with a letter or digit'],
  MESA_SYNC: ['maybe', {}, 'must be true or false'],
  MESA_SYNC_MAX_MESSAGES: ['-1', {}, 'must be an integer of at least 0'],
  MESA_SYNC_MAX_BYTES: ['2097152', {}, `must be at most MAX_WRITE_BYTES (1048576), ${SYNC_CAP}`],
  MESA_SYNC_MAX_AGE_SECONDS: ['1.5', {}, 'must be an integer of at least 0'],
  DEDUPE_TTL_SECONDS: ['0', {}, 'must be an integer of at least 1'],
  MAX_RECIPIENTS: ['many', {}, 'must be an integer of at least 1'],
  MAX_WRITE_BYTES: ['65536', { MESA_SYNC_MAX_BYTES: '131072' }, `must be at least MESA_SYNC_MAX_BYTES (131072), ${SYNC_CAP}`],
  MAX_REQUEST_BYTES: ['65535', {}, 'must be an integer of at least 65536'],
  MAX_BACKLOG_PAGE_BYTES: ['3000000', {}, 'must be an integer from 1024 to 2621440'],
  MAX_BACKLOG_READ_BYTES: ['8MB', {}, 'must be an integer of at least 1'],
  REDIS_TIMEOUT_MS: ['0', {}, 'must be an integer of at least 1'],
  REDIS_RETRIES: ['-1', {}, 'must be an integer of at least 0'],
  UPSTASH_SCRIPT_KEY_LOCKING: ['maybe', {}, 'must be true or false'],
  DISPATCH_TOKEN: ['short', {}, 'must be at least 16 characters'],
  DISPATCH_TOKEN_PREVIOUS: ['previous-token-0123456789', {}, 'is accepted only beside DISPATCH_TOKEN, the token it is being replaced by'],
  DISPATCH_SIGNING_SECRET: ['signing secret 0123456789', {}, 'must be printable ASCII without spaces'],
  DISPATCH_KEYS: ['[]', {}, 'must hold at least one key'],
  MAX_BODY_BYTES: ['1e6', {}, 'must be an integer of at least 1'],
  MAX_BATCH: ['1001', {}, 'must be an integer from 1 to 1000'],
  MESA_METRICS: ['sometimes', {}, 'must be true or false'],
  MESA_METRICS_NAMESPACE: ['AWS/Lambda', {}, 'must be 1 to 255 of A-Z a-z 0-9 . - _ / # : and spaces, not beginning with AWS/'],
}

describe('a bad setting in the env', () => {
  it('is listed below for every variable the env readers read', () => {
    // IS_LOCAL is osls's flag for `serverless invoke local`, not a setting: no value of it is wrong.
    expect(Object.keys(BAD).sort()).toEqual(variablesRead().filter((name) => name !== 'IS_LOCAL'))
  })

  it.each(Object.entries(BAD))('in %s is a ConfigError naming that variable', (variable, [value, beside, message]) => {
    expect(configErrorOf(() => buildFromEnv({ ...required, ...beside, [variable]: value }))).toEqual({
      name: 'ConfigError',
      variable,
      message: `${variable} ${message}`,
    })
  })

  it('never comes out of the Dispatcher or the parser under their own option names, whatever the values', () => {
    const variables = variablesRead()
    const value = fc.oneof(
      fc.constantFrom('', '0', '1', '-1', '1.5', '1000', '1001', '65536', '262144', '1048576', '9007199254740993', 'true', 'no'),
      fc.string({ maxLength: 70 }),
    )
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...variables.filter((name) => name !== 'IS_LOCAL')), value), (settings) => {
        try {
          buildFromEnv({ ...required, ...settings })
        } catch (error) {
          if (!(error instanceof ConfigError)) throw error
          for (const { variable } of error.problems) expect(variables).toContain(variable)
        }
      }),
      { numRuns: 500 },
    )
  })
})

describe('several bad settings in the env', () => {
  it('are one ConfigError naming every variable and problem, in the order they are read, never a value', () => {
    const error = configErrorOf(() =>
      readAppEnv({
        UPSTASH_REDIS_REST_URL: 'example.upstash.io',
        MESA_SYNC: 'maybe',
        MESA_SYNC_MAX_BYTES: 'lots',
        MAX_WRITE_BYTES: '0',
        DISPATCH_TOKEN: 'short',
      }),
    )
    expect(error).toEqual({
      name: 'ConfigError',
      variable: 'UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN, MESA_SYNC, MESA_SYNC_MAX_BYTES, MAX_WRITE_BYTES, DISPATCH_TOKEN',
      message:
        '6 settings are wrong: UPSTASH_REDIS_REST_URL must be an http(s) URL; UPSTASH_REDIS_REST_TOKEN must be set; MESA_SYNC must be true or false; ' +
        'MESA_SYNC_MAX_BYTES must be an integer of at least 0; MAX_WRITE_BYTES must be an integer of at least 1; DISPATCH_TOKEN must be at least 16 characters',
    })
  })

  it('keep each problem apart, for whoever lists them', () => {
    try {
      readAppEnv({ ...required, MESA_SYNC: 'maybe', MAX_BATCH: '0' })
      expect.unreachable('readAppEnv accepted two bad settings')
    } catch (error) {
      expect((error as ConfigError).problems).toEqual([
        { variable: 'MESA_SYNC', problem: 'must be true or false' },
        { variable: 'MAX_BATCH', problem: 'must be an integer from 1 to 1000' },
      ])
    }
  })
})

describe('the library API', () => {
  it('names its own options, not env variables', () => {
    const connection = { url: 'https://example.upstash.io', token: 'secret-token' }
    expect([
      configErrorOf(() => new Dispatcher(connection, { namespace: 'has space' })),
      configErrorOf(() => new Dispatcher(connection, { maxWriteBytes: 65_536, sync: { enabled: true, maxBytes: 131_072 } })),
      configErrorOf(() => new Dispatcher({ ...connection, token: 'two words' })),
    ]).toEqual([
      {
        name: 'ConfigError',
        variable: 'namespace',
        message: 'namespace must be 1-64 characters of letters, digits, "_", ".", ":" or "-", starting with a letter or digit',
      },
      { name: 'ConfigError', variable: 'maxWriteBytes', message: `maxWriteBytes must be at least sync.maxBytes (131072), ${SYNC_CAP}` },
      { name: 'ConfigError', variable: 'token', message: 'token must be printable ASCII without spaces' },
    ])
  })
})
