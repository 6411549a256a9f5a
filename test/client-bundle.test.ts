import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runInNewContext } from 'node:vm'
import { build, type Metafile } from 'esbuild'
import ts from 'typescript'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type * as ClientEntry from '../src/client/index'
import { ENDPOINT_TOKEN, type ServedEndpoint, serveEndpoint } from './support/dispatch-endpoint'
import { ROOT } from './support/serverless-cli'
import { useStack } from './support/stack'

// The client entry as a browser or edge app bundles it: all of it, minified. Its budget is 9 KiB (8 KiB until the
// client retried: its backoff, deadline, and outcome across attempts take about 2 KB), and it may use nothing of its
// runtime but fetch (with URL and AbortSignal), Web Crypto (with TextEncoder for its bytes) and setTimeout, which
// every runtime has, for the wait between retries.
const BUDGET_BYTES = 9216
const WEB_GLOBALS = ['AbortSignal', 'TextEncoder', 'URL', 'crypto', 'fetch', 'setTimeout']
/**
 * What every JavaScript engine has: a fresh V8 context's globals, less `console`, which is a host's, and `eval`
 * and `Function`, which could reach any global by a name no static check sees.
 */
const ECMASCRIPT = new Set(Object.getOwnPropertyNames(runInNewContext('globalThis')).filter((name) => !['console', 'eval', 'Function'].includes(name)))

const stack = useStack()
let code: string
let output: Metafile['outputs'][string]
let dir: string
let endpoint: ServedEndpoint

beforeAll(async () => {
  const result = await build({
    entryPoints: ['src/client/index.ts'],
    absWorkingDir: ROOT,
    bundle: true,
    minify: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
  })
  code = result.outputFiles[0]!.text
  output = Object.values(result.metafile.outputs)[0]!
  console.log(`client bundle: ${Buffer.byteLength(code)} bytes`)
  dir = mkdtempSync(join(tmpdir(), 'mesa-client-bundle-'))
  endpoint = await serveEndpoint(stack.dispatcher({ namespace: stack.freshNamespace() }))
})
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true })
  await endpoint.close()
})

/**
 * Every global a script reads, found by TypeScript with no lib at all, so that each one is a name it cannot find:
 * locals, parameters and property names never are. TypeScript knows `globalThis` itself, so that is looked for by name.
 */
function globalsOf(script: string): string[] {
  const fileName = '/bundle.js'
  const options: ts.CompilerOptions = { allowJs: true, checkJs: true, noLib: true, noEmit: true, types: [], target: ts.ScriptTarget.ES2022 }
  const source = ts.createSourceFile(fileName, script, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS)
  const host = ts.createCompilerHost(options)
  host.getSourceFile = (name) => (name === fileName ? source : undefined)
  const names = ts
    .createProgram([fileName], options, host)
    .getSemanticDiagnostics(source)
    .map((diagnostic) => /^Cannot find name '([^']+)'/.exec(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'))?.[1])
  if (/\bglobalThis\b/.test(script)) names.push('globalThis')
  return [...new Set(names.filter((name) => name !== undefined))].sort()
}

describe('the client entry bundled for the browser', () => {
  it(`fits in ${BUDGET_BYTES} bytes minified`, () => {
    expect(Buffer.byteLength(code)).toBeLessThanOrEqual(BUDGET_BYTES)
  })

  it('is every export of the entry, with no import left', () => {
    expect({ exports: [...output.exports].sort(), imports: output.imports }).toEqual({
      exports: ['ConfigError', 'DispatchEndpointError', 'ValidationError', 'createDispatchClient', 'signRequest'],
      imports: [],
    })
  })

  it('carries only the error classes the client throws, of all those in src/errors.ts', () => {
    expect([...code.matchAll(/name="(\w+)"/g)].map((match) => match[1]).sort()).toEqual([
      'ConfigError',
      'DispatchEndpointError',
      'MesaDispatchError',
      'ValidationError',
    ])
  })

  it('reads no global but fetch, Web Crypto and the built-ins of every JavaScript engine', () => {
    expect(globalsOf(code).filter((name) => !ECMASCRIPT.has(name))).toEqual(WEB_GLOBALS)
  })

  it('finds globals by scope, so the check above would see any other one', () => {
    const script = 'const URL = 1; export function f(fetch) { return fetch(URL) + process.env.X + a.b + Array.from([]) + globalThis.y }'
    expect(globalsOf(script)).toEqual(['Array', 'a', 'globalThis', 'process'])
  })

  it('works as built: it dispatches through the real endpoint, and names a field that cannot be JSON', async () => {
    const file = join(dir, 'client.mjs')
    writeFileSync(file, code)
    const bundled = (await import(pathToFileURL(file).href)) as typeof ClientEntry
    const client = bundled.createDispatchClient({ endpoint: endpoint.url, token: ENDPOINT_TOKEN })
    const before = endpoint.requests

    const result = await client.dispatch({ message: { d: { n: 1 }, t: 'NOTE' }, recipients: ['0'] })
    const refusal = await client.dispatch({ message: { d: 1n }, recipients: ['0'] }).catch((error: unknown) => error)

    expect({ result, requests: endpoint.requests - before }).toEqual({
      result: { servers: 0, recipients: ['0'], online: null, offline: [], unstored: [], stored: 0, dropped: 0, duplicate: false, excludingIgnored: false },
      requests: 1,
    })
    expect(refusal).toBeInstanceOf(bundled.ValidationError)
    const { name, field, message } = refusal as ClientEntry.ValidationError
    expect({ name, field, message }).toEqual({
      name: 'ValidationError',
      field: 'message.d',
      message: 'message.d cannot be serialized as JSON: Do not know how to serialize a BigInt',
    })
  })
})
