import type { SourceMap } from 'node:module'

// Stacks in the Lambda bundles point into one minified line: `index.js:1:1039`. NODE_OPTIONS=--enable-source-maps
// maps them to src/ by parsing the bundle's source map while the bundle loads, on every cold start, whether or not
// an error ever comes (it was a third of the import). V8 instead formats a stack only when `error.stack` is first
// read (https://v8.dev/docs/stack-trace-api#customizing-stack-traces), so a formatter of our own reads the map then,
// at the first error that is logged or thrown to the runtime, and an instance that never fails never reads it.
// Node's modules are reached through process.getBuiltinModule (Node 20.16+, 22.3+) rather than imported: importing
// node:fs or node:module from ESM loads every module behind their exports (fs/promises, readline, source maps…).

/** Where the minified code of one bundle lies, and the source map beside it. */
interface Bundle {
  /** The bundle's URL as V8 names it in a frame: `file:///var/task/dist/http/index.js`. */
  readonly url: string
  readonly mapUrl: URL
  /** Parsed at the first stack with a frame in the bundle; null when it cannot be read, and frames stay as they are. */
  map?: SourceMap | null
}

/**
 * Maps every stack frame in the bundle at `bundleUrl` (the entry's `import.meta.url`) to the source file, line and
 * column it was built from, through `<bundle>.map`, read at the first stack formatted with such a frame. Frames
 * elsewhere (Node's, the runtime's) are formatted as V8 would; a formatter installed before is kept for stacks
 * that have no frame of the bundle. Code that is not a bundle with a map beside it (the sources, run by tsx or
 * vitest) is left to whatever formats its stacks.
 */
export function mapStacksLazily(bundleUrl: string): void {
  const bundle: Bundle = { url: bundleUrl, mapUrl: new URL(`${bundleUrl}.map`) }
  if (!process.getBuiltinModule('node:fs').existsSync(bundle.mapUrl)) return
  const previous = Error.prepareStackTrace
  Error.prepareStackTrace = (error, sites) => {
    if (previous && !sites.some((site) => site.getFileName() === bundle.url)) return previous(error, sites)
    return [headerOf(error), ...sites.map((site, index) => `    at ${frameOf(site, sites[index + 1], bundle)}`)].join('\n')
  }
}

/** The stack's first line as V8 writes it: `ConfigError: UPSTASH_REDIS_REST_URL must be set`. */
function headerOf(error: Error): string {
  try {
    return Error.prototype.toString.call(error)
  } catch {
    return '<error>'
  }
}

/**
 * A frame as V8 writes it, `name (file:line:column)`, with a location in the bundle replaced by the one in its source,
 * and a function's minified name by its own: the bundles keep our class names but not our functions' (they would
 * cost 4-5 KB each, scripts/esbuild/keep-own-names.mjs), which the map's `names` give back.
 */
function frameOf(site: NodeJS.CallSite, caller: NodeJS.CallSite | undefined, bundle: Bundle): string {
  const text = String(site)
  if (site.getFileName() !== bundle.url) return text
  const line = site.getLineNumber()
  const column = site.getColumnNumber()
  const map = mapOf(bundle)
  if (!map || line === null || column === null) return text
  const entry = map.findEntry(line - 1, column - 1) as Partial<{ originalSource: string; originalLine: number; originalColumn: number }>
  if (entry.originalSource === undefined || entry.originalLine === undefined || entry.originalColumn === undefined) return text
  // The map names its sources relative to itself (esbuild writes `../../src/errors.ts`).
  const source = process.getBuiltinModule('node:url').fileURLToPath(new URL(entry.originalSource, bundle.mapUrl))
  const mapped = text.replace(`${bundle.url}:${line}:${column}`, `${source}:${entry.originalLine + 1}:${entry.originalColumn + 1}`)
  const name = site.getFunctionName()
  // Only a plain `name (…)` frame: a method's name is a property, which minifying leaves as written.
  if (!name || !mapped.startsWith(`${name} (`)) return mapped
  const original = nameCalledAt(caller, bundle, map)
  return original ? original + mapped.slice(name.length) : mapped
}

/**
 * The name the source gave what was called at the caller's frame, which is the frame above it: the map names the
 * identifiers minifying renamed (Node's --enable-source-maps names frames the same way). A function's own
 * position names nothing, since esbuild maps a declaration from its `function` keyword.
 */
function nameCalledAt(caller: NodeJS.CallSite | undefined, bundle: Bundle, map: SourceMap): string | undefined {
  const line = caller?.getLineNumber()
  const column = caller?.getColumnNumber()
  if (caller?.getFileName() !== bundle.url || caller.isAsync() || !line || !column) return undefined
  return (map.findEntry(line - 1, column - 1) as { name?: string }).name
}

function mapOf(bundle: Bundle): SourceMap | null {
  if (bundle.map === undefined) {
    try {
      const { readFileSync } = process.getBuiltinModule('node:fs')
      const { SourceMap } = process.getBuiltinModule('node:module')
      bundle.map = new SourceMap(JSON.parse(readFileSync(bundle.mapUrl, 'utf8')))
    } catch {
      bundle.map = null
    }
  }
  return bundle.map
}
