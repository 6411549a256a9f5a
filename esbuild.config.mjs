// @ts-check
// Builds one self-contained ESM file per deployed entry point, and the CLI: `node esbuild.config.mjs` (npm run build).

import { chmod, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { builtinModules } from 'node:module'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { keepOwnNames } from './scripts/esbuild/keep-own-names.mjs'

const root = dirname(fileURLToPath(import.meta.url))

/**
 * @typedef {object} Bundle
 * @property {string} name        the function name, also its folder under outdir
 * @property {string} entry       the entry file, relative to this config
 * @property {string} file        the output file name inside `<outdir>/<name>/`
 * @property {'node' | 'browser' | 'neutral'} platform
 * @property {string} target
 * @property {'esm'} format
 * @property {string[]} conditions  package.json `exports` conditions to resolve with, besides import/default
 * @property {boolean | 'own'} keepNames  keep function and class names (`error.constructor.name` reads `ConfigError`,
 *   not `g`): of every module, or of this project's own (src/, functions/) alone: its classes, and its functions too
 *   in a bundle without a source map (with one, a formatted stack takes their names from the map)
 * @property {boolean} sourcemap   write `<file>.map` beside the file, linked from its last line, without sourcesContent
 * @property {string} [banner]      a first line for the file; a `#!` one also makes the file executable
 */

/**
 * @typedef {object} BuiltBundle
 * @property {string} name
 * @property {string} file          absolute path of the output file
 * @property {number} bytes
 * @property {{ file: string, bytes: number }} [map]  the source map beside the file, for bundles that have one
 * @property {string[]} nodeBuiltins Node core modules the bundle still imports (left external), sorted
 * @property {string[]} packages    the npm packages whose code went into the bundle, sorted
 * @property {number} ownBytes      bytes of the file that are this project's own code and Lua (all but node_modules')
 * @property {{ path: string, bytes: number }[]} ownModules  those bytes by source file (relative), largest first
 */

// Lambda (nodejs22.x). The file is `index.js` beside a `{"type":"module"}` package.json rather than `index.mjs`:
// Lambda loads both as ESM, but `serverless invoke local` only finds a handler through require(), which resolves
// `.js` (then retries it with import()) and never `.mjs`. `module` is esbuild's default condition for node,
// listed here because naming any condition drops the defaults. `rest-only` gives `#tcp-transport` the REST-only
// stub (src/transport/rest-only.ts, package.json `imports`): the functions reach Redis at UPSTASH_REDIS_REST_URL, never over TCP. Our own class names are kept (not those of
// node_modules, nor our functions', which the map gives back: scripts/esbuild/keep-own-names.mjs says why) and a
// source map ships beside each bundle, which the functions read at their first formatted stack
// (src/triggers/mapped-stacks.ts), so a Lambda error reads `ConfigError` at `src/http-url.ts:9:11` instead of `g`
// at `index.js:1:1039`. The map leaves the sources out (sourcesContent):
// Node needs only the mappings to rewrite a stack, and they would more than double the zip.
/** @type {Omit<Bundle, 'name' | 'entry'>} */
const lambda = {
  file: 'index.js',
  platform: 'node',
  target: 'node22',
  format: 'esm',
  conditions: ['module', 'rest-only'],
  keepNames: 'own',
  sourcemap: true,
}

/** @type {readonly Bundle[]} One entry per deployed function, and the `mesa-dispatch` CLI. */
export const bundles = [
  { name: 'http', entry: 'functions/http.ts', ...lambda },
  { name: 'sqs', entry: 'functions/sqs.ts', ...lambda },
  { name: 'eventbridge', entry: 'functions/eventbridge.ts', ...lambda },
  { name: 'cleanup', entry: 'functions/cleanup.ts', ...lambda },
  // Workers / Vercel Edge / Deno / Bun. These conditions make `uncrypto` (from @upstash/redis) resolve to its Web
  // Crypto build instead of `node:crypto`; es2022 is what every one of those runtimes runs natively. No kept names:
  // even our own would add about 4 KB to a bundle already over its 100 KiB budget, and every error class sets its
  // own `name`, which is what the edge handler reports. The map costs the bundle one comment line; a deploy tool that
  // uploads source maps (wrangler's upload_source_maps, or its bundler chaining input maps) picks it up.
  {
    name: 'edge',
    entry: 'functions/edge.ts',
    file: 'index.mjs',
    platform: 'browser',
    target: 'es2022',
    format: 'esm',
    conditions: ['workerd', 'worker', 'browser'],
    keepNames: false,
    sourcemap: true,
  },
  // The package's `bin` (`npx mesa-dispatch`), for the oldest Node the package supports (engines: >=20). Not deployed:
  // scripts/build-package.mjs builds it into lib/cli for the npm package; `npm run build` puts a copy in dist/cli.
  // Names kept, so a crash prints `ConfigError: …` rather than `g [ConfigError]: …`; no map, which the package
  // would have to ship and `npx` never runs with --enable-source-maps.
  {
    name: 'cli',
    entry: 'src/cli/main.ts',
    file: 'index.js',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    conditions: ['module'],
    keepNames: 'own',
    sourcemap: false,
    banner: '#!/usr/bin/env node',
  },
]

// The core builds on the class every @upstash/redis entry extends (src/transport/rest.ts) and never runs an
// entry's own constructor, so every bundle takes the smallest entry, `/fastly`: the main one adds 3 KB of search
// helpers and env reading that nothing here uses.
const UPSTASH_ENTRY = { '@upstash/redis': '@upstash/redis/fastly' }

// uncrypto (@upstash/redis takes `subtle` from it, for the SHA-1 of a script it is given as text, which this package never
// does) builds for Node on `import nodeCrypto from 'node:crypto'`: as an ES module import, Node loads all of crypto's
// exports at it, about 5 ms of every cold start on Node 22, where its Web Crypto build, the one it gives Workers,
// Deno and Bun, reads `globalThis.crypto.subtle` for half that. Node 22's globalThis.crypto is that Web Crypto.
const UNCRYPTO_WEB = join(root, 'node_modules', 'uncrypto', 'dist', 'crypto.web.mjs')
/** @type {import('esbuild').Plugin} */
const webCrypto = { name: 'uncrypto-web', setup: (build) => build.onResolve({ filter: /^uncrypto$/ }, () => ({ path: UNCRYPTO_WEB })) }

// Core modules are kept external everywhere, so a Node import in the edge bundle is reported by name (and fails
// `npm run build`) instead of surfacing as esbuild's "could not resolve" error.
const NODE_BUILTINS = ['node:*', ...builtinModules]
const isNodeBuiltin = (/** @type {string} */ path) => path.startsWith('node:') || builtinModules.includes(path.split('/')[0] ?? path)

// Our own sources, whose class names `keepNames: 'own'` keeps; node_modules (and @upstash/redis's hundreds of command
// classes, 15 KB of names in a Lambda bundle) stay minified.
const OWN_DIRS = ['src', 'functions'].map((dir) => join(root, dir) + sep)
const isOwn = (/** @type {string} */ path) => OWN_DIRS.some((dir) => path.startsWith(dir))
// esbuild parses tsconfig.json's comments itself when given its text.
const TSCONFIG = await readFile(join(root, 'tsconfig.json'), 'utf8')

/**
 * Builds the bundles (all, or those named in `only`) into `<outdir>/<name>/<file>`, minified, with nothing from
 * node_modules left external. None of @aws-lambda-powertools/batch, hono/aws-lambda or @upstash/redis
 * calls `require` in its ESM build, so no `createRequire` banner is needed, and nothing imports @aws-sdk/*.
 * `override` changes keepNames or sourcemap for every bundle built, to measure what they cost (bench case 7).
 * @param {{ only?: string[], outdir?: string, override?: Partial<Pick<Bundle, 'keepNames' | 'sourcemap'>> }} [options]
 * @returns {Promise<BuiltBundle[]>}
 */
export async function buildBundles({ only, outdir = 'dist', override = {} } = {}) {
  const unknown = (only ?? []).filter((name) => !bundles.some((bundle) => bundle.name === name))
  if (unknown.length > 0) throw new Error(`unknown bundle(s): ${unknown.join(', ')}; known: ${bundles.map((b) => b.name).join(', ')}`)
  const selected = bundles.filter((bundle) => !only || only.includes(bundle.name)).map((bundle) => ({ ...bundle, ...override }))
  return Promise.all(
    selected.map(async (bundle) => {
      const dir = resolve(root, outdir, bundle.name)
      const file = join(dir, bundle.file)
      await rm(dir, { recursive: true, force: true })
      const { metafile } = await build({
        absWorkingDir: root,
        entryPoints: [bundle.entry],
        outfile: file,
        bundle: true,
        minify: true,
        keepNames: bundle.keepNames === true,
        plugins: [
          ...(bundle.keepNames === 'own' ? [keepOwnNames({ isOwn, tsconfigRaw: TSCONFIG, functions: !bundle.sourcemap })] : []),
          ...(bundle.platform === 'node' && bundle.target === 'node22' ? [webCrypto] : []),
        ],
        metafile: true,
        sourcemap: bundle.sourcemap ? 'linked' : false,
        sourcesContent: false,
        logLevel: 'warning',
        platform: bundle.platform,
        target: bundle.target,
        format: bundle.format,
        conditions: bundle.conditions,
        alias: UPSTASH_ENTRY,
        external: NODE_BUILTINS,
        ...(bundle.banner ? { banner: { js: bundle.banner } } : {}),
      })
      if (bundle.banner?.startsWith('#!')) await chmod(file, 0o755)
      // Marks `index.js` as ESM for Lambda and Node; the edge file says so with its `.mjs` extension.
      if (bundle.file.endsWith('.js')) await writeFile(join(dir, 'package.json'), '{"type":"module"}\n')
      const output = metafile.outputs[relative(root, file).split('\\').join('/')]
      if (!output) throw new Error(`esbuild reported no output for ${bundle.name}`)
      const nodeBuiltins = [...new Set(output.imports.filter((each) => each.external && isNodeBuiltin(each.path)).map((each) => each.path))].sort()
      const ownModules = Object.entries(output.inputs)
        .filter(([path, input]) => !path.includes('node_modules/') && input.bytesInOutput > 0)
        .map(([path, input]) => ({ path, bytes: input.bytesInOutput }))
        .sort((a, b) => b.bytes - a.bytes)
      const ownBytes = ownModules.reduce((sum, each) => sum + each.bytes, 0)
      const result = {
        name: bundle.name,
        file,
        bytes: (await stat(file)).size,
        nodeBuiltins,
        packages: packagesIn(Object.keys(metafile.inputs)),
        ownBytes,
        ownModules,
      }
      return bundle.sourcemap ? { ...result, map: { file: `${file}.map`, bytes: (await stat(`${file}.map`)).size } } : result
    }),
  )
}

/** The package names (`hono`, `@upstash/redis`) behind esbuild's input paths. */
function packagesIn(/** @type {string[]} */ inputs) {
  const names = inputs
    .filter((path) => path.includes('node_modules/'))
    .map((path) => {
      const [first = '', second = ''] = path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length).split('/')
      return first.startsWith('@') ? `${first}/${second}` : first
    })
  return [...new Set(names)].sort()
}

// Run as a script: build everything, print sizes, and fail if the edge bundle would need Node.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const built = await buildBundles()
  const header = ['bundle', 'file', 'bytes', 'KiB', 'own KiB', 'map KiB', 'node built-ins']
  const rows = built.map((each) => [
    each.name,
    relative(process.cwd(), each.file),
    String(each.bytes),
    (each.bytes / 1024).toFixed(1),
    (each.ownBytes / 1024).toFixed(1),
    each.map ? (each.map.bytes / 1024).toFixed(1) : '-',
    each.nodeBuiltins.join(' ') || '-',
  ])
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)))
  for (const row of [header, ...rows])
    console.log(
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
  const edge = built.find((each) => each.name === 'edge')
  if (edge && edge.nodeBuiltins.length > 0) {
    console.error(`edge bundle imports Node built-ins (${edge.nodeBuiltins.join(', ')}); it must run without Node`)
    process.exitCode = 1
  }
}
