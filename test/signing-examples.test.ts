import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type FetchServer, serveFetch } from '../dev/serve-fetch'
import { createDispatchClient, signRequest } from '../src/client/index'
import type { ApiKey } from '../src/http/api-keys'
import { stringToSign } from '../src/signature'
import { useBuiltHttp } from './support/built-http'
import { runCommand } from './support/processes'
import { ROOT } from './support/serverless-cli'
import { useStack } from './support/stack'

// The signature can be made from any language: the published test vectors hold for the package's own signer, and the
// curl + openssl and Python examples of examples/signing/ sign requests that the real endpoint (the built http bundle
// against redis-server) accepts, and whose tampered copies it refuses.
const stack = useStack()
const built = useBuiltHttp()
const EXAMPLES = join(ROOT, 'examples', 'signing')
const SHELL = join(EXAMPLES, 'sign-request.sh')
const PYTHON = join(EXAMPLES, 'sign_request.py')

interface Vector {
  secret: string
  keyId: string
  timestamp: number
  method: string
  path: string
  idempotencyKey: string
  body: string
  stringToSign: string
  header: string
}
const VECTORS = JSON.parse(readFileSync(join(EXAMPLES, 'vectors.json'), 'utf8')) as Vector[]
const SIGNER: ApiKey = { name: 'signer', signingSecret: 'examples-signing-secret-0123', scopes: ['dispatch', 'presence', 'backlog:read', 'backlog:clear'] }

/** Fails with how to install a tool the examples need, rather than skipping them. */
function requireTool(command: string, args: string[], install: string): void {
  try {
    execFileSync(command, args, { stdio: 'ignore' })
  } catch {
    throw new Error(`${command} is missing: ${install}`)
  }
}

let server: FetchServer
beforeAll(async () => {
  requireTool('openssl', ['version'], 'apt-get install -y openssl (.ci/run does this)')
  requireTool('python3', ['--version'], 'apt-get install -y python3 (.ci/run does this)')
  requireTool('curl', ['--version'], 'apt-get install -y curl (.ci/run does this)')
  const http = await built.start({ ...stack.functionEnv(stack.freshNamespace()), DISPATCH_KEYS: JSON.stringify([SIGNER]) })
  server = await serveFetch((request) => http.fetch(request))
})
afterAll(() => server?.close())

/** Runs an example signer with the key's env; `at` pins the time, as for the vectors. */
async function exampleHeader(
  example: 'shell' | 'python',
  key: { keyId: string; secret: string },
  request: Omit<Vector, 'secret' | 'keyId' | 'stringToSign' | 'header' | 'timestamp'>,
  at?: number,
) {
  const env = {
    PATH: process.env.PATH,
    MESA_KEY_ID: key.keyId,
    MESA_SIGNING_SECRET: key.secret,
    ...(at === undefined ? {} : { MESA_SIGNATURE_TIME: String(at) }),
  }
  const [command, first] = example === 'shell' ? [SHELL, []] : ['python3', [PYTHON]]
  const run = await runCommand(command, [...first, request.method, request.path, request.body, request.idempotencyKey], { env })
  if (run.code !== 0) throw new Error(`${example} example failed: ${run.stderr}`)
  return run.stdout.trim()
}

/** Sends a signed request as the docs show it, with curl, and answers its status and error name. */
async function curl(path: string, body: string, headers: Record<string, string>) {
  const flags = Object.entries(headers).flatMap(([name, value]) => ['-H', `${name}: ${value}`])
  const run = await runCommand('curl', [
    '-sS',
    '-X',
    'POST',
    `${server.url}${path}`,
    '-H',
    'content-type: application/json',
    ...flags,
    '--data-binary',
    body,
    '-w',
    '\n%{http_code}',
  ])
  const [text, status] = [run.stdout.slice(0, run.stdout.lastIndexOf('\n')), run.stdout.slice(run.stdout.lastIndexOf('\n') + 1)]
  return { status: Number(status), error: (JSON.parse(text) as { error?: { name: string } }).error?.name }
}

describe('the published test vectors', () => {
  it.each(VECTORS.map((vector) => [`${vector.method} ${vector.path} as ${vector.keyId}`, vector] as const))(
    'hold for the package signer: %s',
    async (_, vector) => {
      expect({ stringToSign: await stringToSign(vector), header: await signRequest(vector.secret, vector) }).toEqual({
        stringToSign: vector.stringToSign,
        header: vector.header,
      })
    },
  )

  it.each(
    VECTORS.flatMap((vector) =>
      (['shell', 'python'] as const).map((example) => [example, `${vector.method} ${vector.path} as ${vector.keyId}`, vector] as const),
    ),
  )('hold for the %s example: %s', async (example, _, vector) => {
    expect(await exampleHeader(example, vector, vector, vector.timestamp)).toBe(vector.header)
  })
})

describe('a request signed by each example', () => {
  const key = { keyId: SIGNER.name, secret: SIGNER.signingSecret! }

  it.each(['shell', 'python'] as const)('is accepted from the %s example, and refused once tampered with', async (example) => {
    const body = JSON.stringify({ message: { d: { from: example, nonce: crypto.randomUUID() }, t: 'NOTE' }, recipients: ['someone'] })
    const idempotencyKey = `example-${crypto.randomUUID()}`
    const header = await exampleHeader(example, key, { method: 'POST', path: '/dispatch', body, idempotencyKey })
    const signed = { 'x-mesa-signature': header, 'idempotency-key': idempotencyKey }
    expect({
      accepted: await curl('/dispatch', body, signed),
      body: await curl('/dispatch', body.replace('someone', 'someone-else'), signed),
      route: await curl('/backlog/clear', body, signed),
      key: await curl('/dispatch', body, { ...signed, 'idempotency-key': 'another-key' }),
    }).toEqual({
      accepted: { status: 200, error: undefined },
      body: { status: 401, error: 'AuthenticationError' },
      route: { status: 401, error: 'AuthenticationError' },
      key: { status: 401, error: 'AuthenticationError' },
    })
  })

  it('is accepted from the package client, and refused when another body is sent under its signature', async () => {
    const client = createDispatchClient({ endpoint: server.url, secret: key.secret, keyId: key.keyId })
    const body = JSON.stringify({ message: { d: 'client' }, recipients: ['someone'] })
    const header = await signRequest(key.secret, { keyId: key.keyId, method: 'POST', path: '/dispatch', body })
    expect({
      accepted: (await client.dispatch({ message: { d: 'client' }, recipients: ['someone'] }, { idempotencyKey: crypto.randomUUID() })).servers,
      tampered: await curl('/dispatch', body.replace('client', 'forged'), { 'x-mesa-signature': header }),
    }).toEqual({ accepted: 0, tampered: { status: 401, error: 'AuthenticationError' } })
  })
})
