// @ts-check
// An esbuild plugin that keeps the names of this project's own functions and classes, and only theirs.
//
// esbuild's `keepNames` is all or nothing: for the Lambda bundles it costs 17-18 KB, 15 KB of which are the
// hundreds of command classes and methods of @upstash/redis, whose names no error or stack of ours shows. This
// plugin runs esbuild's own keepNames transform on our TypeScript alone (src/, functions/), then points each
// file's copy of esbuild's `__name` helper at one shared module, so a bundle carries the helper once.
// The transform's inline source map is chained by the bundle's own map, so stacks still map to src/.

import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { transform } from 'esbuild'

const HELPER = fileURLToPath(new URL('./name-helper.mjs', import.meta.url))

// What esbuild's transform puts at the top of a file that needs `__name` (esbuild's runtime, internal/runtime/runtime.go).
const INLINE_HELPER = 'var __defProp = Object.defineProperty;\nvar __name = (target, value) => __defProp(target, "name", { value, configurable: true });\n'

/**
 * Keeps function and class names in the files that `isOwn` accepts (by absolute path), as `keepNames` would.
 * @param {{ isOwn: (path: string) => boolean, tsconfigRaw: string | import('esbuild').TsconfigRaw }} options
 * @returns {import('esbuild').Plugin}
 */
export function keepOwnNames({ isOwn, tsconfigRaw }) {
  return {
    name: 'keep-own-names',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!isOwn(args.path)) return undefined
        const source = await readFile(args.path, 'utf8')
        const { code } = await transform(source, {
          loader: 'ts',
          format: 'esm',
          target: 'esnext',
          keepNames: true,
          sourcemap: 'inline',
          sourcefile: args.path,
          tsconfigRaw,
        })
        if (!code.includes('__name(')) return { contents: code, loader: 'js' }
        if (!code.startsWith(INLINE_HELPER)) {
          throw new Error(`${args.path}: esbuild's keepNames helper has changed shape; update INLINE_HELPER in scripts/esbuild/keep-own-names.mjs`)
        }
        // Same line count as the two lines replaced, so the inline map's line numbers still hold.
        const contents = `import { __name } from ${JSON.stringify(HELPER)};\n\n${code.slice(INLINE_HELPER.length)}`
        return { contents, loader: 'js' }
      })
    },
  }
}
