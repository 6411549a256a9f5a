import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { type BuiltBundle, buildBundles } from '../../esbuild.config.mjs'
import { lambdaNode } from '../../test/support/node22'
import { copyService, describeRun, runServerless } from '../../test/support/serverless-cli'
import { deployedNodeOptions } from '../deployed'
import { CaseRecorder, type CaseResult } from '../results'
import { pick } from '../settings'

const LAMBDAS = ['http', 'sqs', 'eventbridge', 'cleanup']
const LAMBDA_MAX_KIB = 120
const LAMBDA_MAX_IMPORT_MS = 25
const EDGE_MAX_KIB = 100
/** The brief's bound on each bundle's own code and Lua (node_modules aside), in KiB. */
const OWN_MAX_KIB = 45
const ROOT = new URL('../..', import.meta.url).pathname
const EMPTY = 'an empty module (the floor)'
const UPSTASH = '@upstash/redis alone (reference)'
// What serverless.yml gave the functions until they mapped their stacks themselves (src/triggers/mapped-stacks.ts).
const SOURCE_MAPS = '--enable-source-maps'

// What a cold Lambda pays for: the time from `import()` to the module being evaluated, top-level work included.
const IMPORT_SCRIPT = 'const t = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - t))'
// The Lambda bundles build their Dispatcher at import and need a well-formed env; nothing is contacted (without
// AWS_LAMBDA_INITIALIZATION_TYPE there is no warm-up: case 9 times the init with it).
const IMPORT_ENV = {
  PATH: process.env.PATH,
  UPSTASH_REDIS_REST_URL: 'http://127.0.0.1:9',
  UPSTASH_REDIS_REST_TOKEN: 'dummy-upstash-token',
  DISPATCH_TOKEN: 'dummy-dispatch-token-0123456789',
}

/** One file to import, and the NODE_OPTIONS to import it with. */
interface ImportTarget {
  name: string
  file: string
  nodeOptions: string
}

/**
 * Case 7: each bundle's minified size, its own code and Lua, its source map's and its deployment zip's size, and the
 * time to import it in a fresh process of Node 22 (the Lambda runtime) as deployed (serverless.yml's NODE_OPTIONS),
 * paired round by round with @upstash/redis alone; the http bundle also with --enable-source-maps, as it ran before.
 */
export async function runColdStart(): Promise<CaseResult> {
  const record = new CaseRecorder('7', 'Cold start: bundle size and import time in a fresh process of Node 22')
  const outdir = mkdtempSync(join(tmpdir(), 'mesa-bench-build-'))
  try {
    const node = lambdaNode()
    const deployed = await deployedNodeOptions()
    const asDeployed = `as deployed (NODE_OPTIONS=${deployed || 'none'})`
    const built = await buildBundles({ outdir })
    for (const each of built) {
      const map = each.map ? `; source map ${each.map.bytes} bytes (${round1(each.map.bytes / 1024)} KiB)` : ''
      record.value(
        `${each.name} bundle size`,
        round1(each.bytes / 1024),
        'KiB',
        `${each.bytes} bytes${map}; Node built-ins: ${each.nodeBuiltins.join(' ') || 'none'}`,
      )
      record.value(
        `${each.name} bundle: own code and Lua`,
        round1(each.ownBytes / 1024),
        'KiB',
        `${each.ownBytes} bytes; the rest is ${each.packages.join(', ')}`,
      )
    }
    for (const [name, bytes] of await zipSizes()) record.value(`${name} deployment zip`, round1(bytes / 1024), 'KiB', `${bytes} bytes, from serverless package`)

    const files: ImportTarget[] = [
      ...LAMBDAS.map((name) => ({ name: `${name} bundle, ${asDeployed}`, file: fileOf(built, name), nodeOptions: deployed })),
      { name: `http bundle, ${SOURCE_MAPS} (before)`, file: fileOf(built, 'http'), nodeOptions: SOURCE_MAPS },
      { name: 'edge bundle', file: fileOf(built, 'edge'), nodeOptions: '' },
    ]
    const ioredis = await bundleAlone(outdir, 'ioredis', "export { Redis } from 'ioredis'")
    record.value('ioredis alone, bundled (reference)', round1(ioredis.bytes / 1024), 'KiB', `${ioredis.bytes} bytes`)
    files.push({ name: 'ioredis alone (reference)', file: ioredis.file, nodeOptions: '' })
    // What our bundles carry of @upstash/redis, alone: the share of their size and import time it accounts for.
    const upstash = await bundleAlone(outdir, 'upstash', "export { Redis } from '@upstash/redis'")
    record.value('@upstash/redis alone, bundled (reference)', round1(upstash.bytes / 1024), 'KiB', `${upstash.bytes} bytes`)
    files.push({ name: UPSTASH, file: upstash.file, nodeOptions: '' })
    const empty = join(outdir, 'empty.mjs')
    writeFileSync(empty, 'export {}\n')
    files.push({ name: EMPTY, file: empty, nodeOptions: '' })
    record.note(`@cryb/mesa cannot be bundled by esbuild at all: ${await mesaBuildError()}`)

    // Rounds rotate through every file, so a noisy moment slows all of them alike; spawns never overlap.
    const times: Record<string, number[]> = Object.fromEntries(files.map((each) => [each.name, []]))
    const rounds = pick(25, 3)
    for (let round = 0; round < rounds + 1; round++) {
      for (let k = 0; k < files.length; k++) {
        const each = files[(round + k) % files.length]!
        const ms = await importTime(node, each)
        if (round > 0) times[each.name]!.push(ms)
      }
    }
    for (const each of files) record.samples(`import: ${each.name}`, times[each.name]!)
    // Node's own start-up noise moves every import alike; the same round's empty-module import takes it out.
    const floor = times[EMPTY]!
    for (const each of files.filter((file) => file.name !== EMPTY)) {
      record.samples(
        `import minus the empty module, same round: ${each.name}`,
        times[each.name]!.map((ms, i) => ms - floor[i]!),
      )
    }
    for (const name of LAMBDAS) {
      record.compare(
        `${name}: import as deployed, against @upstash/redis alone`,
        'ours',
        times[`${name} bundle, ${asDeployed}`]!,
        '@upstash/redis alone',
        times[UPSTASH]!,
      )
    }
    record.compare(
      `http: import as deployed, against ${SOURCE_MAPS} (before)`,
      'as deployed',
      times[`http bundle, ${asDeployed}`]!,
      SOURCE_MAPS,
      times[`http bundle, ${SOURCE_MAPS} (before)`]!,
    )

    for (const each of built.filter((bundle) => bundle.name !== 'cli')) {
      const kib = each.ownBytes / 1024
      record.target(
        `${each.name} bundle: own code and Lua`,
        `<= ${OWN_MAX_KIB} KiB`,
        `${round1(kib)} KiB${kib > OWN_MAX_KIB ? ` (${ownShare(each)})` : ''}`,
        kib <= OWN_MAX_KIB,
      )
    }
    for (const name of LAMBDAS.filter((each) => each !== 'cleanup')) {
      const bundle = built.find((each) => each.name === name)!
      const kib = bundle.bytes / 1024
      const measure = record.result.measures.find((each) => each.name === `import: ${name} bundle, ${asDeployed}`)!.summary!
      record.target(`${name} bundle size`, `<= ${LAMBDA_MAX_KIB} KiB`, `${round1(kib)} KiB`, kib <= LAMBDA_MAX_KIB)
      record.target(
        `${name} bundle import on Node 22, ${asDeployed} (median)`,
        `<= ${LAMBDA_MAX_IMPORT_MS} ms`,
        `${measure.median.toFixed(1)} ms (p99 ${measure.p99.toFixed(1)} ms)`,
        measure.median <= LAMBDA_MAX_IMPORT_MS,
      )
    }
    const edge = built.find((each) => each.name === 'edge')!
    record.target('edge bundle size', `<= ${EDGE_MAX_KIB} KiB`, `${round1(edge.bytes / 1024)} KiB`, edge.bytes / 1024 <= EDGE_MAX_KIB)
    record.target('edge bundle Node built-ins', 'none', edge.nodeBuiltins.join(' ') || 'none', edge.nodeBuiltins.length === 0)
    record.note(
      `Import time: \`node --input-type=module -e "${IMPORT_SCRIPT}" <file>\` with ${node.includes('node22') ? 'Node 22 (tools/node22)' : node}, the Lambda runtime's major, ` +
        `the Lambda bundles with serverless.yml's NODE_OPTIONS (${deployed || 'none'}), one fresh process per sample, ${rounds} rounds rotating through the files (plus one discarded round). ` +
        `Sizes are of the minified files from buildBundles(), in KiB (1,024 bytes); "own code and Lua" is what esbuild's metafile counts of each file from outside node_modules; ` +
        'the zips are what `serverless package --stage dev` writes (osls, offline).',
    )
    return record.result
  } finally {
    rmSync(outdir, { recursive: true, force: true })
  }
}

/** Where the bytes of a bundle's own code and Lua go, its largest modules first, to say why it is over its bound. */
function ownShare(bundle: BuiltBundle): string {
  return bundle.ownModules
    .slice(0, 6)
    .map((each) => `${each.path} ${round1(each.bytes / 1024)}`)
    .join(', ')
}

const fileOf = (built: BuiltBundle[], name: string): string => built.find((each) => each.name === name)!.file

/** Each function's deployment zip size, from a real `serverless package` on a fresh copy of the service. */
async function zipSizes(): Promise<Array<[string, number]>> {
  const service = await copyService()
  try {
    // Settings are empty here: nothing is deployed, only the zips are read.
    const run = await runServerless(service.dir, ['package', '--stage', 'dev'], { env: { MESA_ALLOW_EMPTY_SETTINGS: 'true' }, timeoutMs: 180_000 })
    if (run.code !== 0) throw new Error(`serverless package failed:\n${describeRun(run)}`)
    return LAMBDAS.map((name) => [name, statSync(join(service.dir, '.serverless', `${name}.zip`)).size])
  } finally {
    await service.close()
  }
}

/** Bundles one package alone as a minified ESM file for Node, the way a Lambda bundle would carry it. */
async function bundleAlone(outdir: string, name: string, contents: string): Promise<{ file: string; bytes: number }> {
  const file = join(outdir, name, 'index.mjs')
  await build({
    stdin: { contents, resolveDir: ROOT, loader: 'js' },
    outfile: file,
    bundle: true,
    minify: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    logLevel: 'silent',
    // ioredis is CommonJS and requires Node built-ins, which an ESM bundle can only reach through createRequire;
    // the Lambda bundles' conditions are used, so @upstash/redis resolves to the same build they carry.
    conditions: ['module'],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  })
  return { file, bytes: statSync(file).size }
}

/** The error esbuild reports when asked to bundle @cryb/mesa. */
async function mesaBuildError(): Promise<string> {
  try {
    await build({
      stdin: { contents: "import '@cryb/mesa'", resolveDir: ROOT, loader: 'js' },
      bundle: true,
      write: false,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
    })
    return 'unexpectedly, it built'
  } catch (error) {
    const errors = (error as { errors?: Array<{ text: string; location?: { file: string; line: number } | null }> }).errors ?? []
    return errors.map((each) => `"${each.text}"${each.location ? ` at ${each.location.file}:${each.location.line}` : ''}`).join('; ') || String(error)
  }
}

function importTime(node: string, { file, nodeOptions }: ImportTarget): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(node, ['--input-type=module', '-e', IMPORT_SCRIPT, pathToFileURL(file).href], {
      env: { ...IMPORT_ENV, NODE_OPTIONS: nodeOptions },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let out = ''
    let err = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()))
    child.once('error', reject)
    child.once('close', (code) => {
      const ms = Number(out)
      if (code === 0 && Number.isFinite(ms)) resolve(ms)
      else reject(new Error(`importing ${file} failed (exit ${code}): ${out}${err}`))
    })
  })
}

function round1(value: number): number {
  return Math.round(value * 10) / 10
}
