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

// How the transform names a class declaration: a static block calling `__name`. The bundler counts any static block
// as a side effect, so it would keep every such class even where nothing uses it (the Dispatcher's questions in the
// SQS bundle, which builds its dispatching half alone). A static `name` field holding the string names the class the
// same way (`constructor.name`), and a class whose fields are plain values is one the bundler can drop.
const CLASS_NAMING = /static \{\n(\s*)__name\(this, ("[^"\\]+")\);\n(\s*)\}/g
// Three lines for three, so that the inline map's line numbers still hold.
const namedByField = (/** @type {string} */ _, /** @type {string} */ indent, /** @type {string} */ name, /** @type {string} */ closing) =>
  `static name =\n${indent}${name};\n${closing}`

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
        const contents = `import { __name } from ${JSON.stringify(HELPER)};\n\n${code.slice(INLINE_HELPER.length).replace(CLASS_NAMING, namedByField)}`
        return { contents, loader: 'js' }
      })
    },
  }
}
