import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type BuiltBundle, buildBundles, bundles } from '../esbuild.config.mjs'
import * as scripts from '../src/script/scripts'
import { lambdaNode } from './support/node22'
import { runCommand } from './support/processes'
import { ROOT } from './support/serverless-cli'

// The deploy build (esbuild.config.mjs) into a temp dir: one self-contained file per function, and the CLI.

const LAMBDAS = ['http', 'sqs', 'eventbridge', 'cleanup']
let outdir: string
let built: BuiltBundle[]

beforeAll(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'mesa-build-'))
  built = await buildBundles({ outdir })
  console.log(`bundle sizes: ${built.map((each) => `${each.name} ${(each.bytes / 1024).toFixed(1)} KiB`).join(', ')}`)
}, 60_000)
afterAll(() => rmSync(outdir, { recursive: true, force: true }))

const bundle = (name: string): BuiltBundle => {
  const found = built.find((each) => each.name === name)
  if (!found) throw new Error(`no ${name} bundle in ${built.map((each) => each.name).join(', ')}`)
  return found
}

/** Every module specifier a built file still imports, statically or dynamically, as esbuild parses it. */
async function importsOf(file: string): Promise<string[]> {
  const { metafile } = await build({ entryPoints: [file], bundle: true, write: false, metafile: true, external: ['*'], format: 'esm', logLevel: 'silent' })
  const imports = Object.values(metafile.outputs).flatMap((output) => output.imports.map((each) => each.path))
  return [...new Set(imports)].sort()
}

const DUMMY_ENV = {
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9',
  UPSTASH_REDIS_REST_TOKEN: 'dummy-upstash-token',
  DISPATCH_TOKEN: 'dummy-dispatch-token-0123456789',
}
const GUARD = join(ROOT, 'test', 'support', 'offline-guard.cjs')

/**
 * Imports a file in a fresh `node` process (no loader, no tsx), of the given Node (the machine's unless told), and
 * prints the type of each named export.
 */
function importInNode(file: string, exports: string[], node = process.execPath): Promise<{ code: number | null; output: string }> {
  const script = `const m = await import(process.argv[1]); console.log(JSON.stringify(Object.fromEntries(${JSON.stringify(exports)}.map((name) => [name, name === 'default' ? typeof m.default?.fetch : typeof m[name]]))))`
  const env = { PATH: process.env.PATH, ...DUMMY_ENV, NODE_OPTIONS: `--require ${JSON.stringify(GUARD)}`, OFFLINE_GUARD_LOG: join(outdir, 'network.log') }
  return runCommand(node, ['--input-type=module', '-e', script, pathToFileURL(file).href], { env }).then(({ code, stdout, stderr }) => ({
    code,
    output: stdout + stderr,
  }))
}

describe('buildBundles', () => {
  it('has one entry per function, Lambda ones for Node 22 and the edge one for Workers, and the CLI for Node 20', () => {
    expect(bundles.map((each) => each.name)).toEqual([...LAMBDAS, 'edge', 'cli'])
    for (const name of LAMBDAS) {
      expect(
        bundles.find((each) => each.name === name),
        name,
      ).toMatchObject({ platform: 'node', target: 'node22', format: 'esm' })
    }
    expect(bundles.find((each) => each.name === 'edge')).toMatchObject({
      platform: 'browser',
      target: 'es2022',
      format: 'esm',
      conditions: ['workerd', 'worker', 'browser'],
    })
    expect(bundles.find((each) => each.name === 'cli')).toMatchObject({
      entry: 'src/cli/main.ts',
      file: 'index.js',
      platform: 'node',
      target: 'node20',
      format: 'esm',
      banner: '#!/usr/bin/env node',
    })
  })

  it('writes every bundle to <outdir>/<name>/ and reports its real size', () => {
    expect(built.map((each) => each.name)).toEqual([...LAMBDAS, 'edge', 'cli'])
    for (const each of built) {
      expect(existsSync(each.file), each.file).toBe(true)
      expect(dirname(each.file)).toBe(join(outdir, each.name))
      expect(each.bytes).toBe(statSync(each.file).size)
    }
    expect(built.map((each) => basename(each.file))).toEqual(['index.js', 'index.js', 'index.js', 'index.js', 'index.mjs', 'index.js'])
  })

  it('keeps our own names in the Lambda bundles and the CLI, and writes a source map beside every bundle but the CLI', () => {
    expect(Object.fromEntries(bundles.map((each) => [each.name, [each.keepNames, each.sourcemap]]))).toEqual({
      ...Object.fromEntries(LAMBDAS.map((name) => [name, ['own', true]])),
      // The edge bundle is over its size budget already, and reports errors by `name`; the CLI ships in the package.
      edge: [false, true],
      cli: ['own', false],
    })
    expect(built.map((each) => [each.name, each.map?.file ?? null])).toEqual(built.map((each) => [each.name, each.name === 'cli' ? null : `${each.file}.map`]))
    expect(existsSync(`${bundle('cli').file}.map`)).toBe(false)
  })

  it('links each map from the last line of its bundle, leaves the sources out of it, and maps to files that exist', () => {
    for (const { name, file, map } of built.filter((each) => each.map)) {
      const json = JSON.parse(readFileSync(map!.file, 'utf8')) as { version: number; sources: string[]; sourcesContent?: unknown }
      expect(map!.bytes, name).toBe(statSync(map!.file).size)
      expect(readFileSync(file, 'utf8').trimEnd().split('\n').at(-1), name).toBe(`//# sourceMappingURL=${basename(file)}.map`)
      expect({ version: json.version, sourcesContent: json.sourcesContent }, name).toEqual({ version: 3, sourcesContent: undefined })
      const sources = json.sources.map((source) => resolve(dirname(map!.file), source))
      expect(
        sources.filter((source) => !existsSync(source)),
        name,
      ).toEqual([])
      expect(sources, name).toContain(join(ROOT, 'src', 'errors.ts'))
    }
  })

  it("reports each bundle's own code and Lua by source file, which is all of it but what came from node_modules", () => {
    for (const { name, bytes, ownBytes, ownModules } of built) {
      expect(
        ownModules.filter((each) => each.path.includes('node_modules/')),
        name,
      ).toEqual([])
      expect(
        ownModules.reduce((sum, each) => sum + each.bytes, 0),
        name,
      ).toBe(ownBytes)
      expect(
        ownModules.map((each) => each.bytes),
        name,
      ).toEqual(ownModules.map((each) => each.bytes).sort((a, b) => b - a))
      expect(ownBytes < bytes && ownModules.some((each) => each.path === 'src/script/scripts.ts'), name).toBe(true)
    }
  })

  it("gives the Lambda bundles uncrypto's Web Crypto build, so that none imports node:crypto", () => {
    expect(Object.fromEntries(LAMBDAS.map((name) => [name, bundle(name).nodeBuiltins]))).toEqual({
      http: ['node:stream/promises'],
      sqs: ['node:async_hooks'],
      eventbridge: [],
      cleanup: [],
    })
    // What that relies on: @upstash/redis takes `subtle` alone from uncrypto, which its Web Crypto build reads from
    // globalThis.crypto, Node 22's Web Crypto.
    const upstash = readFileSync(
      join(
        ROOT,
        'node_modules',
        '@upstash',
        'redis',
        readFileSync(join(ROOT, 'node_modules', '@upstash', 'redis', 'fastly.mjs'), 'utf8').match(/from "\.\/(chunk-\w+\.mjs)"/)![1]!,
      ),
      'utf8',
    )
    expect([...upstash.matchAll(/^import \{([^}]*)\} from "uncrypto";$/gm)].map(([, names]) => names!.trim())).toEqual(['subtle', 'subtle as subtle2'])
    expect(readFileSync(join(ROOT, 'node_modules', 'uncrypto', 'dist', 'crypto.web.mjs'), 'utf8')).toContain('const subtle = webCrypto.subtle')
  })

  it('leaves no Node built-in, nor any other import, in the edge bundle', async () => {
    const edge = bundle('edge')
    expect(edge.nodeBuiltins).toEqual([])
    expect(await importsOf(edge.file)).toEqual([])
  })

  it('bundles exactly the runtime libraries each function needs, and never ioredis', () => {
    expect(Object.fromEntries(built.map((each) => [each.name, each.packages]))).toEqual({
      http: ['@upstash/redis', 'hono', 'uncrypto'],
      sqs: ['@aws-lambda-powertools/batch', '@aws-lambda-powertools/commons', '@aws/lambda-invoke-store', '@upstash/redis', 'uncrypto'],
      eventbridge: ['@upstash/redis', 'uncrypto'],
      cleanup: ['@upstash/redis', 'uncrypto'],
      edge: ['@upstash/redis', 'uncrypto'],
      cli: ['@upstash/redis', 'uncrypto'],
    })
  })

  it('ships each bundle the scripts its function runs, deflated as src/script/scripts.ts holds them, and no other, never as text', () => {
    const code = Object.fromEntries(built.map((each) => [each.name, readFileSync(each.file, 'utf8')]))
    // A script's own part of its deflate stream is the last one it names.
    const shipped = (name: string) =>
      Object.entries(scripts)
        .filter(([, script]) => code[name]!.includes(script.deflated.at(-1)!))
        .map(([constant]) => constant)
    const everyScript = ['BACKLOG_SCRIPT', 'CLEANUP_SCRIPT', 'CLEAR_SCRIPT', 'DISPATCH_SCRIPT', 'PRESENCE_SCRIPT']
    // The HTTP app dispatches and answers questions; the cleanup pass is the cleanup function's alone.
    const httpScripts = everyScript.filter((each) => each !== 'CLEANUP_SCRIPT')
    expect(Object.fromEntries(built.map((each) => [each.name, shipped(each.name)]))).toEqual({
      http: httpScripts,
      sqs: ['DISPATCH_SCRIPT'],
      eventbridge: ['DISPATCH_SCRIPT'],
      cleanup: ['CLEANUP_SCRIPT'],
      edge: httpScripts,
      cli: everyScript,
    })
    expect(Object.values(code).map((each) => each.includes('redis.call(') || each.includes('Why it is written this way'))).toEqual(built.map(() => false))
  })

  it('gives the edge bundle the TCP-less transport, so not even a reference to ioredis is left in it', () => {
    const code = readFileSync(bundle('edge').file, 'utf8')
    expect({ ioredis: code.includes('ioredis'), refusal: code.includes('edge runtimes cannot use') }).toEqual({ ioredis: false, refusal: true })
  })

  it('gives the Lambda bundles the REST-only transport, which reaches Redis at its REST URL alone and refuses a TCP target', () => {
    const marks = LAMBDAS.map((name) => {
      const code = readFileSync(bundle(name).file, 'utf8')
      return { name, ioredis: code.includes('ioredis'), refusal: code.includes('this build (rest-only) reaches Redis over REST alone') }
    })
    expect(marks).toEqual(LAMBDAS.map((name) => ({ name, ioredis: false, refusal: true })))
  })

  it('makes the Lambda bundles ESM that import nothing but Node built-ins', async () => {
    for (const name of LAMBDAS) {
      const { file, nodeBuiltins } = bundle(name)
      const code = readFileSync(file, 'utf8')
      // index.js is ESM because of the package.json beside it, as on Lambda.
      expect(JSON.parse(readFileSync(join(dirname(file), 'package.json'), 'utf8')), name).toEqual({ type: 'module' })
      expect(code, name).toMatch(/\bexport\s*\{[^}]*\bas handler\b[^}]*\}/)
      expect(code, name).not.toMatch(/\bmodule\.exports\b|\b__require\b|Dynamic require of/)
      // Nothing from node_modules (@aws-sdk/* included) is left external.
      const imports = await importsOf(file)
      expect(
        imports.every((specifier) => specifier.startsWith('node:')),
        `${name} imports ${imports.join(', ')}`,
      ).toBe(true)
      expect(nodeBuiltins, name).toEqual(imports)
    }
  })

  it.each(LAMBDAS)('the %s bundle loads in a fresh process of Node 22, the Lambda runtime, and exports its handler, without network use', async (name) => {
    const result = await importInNode(bundle(name).file, ['handler'], lambdaNode())
    expect(result.code, result.output).toBe(0)
    expect(JSON.parse(result.output.trim().split('\n').pop()!)).toEqual({ handler: 'function' })
    expect(existsSync(join(outdir, 'network.log')) ? readFileSync(join(outdir, 'network.log'), 'utf8') : '').toBe('')
  })

  it('the edge bundle loads in node too and exports { fetch }', async () => {
    const result = await importInNode(bundle('edge').file, ['default'])
    expect(result.code, result.output).toBe(0)
    expect(JSON.parse(result.output.trim().split('\n').pop()!)).toEqual({ default: 'function' })
  })

  it("makes the CLI an executable ESM script, the package's bin, that imports nothing but Node built-ins", async () => {
    const { file, nodeBuiltins } = bundle('cli')
    const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { bin?: unknown }
    expect(readFileSync(file, 'utf8').split('\n', 1)[0]).toBe('#!/usr/bin/env node')
    expect(() => accessSync(file, constants.X_OK)).not.toThrow()
    expect(JSON.parse(readFileSync(join(dirname(file), 'package.json'), 'utf8'))).toEqual({ type: 'module' })
    expect(packageJson.bin).toEqual({ 'mesa-dispatch': './lib/cli/index.js' })
    const imports = await importsOf(file)
    expect(
      imports.every((specifier) => specifier.startsWith('node:')),
      `cli imports ${imports.join(', ')}`,
    ).toBe(true)
    expect(nodeBuiltins).toEqual(imports)
  })

  it("keeps our own names alone: within 6 KB of no names kept, where keeping @upstash/redis's costs 10 KB more", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesa-build-names-'))
    try {
      const [none] = await buildBundles({ only: ['sqs'], outdir: join(dir, 'none'), override: { keepNames: false } })
      const [all] = await buildBundles({ only: ['sqs'], outdir: join(dir, 'all'), override: { keepNames: true } })
      const own = bundle('sqs').bytes
      expect({ ownOverNone: own - none!.bytes < 6_000, allOverOwn: all!.bytes - own > 10_000 }).toEqual({ ownOverNone: true, allOverOwn: true })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('builds only the bundles asked for, with the overrides asked for, and refuses unknown names', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mesa-build-only-'))
    try {
      const [only, ...rest] = await buildBundles({ only: ['edge'], outdir: dir })
      expect(rest).toEqual([])
      expect(only?.name).toBe('edge')
      expect(existsSync(join(dir, 'sqs'))).toBe(false)
      await expect(buildBundles({ only: ['lambda'], outdir: dir })).rejects.toThrow(/unknown bundle\(s\): lambda/)
      // The bench's reference build: names minified and no map, as the bundles shipped before.
      const [plain] = await buildBundles({ only: ['sqs'], outdir: dir, override: { keepNames: false, sourcemap: false } })
      expect({ map: plain?.map, mapFile: existsSync(`${plain?.file}.map`), smaller: plain!.bytes < bundle('sqs').bytes }).toEqual({
        map: undefined,
        mapFile: false,
        smaller: true,
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
