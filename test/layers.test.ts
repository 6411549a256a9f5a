import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { ROOT } from './support/serverless-cli'

// The source tree's layers, read from the imports themselves: the folders say what each entry point is made of only
// while these rules hold. Type-only imports count, since they tie the files together for a reader all the same.
const SRC = join(ROOT, 'src')
const PACKAGE = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { imports: Record<string, Record<string, string>> }

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )
}

/** Every module a file imports, as paths relative to the project root (`#` imports: every file they can map to). */
function importsOf(file: string): string[] {
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
  return importedFiles.flatMap(({ fileName }) => {
    if (fileName.startsWith('#')) return Object.values(PACKAGE.imports[fileName] ?? {}).map((target) => relative(ROOT, resolve(ROOT, target)))
    if (!fileName.startsWith('.')) return [`package:${fileName}`]
    return [relative(ROOT, resolve(dirname(file), fileName.replace(/\.js$/, '.ts')))]
  })
}

const files = walk(SRC).map((file) => relative(ROOT, file))
const graph = new Map(files.map((file) => [file, importsOf(join(ROOT, file))]))
/** What every layer may import: the errors and their chains, the limits, the types they name, the webhook signature and the URL check. */
const SHARED = ['src/errors.ts', 'src/error-chain.ts', 'src/limits.ts', 'src/core/types.ts', 'src/signature.ts', 'src/http-url.ts']
const layer = (file: string) => /^src\/([^/]+)\//.exec(file)?.[1] ?? relative('src', file)

/** Each import from `from` into a folder it must not reach, as `importer -> imported`. */
function crossings(from: string[], forbidden: (imported: string) => boolean): string[] {
  return [...graph]
    .filter(([file]) => from.includes(layer(file)))
    .flatMap(([file, imports]) => imports.filter(forbidden).map((imported) => `${file} -> ${imported}`))
}

describe('the layers of src', () => {
  it('keep core, script and transport free of the entry points above them', () => {
    const above = ['http', 'triggers', 'client', 'cli', 'observe']
    expect(crossings(['core', 'script', 'transport'], (imported) => above.includes(layer(imported)))).toEqual([])
  })

  it('keep the HTTP app and the event triggers apart: each stands on core alone', () => {
    expect([
      ...crossings(['http'], (imported) => layer(imported) === 'triggers'),
      ...crossings(['triggers'], (imported) => layer(imported) === 'http'),
    ]).toEqual([])
  })

  it('keep script and transport below core', () => {
    expect(crossings(['script', 'transport'], (imported) => layer(imported) === 'core')).toEqual([])
  })

  it('let the client import nothing but its own files and the shared leaves, so it bundles for any runtime alone', () => {
    expect(crossings(['client'], (imported) => !imported.startsWith('src/client/') && !SHARED.includes(imported))).toEqual([])
  })

  it('keep the shared leaves leaves: they import nothing but each other', () => {
    const outside = SHARED.flatMap((file) =>
      graph
        .get(file)!
        .filter((imported) => !SHARED.includes(imported))
        .map((imported) => `${file} -> ${imported}`),
    )
    expect(outside).toEqual([])
  })

  it('keep src from reaching functions/, dev/, test/ or bench/', () => {
    expect(crossings([...new Set(files.map(layer))], (imported) => /^(functions|dev|test|bench)\//.test(imported))).toEqual([])
  })

  it('have no import cycles', () => {
    const cycles: string[] = []
    const state = new Map<string, 'open' | 'done'>()
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done' || !graph.has(file)) return
      if (state.get(file) === 'open') return void cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '))
      state.set(file, 'open')
      for (const imported of graph.get(file)!) visit(imported, [...path, file])
      state.set(file, 'done')
    }
    for (const file of files) visit(file, [])
    expect(cycles).toEqual([])
  })
})
