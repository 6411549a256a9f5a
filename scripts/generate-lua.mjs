// @ts-check
// Generates src/script/scripts.ts from the Lua files beside it: `node scripts/generate-lua.mjs` (npm run generate).
// Each script ships compacted, and test/script-source.test.ts checks that the generated file is current.
import { createHash } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

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
    .map((line) => line.split(LUA_STRINGS).map((part, i) => (i % 2 === 1 ? part : part.replace(LUA_SPACED_PUNCTUATION, (_, mark, at, code) => (mark === '..' && /\d/.test(code[at - 1] ?? '') ? ` ${mark}` : mark)))).join(''))
    .join('\n')
}

/** Single- and double-quoted Lua strings, with their escapes; split() keeps them at the odd indexes. */
const LUA_STRINGS = /('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")/
const LUA_SPACED_PUNCTUATION = / *(\.\.|[=+*/,(){}[\]<>~;#]) */g

/** `dispatch.lua` → `DISPATCH_SCRIPT`. */
const constantName = (/** @type {string} */ file) => `${file.replace(/\.lua$/, '').replace(/-/g, '_').toUpperCase()}_SCRIPT`

/** The generated module's text, from every `.lua` file in src/script, in name order. */
export async function generateScripts() {
  const files = (await readdir(SCRIPT_DIR)).filter((file) => file.endsWith('.lua')).sort()
  const sections = []
  for (const file of files) {
    const source = await readFile(join(SCRIPT_DIR, file), 'utf8')
    const header = /^--\[\[\n([\s\S]*?)\n\]\]/.exec(source)
    if (!header) throw new Error(`src/script/${file} must start with a --[[ ]] header naming its KEYS, ARGV and reply`)
    const lua = compactLua(source)
    const sha1 = createHash('sha1').update(lua).digest('hex')
    const summary = header[1].split('\n')[0]
    sections.push(`/** ${summary} (src/script/${file}, compacted; SHA-1 ${sha1}). */\nexport const ${constantName(file)} = ${JSON.stringify(lua)}`)
  }
  return `// Generated from src/script/*.lua by scripts/generate-lua.mjs (npm run generate). Do not edit.\n\n${sections.join('\n\n')}\n`
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await writeFile(GENERATED_FILE, await generateScripts())
  console.log(`wrote ${GENERATED_FILE}`)
}
