// @ts-check
// Generates src/script/scripts.ts from the Lua files beside it: `node scripts/generate-lua.mjs` (npm run generate).
// Each script ships compacted, and test/script-source.test.ts checks that the generated file is current.
import { createHash } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { deflateSync } from 'node:zlib'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
export const SCRIPT_DIR = join(root, 'src', 'script')
export const GENERATED_FILE = join(SCRIPT_DIR, 'scripts.ts')

/**
 * Drops what in Lua is for readers, not for Redis: the header block comment, indentation, blank and comment
 * lines, and spaces around operators and punctuation outside string literals. A space before `..` stays after a
 * digit, where `1..` would read as a malformed number, and spaces around `-` stay, where `a - -1` would become a
 * comment. Long strings (`[[...]]`) other than the header are not recognised; the scripts have none.
 */
export function compactLua(/** @type {string} */ lua) {
  return lua
    .replace(/^--\[\[[\s\S]*?\]\]\n/, '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('--'))
    .map((line) =>
      line
        .split(LUA_STRINGS)
        .map((part, i) =>
          i % 2 === 1
            ? part
            : part.replace(LUA_SPACED_PUNCTUATION, (_, mark, at, code) => (mark === '..' && /\d/.test(code[at - 1] ?? '') ? ` ${mark}` : mark)),
        )
        .join(''),
    )
    .join('\n')
}

/** Single- and double-quoted Lua strings, with their escapes; split() keeps them at the odd indexes. */
const LUA_STRINGS = /('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/
const LUA_SPACED_PUNCTUATION = / *(\.\.|[=+*/,(){}[\]<>~;#]) */g

/** A line that stands for a whole file of src/script, e.g. `  -- @include dispatch/json.lua`. */
const INCLUDE = /^[ \t]*-- @include (\S+)[ \t]*$/gm

/**
 * A script's source with every `-- @include <path>` line replaced by that file of src/script (included files may
 * include others): a script is one text for Redis, but a reader gets it in parts of one concept each.
 */
export async function expandLua(/** @type {string} */ file, seen = new Set()) {
  if (seen.has(file)) throw new Error(`src/script/${file} includes itself`)
  const source = await readFile(join(SCRIPT_DIR, file), 'utf8')
  const parts = []
  for (const [line, included] of source.matchAll(INCLUDE)) parts.push([line, await expandLua(included, new Set([...seen, file]))])
  return parts.reduce((text, [line, expanded]) => text.replace(line, () => expanded.replace(/\n$/, '')), source)
}

/** `dispatch.lua` → `DISPATCH_SCRIPT`. */
const constantName = (/** @type {string} */ file) =>
  `${file
    .replace(/\.lua$/, '')
    .replace(/-/g, '_')
    .toUpperCase()}_SCRIPT`

/** Each script in src/script (its top-level .lua files), in name order: its file, the text Redis runs (compacted) and that text's SHA-1. */
export async function compactScripts() {
  const files = (await readdir(SCRIPT_DIR)).filter((file) => file.endsWith('.lua')).sort()
  const scripts = []
  for (const file of files) {
    const source = await expandLua(file)
    const header = /^--\[\[\n([\s\S]*?)\n\]\]/.exec(source)
    if (!header) throw new Error(`src/script/${file} must start with a --[[ ]] header naming its KEYS, ARGV and reply`)
    const lua = compactLua(source)
    // The header's first sentence, which may wrap over several lines.
    const summary = /^[\s\S]*?\.(?=\s|$)/.exec(header[1].split('\n\n')[0].replace(/\s*\n\s*/g, ' '))?.[0] ?? file
    scripts.push({ file, constant: constantName(file), summary, lua, sha1: createHash('sha1').update(lua).digest('hex') })
  }
  return scripts
}

/**
 * The generated module's text: the scripts compacted, joined and deflated as one text, and each script as a
 * LuaScript naming its place in it. Deflated together, the scripts share what they have in common (the clear
 * script includes the dispatch script's JSON readers): the bundles carry 8.6 KB of base64 instead of 10.9.
 */
export async function generateScripts() {
  const scripts = await compactScripts()
  const joined = scripts.map(({ lua }) => lua).join('')
  let start = 0
  const sections = scripts.map(({ file, constant, summary, lua, sha1 }) => {
    const value = { name: file.replace(/\.lua$/, ''), sha1, start, end: start + lua.length }
    start += lua.length
    const fields = JSON.stringify(value, null, 2)
      .replace(/"(\w+)":/g, '$1:')
      .replace(/\n}$/, ',\n  sources: SOURCES,\n}')
    return `/** ${summary.replace(/\.$/, '')} (src/script/${file}, compacted). */\nexport const ${constant}: LuaScript = ${fields}`
  })
  const sources = `/** Every script below, compacted and joined in this order, zlib-deflated and base64-encoded. */\nconst SOURCES: LuaSources = { deflated: '${deflateSync(joined, { level: 9 }).toString('base64')}' }`
  return `// Generated from src/script/*.lua by scripts/generate-lua.mjs (npm run generate). Do not edit.\nimport type { LuaScript, LuaSources } from './lua-script.js'\n\n${sources}\n\n${sections.join('\n\n')}\n`
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await writeFile(GENERATED_FILE, await generateScripts())
  console.log(`wrote ${GENERATED_FILE}`)
}
