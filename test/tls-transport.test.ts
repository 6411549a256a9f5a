import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer, type Server } from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BuiltBundle, buildBundles } from '../esbuild.config.mjs'
import { httpApiEvent } from './support/events'
import { runBundle } from './support/lambda-bundle'
import { runCommand } from './support/processes'
import { GATEWAY_TOKEN, useStack } from './support/stack'

// Upstash is reached over https, which the REST transport sends through Node's https module and its global agent
// (src/transport/node-http.ts). The built http function runs on Node 22 as Lambda would, against the gateway behind
// a TLS terminator whose certificate is made here: trusted through NODE_EXTRA_CA_CERTS it serves both invocations over
// one TLS connection; untrusted, the function answers 503 saying nothing was sent, and its log names the origin and why.

const stack = useStack()
const DISPATCH_TOKEN = 'dispatch-token-0123456789'
let dir: string
let built: BuiltBundle[]
let terminator: { url: string; handshakes: () => number; close: () => Promise<void> }

/** A self-signed certificate for 127.0.0.1, made with openssl (which .ci/run installs). */
async function makeCertificate(into: string): Promise<{ key: string; cert: string }> {
  const [key, cert] = [join(into, 'key.pem'), join(into, 'cert.pem')]
  const args = ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1']
  const run = await runCommand('openssl', [...args, '-addext', 'subjectAltName=IP:127.0.0.1'], { timeoutMs: 30_000 }).catch((error: Error) => {
    throw new Error(`openssl is needed to make a certificate: install it (apt-get install -y openssl): ${error.message}`)
  })
  if (run.code !== 0) throw new Error(`openssl could not make a certificate:\n${run.stderr}`)
  return { key, cert }
}

/** Terminates TLS on a loopback port and relays each connection to the gateway, counting the handshakes. */
async function startTerminator(pems: { key: string; cert: string }) {
  let handshakes = 0
  const server: Server = createServer({ key: readFileSync(pems.key), cert: readFileSync(pems.cert) }, (socket) => {
    handshakes++
    const upstream = connect(stack.gateway.port, '127.0.0.1')
    socket.pipe(upstream).pipe(socket)
    upstream.on('error', () => socket.destroy())
    socket.on('error', () => upstream.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    url: `https://127.0.0.1:${port}`,
    handshakes: () => handshakes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mesa-tls-'))
  terminator = await startTerminator(await makeCertificate(dir))
  built = await buildBundles({ only: ['http'], outdir: join(dir, 'bundles') })
}, 60_000)
afterAll(async () => {
  await terminator?.close()
  rmSync(dir, { recursive: true, force: true })
})

const dispatch = () =>
  httpApiEvent({
    method: 'POST',
    path: '/dispatch',
    headers: { authorization: `Bearer ${DISPATCH_TOKEN}` },
    body: JSON.stringify({ message: { op: 0, d: { n: 1 }, t: 'NOTE' }, recipients: ['alice'] }),
  })

/** Runs the http function for two dispatches over https, with the given extra environment. */
async function runOverTls(env: Record<string, string>) {
  const before = terminator.handshakes()
  const session = await runBundle(built[0]!.file, [dispatch(), dispatch()], {
    UPSTASH_REDIS_REST_URL: terminator.url,
    UPSTASH_REDIS_REST_TOKEN: GATEWAY_TOKEN,
    DISPATCH_TOKEN,
    MESA_NAMESPACE: stack.freshNamespace(),
    MESA_METRICS: 'false',
    REDIS_RETRIES: '0',
    ...env,
  })
  const answers = session.invocations.map((each) => {
    const result = 'result' in each ? (each.result as { statusCode: number; body: string }) : undefined
    return result && { status: result.statusCode, body: JSON.parse(result.body) as Record<string, unknown> }
  })
  return { answers, lines: session.lines, handshakes: terminator.handshakes() - before }
}

describe('the http function over https', () => {
  it('dispatches twice over one TLS connection when the certificate is trusted', async () => {
    const run = await runOverTls({ NODE_EXTRA_CA_CERTS: join(dir, 'cert.pem') })

    expect(
      run.answers.map((each) => ({ status: each?.status, ok: each?.body.ok, servers: (each?.body.result as { servers?: number } | undefined)?.servers })),
    ).toEqual([
      { status: 200, ok: true, servers: 0 },
      { status: 200, ok: true, servers: 0 },
    ])
    expect(run.handshakes).toBe(1)
  })

  it("answers 503 with outcome none, and logs the origin and the certificate's refusal, when the certificate is not trusted", async () => {
    const run = await runOverTls({})

    const error = run.answers.map((each) => ({ status: each?.status, error: each?.body.error as Record<string, unknown> }))[0]!
    expect({ status: error.status, name: error.error.name, outcome: error.error.outcome }).toEqual({
      status: 503,
      name: 'RedisUnavailableError',
      outcome: 'none',
    })
    // The answer does not say where Redis is; the log line does, with what the TLS client said.
    expect(String(error.error.message)).not.toContain(terminator.url)
    const logged = JSON.stringify(run.lines.filter((line) => line.level === 'error'))
    expect({ origin: logged.includes(terminator.url), certificate: /certificate/i.test(logged) }).toEqual({ origin: true, certificate: true })
  })
})
