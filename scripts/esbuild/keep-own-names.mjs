// @ts-check
// An esbuild plugin that keeps the names of this project's own classes, and of its functions where no map can.
//
// esbuild's `keepNames` is all or nothing: for the Lambda bundles it costs 17-18 KB, 15 KB of which are the
// hundreds of command classes and methods of @upstash/redis, whose names no error or stack of ours shows. This
// plugin names our TypeScript alone (src/, functions/). A class's name is what code reads (`error.constructor.name`,
// invoke local's `errorType`), so every class of ours keeps it, as a static `name` field. A function's name only
// shows in a stack frame, and a bundle that ships a source map gets it back from the map's `names` when it formats
// a stack (src/triggers/mapped-stacks.ts), as Node's --enable-source-maps does: naming each function there would
// cost 4-5 KB a bundle. A bundle without a map (the CLI) keeps function names too, through esbuild's own keepNames
// transform, with each file's copy of its `__name` helper pointed at one shared module, so a bundle carries it once.
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

// A class declaration as the transform writes it, on a line of its own (its members start on the next line).
const CLASS_HEADER = /^(\s*)class ([\w$]+)( extends [\w$.]+)? \{$/gm
const CLASS_KEYWORD = /\bclass\s+[\w$]+/g
// The same static field at the end of the header's line: no line moves, and nothing after it on that line does.
const classNamedByField = (/** @type {string} */ header, /** @type {string} */ _indent, /** @type {string} */ name) =>
  `${header} static name = ${JSON.stringify(name)};`

/**
 * Keeps class names in the files that `isOwn` accepts (by absolute path), and function names too when `functions`
 * says so (a bundle with no source map to name them from), as `keepNames` would.
 * @param {{ isOwn: (path: string) => boolean, tsconfigRaw: string | import('esbuild').TsconfigRaw, functions: boolean }} options
 * @returns {import('esbuild').Plugin}
 */
export function keepOwnNames({ isOwn, tsconfigRaw, functions }) {
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
          keepNames: functions,
          sourcemap: 'inline',
          sourcefile: args.path,
          tsconfigRaw,
        })
        if (!functions) return { contents: nameClasses(args.path, code), loader: 'js' }
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

/** Gives every class declared in `code` a static `name` field, refusing a declaration written in a shape it does not know. */
function nameClasses(/** @type {string} */ path, /** @type {string} */ code) {
  const named = code.replace(CLASS_HEADER, classNamedByField)
  const declared = code.match(CLASS_KEYWORD)?.length ?? 0
  const headers = code.match(CLASS_HEADER)?.length ?? 0
  if (headers !== declared) {
    throw new Error(`${path}: a class declaration the transform wrote in a new shape; update CLASS_HEADER in scripts/esbuild/keep-own-names.mjs`)
  }
  return named
}
