// @ts-check
// Builds what `npm pack` ships into lib/: `node scripts/build-package.mjs` (npm run build:package, run by prepack).
//   lib/esm  ESM JavaScript and .d.ts of the three entry points (tsconfig.build.json)
//   lib/cjs  the same as CommonJS, with CommonJS .d.ts (tsconfig.build.cjs.json)
//   lib/cli  the `mesa-dispatch` bin, one executable file bundled by esbuild.config.mjs
// lib/, not dist/: dist/<fn>/ holds the deployed functions' bundles, and `npm run build` empties each of them.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { buildBundles } from '../esbuild.config.mjs'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const LIB = join(root, 'lib')
const TSC = join(root, 'node_modules', 'typescript', 'bin', 'tsc')

/** Each compiled tree: its folder under lib/, its tsconfig and the module type Node must load its .js files as. */
const TREES = [
  { dir: 'esm', tsconfig: 'tsconfig.build.json', type: 'module' },
  { dir: 'cjs', tsconfig: 'tsconfig.build.cjs.json', type: 'commonjs' },
]

/**
 * The package.json written beside each compiled tree. Its `type` tells Node (and TypeScript) how to load the .js
 * and .d.ts files in it. Being the nearest package.json, it is also where Node resolves their `#tcp-transport`
 * import, so it carries the root's `imports` with every ./src/….ts target turned into the compiled ./….js: the
 * root's map stays on the sources, which vitest, tsx, esbuild and tsc read with no extra condition.
 * @param {string} type
 * @param {Record<string, Record<string, string>>} imports  the root package.json's `imports`
 */
export function treePackageJson(type, imports) {
  const compiled = Object.fromEntries(
    Object.entries(imports).map(([name, targets]) => [
      name,
      Object.fromEntries(Object.entries(targets).map(([condition, target]) => [condition, target.replace(/^\.\/src\/(.+)\.ts$/, './$1.js')])),
    ]),
  )
  return { type, imports: compiled }
}

/** One file of each part, written last by its step: all three present means a finished build. */
const BUILT = ['esm/package.json', 'cjs/package.json', 'cli/package.json']

/** Runs the project's own tsc on one config, failing with its output. */
function tsc(/** @type {string} */ tsconfig) {
  if (!existsSync(TSC)) throw new Error(`TypeScript is missing (${TSC}): run \`npm ci\` (it is a devDependency)`)
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [TSC, '-p', join(root, tsconfig)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    child.once('error', reject)
    child.once('close', (code) => (code === 0 ? resolvePromise(undefined) : reject(new Error(`tsc -p ${tsconfig} failed (exit ${code}):\n${output}`))))
  })
}

/** Empties lib/ and builds all three parts into it. */
export async function buildPackage() {
  await rm(LIB, { recursive: true, force: true })
  const { imports } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
  await Promise.all([
    ...TREES.map(async ({ dir, tsconfig, type }) => {
      await tsc(tsconfig)
      await writeFile(join(LIB, dir, 'package.json'), `${JSON.stringify(treePackageJson(type, imports), null, 2)}\n`)
    }),
    buildBundles({ only: ['cli'], outdir: LIB }),
  ])
}

// Run as a script; it reports on stderr, so that `npm pack --json` (which runs it as prepack) prints only JSON on
// stdout. `--if-missing` is for the `prepare` script: npm runs prepare, and never prepack, when it installs
// the package from git, but it also runs prepare after prepack in `npm pack`, and on every `npm ci` of this repo;
// lib/ is then built once, by whichever comes first.
if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  if (process.argv.includes('--if-missing') && BUILT.every((file) => existsSync(join(LIB, file)))) {
    console.error('lib/ is already built; `npm run build:package` rebuilds it')
  } else {
    await buildPackage()
    console.error('built lib/esm, lib/cjs and lib/cli')
  }
}
