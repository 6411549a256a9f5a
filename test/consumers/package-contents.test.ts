import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from './support/env'
import { npmPack } from './support/pack'

// What `npm pack --dry-run --json` would put in the tarball: the built entry points and nothing of the repo's own.
interface PackageJson {
  exports: Record<string, string | Record<string, Record<string, string>>>
  bin: Record<string, string>
  files: string[]
}

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as PackageJson
let files: string[]

beforeAll(async () => {
  files = (await npmPack(['--dry-run'])).files.map((file) => file.path).sort()
}, 180_000)

/** Every file package.json points a consumer at: each export condition's target and the bin. */
function declaredTargets(): string[] {
  const targets = Object.values(manifest.exports).flatMap((entry) =>
    typeof entry === 'string' ? [entry] : Object.values(entry).flatMap((condition) => Object.values(condition)),
  )
  return [...new Set([...targets, ...Object.values(manifest.bin)].map((target) => target.replace(/^\.\//, '')))].sort()
}

describe('npm pack', () => {
  it('packs the three compiled trees, the README, the LICENSE and package.json, and nothing else', () => {
    const tops = new Set(files.map((file) => /^lib\/[^/]+/.exec(file)?.[0] ?? file))
    expect([...tops].sort()).toEqual(['LICENSE', 'README.md', 'lib/cjs', 'lib/cli', 'lib/esm', 'package.json'])
  })

  it('holds every file the exports and the bin point at, and the package.json of each compiled tree', () => {
    const wanted = [...declaredTargets(), 'lib/cjs/package.json', 'lib/cli/package.json', 'lib/esm/package.json']
    expect(wanted.filter((file) => !files.includes(file))).toEqual([])
  })

  it('holds no tests, bench runs, dev tools, sources, source maps or build configs', () => {
    const repoOnly = /(^|\/)(test|bench|dev|functions|scripts|src|events|\.ci)\/|\.test\.|\.map$|\.tsbuildinfo$|tsconfig|esbuild\.config|serverless\.yml|\.lua$/
    expect(files.filter((file) => repoOnly.test(file))).toEqual([])
  })
})
