// Types for esbuild.config.mjs, so TypeScript tests can import it (the tsconfig does not check JavaScript).

/** One deployed function's build settings. */
export interface Bundle {
  /** The function name, also its folder under outdir. */
  name: string
  /** The entry file, relative to the project root. */
  entry: string
  /** The output file name inside `<outdir>/<name>/`. */
  file: string
  platform: 'node' | 'browser' | 'neutral'
  target: string
  format: 'esm'
  /** package.json `exports` conditions resolved besides import/default. */
  conditions: string[]
  /** Keep function and class names, so `error.constructor.name` reads `ConfigError`, not `g`. */
  keepNames: boolean | 'own'
  /** Write `<file>.map` beside the file, linked from its last line, without sourcesContent. */
  sourcemap: boolean
  /** A first line for the file; a `#!` one also makes the file executable. */
  banner?: string
}

/** What one build produced. */
export interface BuiltBundle {
  name: string
  /** Absolute path of the output file. */
  file: string
  bytes: number
  /** The source map beside the file, for bundles that have one. */
  map?: { file: string; bytes: number }
  /** Node core modules the bundle still imports (left external), sorted. */
  nodeBuiltins: string[]
  /** The npm packages whose code went into the bundle, sorted. */
  packages: string[]
  /** Bytes of the file that are this project's own code and Lua: all but what came from node_modules. */
  ownBytes: number
  /** Those bytes by source file, relative to the project (`src/script/scripts.ts`), largest first. */
  ownModules: { path: string; bytes: number }[]
}

/** One entry per deployed function: http, sqs, eventbridge (Lambda) and edge (Workers and the like); and cli. */
export const bundles: readonly Bundle[]

/**
 * Builds the bundles (all, or those named in `only`) into `<outdir>/<name>/<file>`; `override` changes keepNames or
 * sourcemap for every one, to measure what they cost. @default outdir 'dist'
 */
export function buildBundles(options?: {
  only?: string[]
  outdir?: string
  override?: Partial<Pick<Bundle, 'keepNames' | 'sourcemap'>>
}): Promise<BuiltBundle[]>
