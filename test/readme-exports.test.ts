import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { ROOT } from './support/serverless-cli'

// docs/library.md names every public export of each entry point, as the README's Install section says; this keeps
// that list true.
const ENTRIES: Record<string, string> = {
  'mesa-dispatch-serverless': 'src/index.ts',
  'mesa-dispatch-serverless/client': 'src/client/index.ts',
  'mesa-dispatch-serverless/http': 'src/http/index.ts',
}

interface PublicNames {
  count: number
  values: string[]
  types: string[]
}

const LIBRARY = readFileSync(join(ROOT, 'docs', 'library.md'), 'utf8')
const program = ts.createProgram(
  Object.values(ENTRIES).map((file) => join(ROOT, file)),
  { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, strict: true, noEmit: true, types: [] },
)
const checker = program.getTypeChecker()

/** What an entry point exports, as TypeScript sees it: values (classes, functions) and type-only names. */
function exportsOf(file: string): PublicNames {
  const module = checker.getSymbolAtLocation(program.getSourceFile(join(ROOT, file))!)!
  const symbols = checker.getExportsOfModule(module)
  const isValue = (symbol: ts.Symbol) => ((symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol).flags & ts.SymbolFlags.Value) !== 0
  const names = (list: ts.Symbol[]) => list.map((symbol) => symbol.name).sort()
  return { count: symbols.length, values: names(symbols.filter(isValue)), types: names(symbols.filter((symbol) => !isValue(symbol))) }
}

/** What the library page's bullet for an entry point lists: `- **`entry`** (N names): … Values `a`, …; types `b`, ….` */
function listedNames(entry: string): PublicNames {
  const bullet = LIBRARY.split('\n- ').find((block) => block.startsWith(`**\`${entry}\`**`))
  if (!bullet) throw new Error(`docs/library.md has no "- **\`${entry}\`**" bullet`)
  const count = /\((\d+) names\)/.exec(bullet)?.[1]
  const lists = /Values ([\s\S]*?);\s+types ([\s\S]*?)\.\s*$/.exec(bullet)
  if (count === undefined || !lists) throw new Error(`docs/library.md's bullet for ${entry} lacks "(N names)" or "Values …; types ….": ${bullet}`)
  const names = (list: string) => [...list.matchAll(/`([^`]+)`/g)].map((match) => match[1]!).sort()
  return { count: Number(count), values: names(lists[1]!), types: names(lists[2]!) }
}

describe("docs/library.md's list of public names", () => {
  it.each(Object.entries(ENTRIES))('names exactly what %s exports', (entry, file) => {
    expect(listedNames(entry)).toEqual(exportsOf(file))
  })
})
