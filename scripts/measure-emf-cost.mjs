// @ts-check
// What writing EMF metrics costs a Lambda bundle, measured for the two ways weighed in CONTRIBUTING.md ("Libraries,
// and why"): our writer (src/observe) and Powertools Metrics. Each is bundled as the functions are (esbuild, minified,
// node22 ESM) and imported in fresh Node processes, the variants interleaved in random order, each round's
// empty-module import subtracted. Powertools is installed into a temp folder (it is not a dependency):
//
//   node scripts/measure-emf-cost.mjs [rounds=61]

import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { build } from 'esbuild'

const root = dirname(dirname(fileURLToPath(import.meta.url)))
const POWERTOOLS = '@aws-lambda-powertools/metrics@2.35.0'
const rounds = Number(process.argv[2] ?? 61)
const dir = mkdtempSync(join(tmpdir(), 'mesa-emf-cost-'))

try {
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--no-save', '--prefix', dir, POWERTOOLS], { stdio: 'ignore' })
  const entries = {
    empty: 'export const metrics = undefined',
    ours: `import { createEmfMetrics } from ${JSON.stringify(join(root, 'src/observe/dispatch-metrics.ts'))}\nexport const metrics = createEmfMetrics({ namespace: 'MesaDispatch' })`,
    powertools:
      "import { Metrics } from '@aws-lambda-powertools/metrics'\nexport const metrics = new Metrics({ namespace: 'MesaDispatch', serviceName: 'mesa-dispatch' })",
  }
  /** @type {Record<string, string>} */
  const files = {}
  for (const [name, code] of Object.entries(entries)) {
    const entry = join(dir, `${name}-entry.ts`)
    writeFileSync(entry, code)
    files[name] = join(dir, `${name}.mjs`)
    await build({
      entryPoints: [entry],
      outfile: files[name],
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      logLevel: 'warning',
    })
  }
  const script = 'const s = performance.now(); await import(process.argv[1]); process.stdout.write(String(performance.now() - s))'
  /** @type {Record<string, number[]>} */
  const samples = Object.fromEntries(Object.keys(files).map((name) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    for (const name of Object.keys(files).sort(() => Math.random() - 0.5)) {
      const out = execFileSync(process.execPath, ['--input-type=module', '-e', script, pathToFileURL(files[name] ?? '').href], {
        env: { PATH: process.env.PATH },
      })
      samples[name]?.push(Number(out.toString()))
    }
  }
  const median = (/** @type {number[]} */ values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN
  console.log(`${rounds} rounds; import time in a fresh node ${process.version} process, median, minus the empty module's in the same round`)
  for (const name of ['ours', 'powertools']) {
    const own = samples[name] ?? []
    const extra = median(own.map((value, i) => value - (samples.empty?.[i] ?? 0)))
    console.log(`${name.padEnd(10)} ${String(statSync(files[name] ?? '').size).padStart(6)} bytes minified  +${extra.toFixed(2)} ms`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
