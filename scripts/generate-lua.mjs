// @ts-check
// Generates src/script/scripts.ts from the Lua files beside it: `node scripts/generate-lua.mjs` (npm run generate).
// Each script ships compacted, and test/script-source.test.ts checks that the generated file is current.
import { createHash } from 'node:crypto'
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { constants, createDeflateRaw } from 'node:zlib'
import { shortenLocals } from './lua-locals.mjs'

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

/**
 * The first line that asks Upstash to lock only a script's KEYS instead of the whole database
 * (https://upstash.com/docs/redis/commands/scripting/eval); src/script/lua-script.ts prepends the same line at run
 * time, and test/script-source.test.ts holds the two equal.
 */
export const KEY_LOCKING_SHEBANG = '#!lua flags=allow-key-locking\n'

/**
 * Each script in src/script (its top-level .lua files), in name order: its file, the text Redis runs (compacted, and
 * its locals renamed short: about a fifth less deflated, in every bundle that carries it), that text's SHA-1, and the
 * SHA-1 of the same text under KEY_LOCKING_SHEBANG.
 */
export async function compactScripts() {
  const files = (await readdir(SCRIPT_DIR)).filter((file) => file.endsWith('.lua')).sort()
  const sources = []
  for (const file of files) {
    const source = await expandLua(file)
    const header = /^--\[\[\n([\s\S]*?)\n\]\]/.exec(source)
    if (!header) throw new Error(`src/script/${file} must start with a --[[ ]] header naming its KEYS, ARGV and reply`)
    // The header's first sentence, which may wrap over several lines.
    const summary = /^[\s\S]*?\.(?=\s|$)/.exec(header[1].split('\n\n')[0].replace(/\s*\n\s*/g, ' '))?.[0] ?? file
    sources.push({ file, summary, compacted: compactLua(source) })
  }
  const texts = shortenLocals(sources.map(({ compacted }) => compacted))
  return sources.map(({ file, summary }, i) => {
    const lua = texts[i] ?? ''
    const sha1 = createHash('sha1').update(lua).digest('hex')
    const keyLockingSha1 = createHash('sha1')
      .update(KEY_LOCKING_SHEBANG + lua)
      .digest('hex')
    return { file, constant: constantName(file), summary, lua, sha1, keyLockingSha1 }
  })
}

/**
 * The scripts that are deflated as one stream, in this order; every other script is a stream of its own. The
 * clear script includes the dispatch script's JSON readers, and the questions name the same keys: deflated after
 * it, each costs a fraction of its size alone. A script's text is the start of its stream up to its own end, so a
 * bundle that uses the dispatch script alone (the SQS and EventBridge functions) carries its part of the stream
 * alone, and one that asks the questions (the HTTP function) carries the parts after it too.
 */
export const STREAMS = [['dispatch.lua', 'clear.lua', 'presence.lua', 'backlog.lua']]

/** `dispatch.lua` → `DISPATCH_LUA`: the name of a script's part of its stream. */
const partName = (/** @type {string} */ file) => constantName(file).replace(/_SCRIPT$/, '_LUA')

/** Deflates texts as one raw stream, cut after each (a sync flush, so each part ends on a byte): the parts, in order. */
async function deflateInParts(/** @type {string[]} */ texts) {
  const deflate = createDeflateRaw({ level: 9 })
  /** @type {Buffer[]} */
  const chunks = []
  deflate.on('data', (chunk) => chunks.push(chunk))
  const parts = []
  for (const text of texts) {
    deflate.write(text)
    await new Promise((resolve) => deflate.flush(constants.Z_SYNC_FLUSH, () => resolve(undefined)))
    parts.push(Buffer.concat(chunks.splice(0)))
  }
  deflate.destroy()
  return parts
}

/**
 * The digits of the parts' encoding, each worth its index: the characters from `(` to `|`, with `}` for the backslash,
 * as src/script/lua-script.ts's decodeBase85 reads them (the test holds the two equal).
 */
export const BASE85_DIGITS = Array.from({ length: 85 }, (_, digit) => (digit === 52 ? '}' : String.fromCharCode(40 + digit))).join('')

/** Bytes as BASE85_DIGITS: five digits for each four bytes, big-endian, and n + 1 for a last group of n. */
export function encodeBase85(/** @type {Uint8Array} */ bytes) {
  let text = ''
  for (let at = 0; at < bytes.length; at += 4) {
    const group = bytes.subarray(at, at + 4)
    let value = 0
    for (let i = 0; i < 4; i++) value = value * 256 + (group[i] ?? 0)
    let digits = ''
    for (let i = 0; i < 5; i++, value = Math.floor(value / 85)) digits = BASE85_DIGITS[value % 85] + digits
    text += digits.slice(0, group.length + 1)
  }
  return text
}

/** The Adler-32 checksum that ends a zlib stream (RFC 1950). */
function adler32(/** @type {string} */ text) {
  let a = 1
  let b = 0
  for (const byte of Buffer.from(text)) {
    a = (a + byte) % 65521
    b = (b + a) % 65521
  }
  return ((b << 16) | a) >>> 0
}

/**
 * What ends a zlib stream whose deflated data stops after `text`: an empty final block, then the checksum of
 * everything it inflates to. With the two-byte zlib header before the parts, that makes any start of a stream one
 * that `DecompressionStream('deflate')` (Node 18+, workerd, Deno, Bun) inflates and checks.
 */
function streamEnd(/** @type {string} */ text) {
  const end = Buffer.from([0x03, 0x00, 0, 0, 0, 0])
  end.writeUInt32BE(adler32(text), 2)
  return encodeBase85(end)
}

/**
 * The generated module's text: each script's part of its stream (STREAMS), in base85 (BASE85_DIGITS), and each script as a
 * LuaScript naming the parts it needs and its place in their text. A bundle carries only the parts its scripts
 * name: 7.4 KB for the dispatch script alone, 9.1 KB for all of them (base64 took 7.9 and 9.7).
 */
export async function generateScripts() {
  const scripts = await compactScripts()
  const byFile = new Map(scripts.map((script) => [script.file, script]))
  const streams = [
    ...STREAMS.map((files) => files.filter((file) => byFile.has(file))),
    ...scripts.filter(({ file }) => !STREAMS.flat().includes(file)).map(({ file }) => [file]),
  ]
  const parts = []
  const sections = []
  for (const files of streams) {
    const texts = files.map((file) => /** @type {NonNullable<ReturnType<typeof byFile.get>>} */ (byFile.get(file)).lua)
    const deflated = await deflateInParts(texts)
    let start = 0
    for (const [i, file] of files.entries()) {
      const { constant, summary, lua, sha1, keyLockingSha1 } = /** @type {NonNullable<ReturnType<typeof byFile.get>>} */ (byFile.get(file))
      parts.push(`const ${partName(file)} = '${encodeBase85(deflated[i] ?? Buffer.alloc(0))}'`)
      const value = {
        name: file.replace(/\.lua$/, ''),
        sha1,
        keyLockingSha1,
        jsonBytes: Buffer.byteLength(JSON.stringify(lua)),
        start,
        end: start + lua.length,
      }
      start += lua.length
      const fields = JSON.stringify(value, null, 2)
        .replace(/"(\w+)":/g, '$1:')
        .replace(
          /\n}$/,
          `,\n  deflated: [${files
            .slice(0, i + 1)
            .map(partName)
            .join(', ')}],\n  streamEnd: '${streamEnd(texts.slice(0, i + 1).join(''))}',\n}`,
        )
      sections.push(`/** ${summary.replace(/\.$/, '')} (src/script/${file}, compacted). */\nexport const ${constant}: LuaScript = ${fields}`)
    }
  }
  sections.sort((a, b) => (/export const (\w+)/.exec(a)?.[1] ?? '').localeCompare(/export const (\w+)/.exec(b)?.[1] ?? ''))
  const header = [
    '// Generated from src/script/*.lua by scripts/generate-lua.mjs (npm run generate). Do not edit.',
    "import type { LuaScript } from './lua-script.js'",
    '',
    '// Each script compacted, as its part of a raw deflate stream (scripts/generate-lua.mjs, STREAMS), in base85 (BASE85_DIGITS).',
    ...parts,
  ]
  return `${header.join('\n')}\n\n${sections.join('\n\n')}\n`
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await writeFile(GENERATED_FILE, await generateScripts())
  console.log(`wrote ${GENERATED_FILE}`)
}
