import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  BASE85_DIGITS,
  compactLua,
  compactScripts,
  encodeBase85,
  expandLua,
  KEY_LOCKING_SHEBANG as GENERATED_SHEBANG,
  SCRIPT_DIR,
} from '../scripts/generate-lua.mjs'
import { shortenLocals, tokenizeLua } from '../scripts/lua-locals.mjs'
import { decodeBase85, digitOf, KEY_LOCKING_SHEBANG, type LuaScript, scriptSha1, scriptSource, scriptText } from '../src/script/lua-script'
import { RECIPIENT_FLAG } from '../src/script/protocol'
import * as scripts from '../src/script/scripts'

// The Lua sources in src/script and the module generated from them, which every bundle and runner imports.
const luaFiles = readdirSync(SCRIPT_DIR).filter((file) => file.endsWith('.lua'))
const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

describe('the Lua scripts', () => {
  it('are generated into src/script/scripts.ts from the current sources: `npm run generate` after a change', async () => {
    const shipped = await Promise.all(
      Object.entries(scripts).map(async ([constant, script]: [string, LuaScript]) => ({ constant, lua: await scriptText(script), sha1: script.sha1 })),
    )
    expect(shipped).toEqual((await compactScripts()).map(({ constant, lua, sha1: digest }) => ({ constant, lua, sha1: digest })))
  })

  it('keep the SHA-1 that Redis caches them under, of the text they inflate to: a change to a script must change this test too', async () => {
    for (const script of Object.values(scripts)) expect(sha1(await scriptText(script))).toBe(script.sha1)
    expect(Object.fromEntries(Object.entries(scripts).map(([name, script]) => [name, script.sha1]))).toEqual({
      BACKLOG_SCRIPT: '07a7573ec7bfd0b94e27e4570e2cb66cad7e5e1f',
      CLEANUP_SCRIPT: '574870057bd688c76b972ae11b71b574acc102b0',
      CLEAR_SCRIPT: '8676af8888c1ff014d97ecda8b8d5ee203728d34',
      DISPATCH_SCRIPT: '60cfd3b491736a8273dec4d98ef387067688db7c',
      PRESENCE_SCRIPT: '3f972e28e9839d25bbacad4b81eb5dd579b3db2e',
    })
  })

  it("keep the SHA-1 of their key-locking form, Upstash's shebang line and the same text, which the REST transport sends when asked to", async () => {
    expect(GENERATED_SHEBANG).toBe(KEY_LOCKING_SHEBANG)
    const forms = await Promise.all(
      Object.values(scripts).map(async (script) => {
        const text = await scriptSource(script, true)
        return { sha1: sha1(text), text: text === `#!lua flags=allow-key-locking\n${await scriptText(script)}` }
      }),
    )
    expect(forms).toEqual(Object.values(scripts).map((script) => ({ sha1: scriptSha1(script, true), text: true })))
    expect(Object.fromEntries(Object.entries(scripts).map(([name, script]) => [name, script.keyLockingSha1]))).toEqual({
      BACKLOG_SCRIPT: '83007b6113e22d8f21c2d15405ac42ee2ce0f04d',
      CLEANUP_SCRIPT: 'bc92878867e229eec4b2ba34ab87dc7aca6f308e',
      CLEAR_SCRIPT: '8a247d1b1ed7c4e3356025bb994416a2a6123d64',
      DISPATCH_SCRIPT: 'cce8186865af17dbb9444caccfc360ebdfce4baa',
      PRESENCE_SCRIPT: '765adb4c81df94f16a1049ed0b8ec4f94755c254',
    })
  })

  it('inline each part under src/script/dispatch/ exactly once, leaving no include line in what Redis runs', async () => {
    const parts = readdirSync(join(SCRIPT_DIR, 'dispatch')).map((file) => `dispatch/${file}`)
    const expanded = await expandLua('dispatch.lua')
    const inlined = await Promise.all(
      parts.map(async (part) => ({ part, times: expanded.split(readFileSync(join(SCRIPT_DIR, part), 'utf8').trimEnd()).length - 1 })),
    )
    expect(inlined).toEqual(parts.map((part) => ({ part, times: 1 })))
    expect(expanded).not.toMatch(/^[ \t]*-- @include /m)
  })

  it.each(['dispatch.lua', 'presence.lua', 'backlog.lua', 'clear.lua'])('give %s the rate-limit charge of shared/charge.lua, inlined once', async (file) => {
    const expanded = await expandLua(file)
    expect(expanded.split(readFileSync(join(SCRIPT_DIR, 'shared/charge.lua'), 'utf8').trimEnd()).length - 1).toBe(1)
  })

  it.each(['dispatch.lua', 'cleanup.lua'])('give %s the fingerprint check of shared/fingerprint.lua, inlined once', async (file) => {
    const expanded = await expandLua(file)
    expect(expanded.split(readFileSync(join(SCRIPT_DIR, 'shared/fingerprint.lua'), 'utf8').trimEnd()).length - 1).toBe(1)
  })

  it('give clear.lua the JSON readers of dispatch.lua, the same text inlined once each', async () => {
    const expanded = await expandLua('clear.lua')
    const parts = ['dispatch/json-bytes.lua', 'dispatch/json.lua']
    const inlined = parts.map((part) => ({ part, times: expanded.split(readFileSync(join(SCRIPT_DIR, part), 'utf8').trimEnd()).length - 1 }))
    expect(inlined).toEqual(parts.map((part) => ({ part, times: 1 })))
    expect(expanded).not.toMatch(/^[ \t]*-- @include /m)
  })

  it('name the recipient flags as src/script/protocol.ts sends them', async () => {
    const [, names = '', values = ''] = /local (WILDCARD, [A-Z_, ]+) = ([^\n]+)/.exec(await expandLua('dispatch.lua')) ?? []
    const letters = [...values.matchAll(/byte\('(.)'\)/g)].map(([, letter]) => letter)
    expect(Object.fromEntries(names.split(', ').map((name, j) => [name, letters[j]]))).toEqual({
      WILDCARD: RECIPIENT_FLAG.wildcard,
      STORABLE: RECIPIENT_FLAG.storable,
      STORABLE_ESCAPED: RECIPIENT_FLAG.storableEscaped,
      PLAIN_ESCAPED: RECIPIENT_FLAG.plainEscaped,
      NUMBER: RECIPIENT_FLAG.number,
      REACHED: RECIPIENT_FLAG.reached,
    })
  })

  it.each(luaFiles)('%s opens with a header naming its KEYS, ARGV and reply', (file) => {
    const header = /^--\[\[\n([\s\S]*?)\n\]\]/.exec(readFileSync(join(SCRIPT_DIR, file), 'utf8'))?.[1] ?? ''
    expect(['KEYS[1]', 'ARGV[1]', 'Reply:'].filter((word) => !header.includes(word))).toEqual([])
  })

  it.each([
    ['keeps string literals as they are', `local a = 'x = y, z' .. "b c"`, `local a='x = y, z'.."b c"`],
    ['keeps the space between a digit and ..', 'return 1 .. x', 'return 1 ..x'],
    ['keeps spaces around a minus, which could start a comment', 'x = a - -1', 'x=a - -1'],
    ['drops comment lines, blank lines and indentation', '  -- why\n  local x = { 1, 2 }\n\n  return x', 'local x={1,2}\nreturn x'],
    ['drops the header block', '--[[\nKEYS[1] the key\n]]\nreturn 1', 'return 1'],
  ])('compacts Lua: %s', (_, lua, compacted) => {
    expect(compactLua(lua)).toBe(compacted)
  })

  it.each([
    ['renames locals, the most used first', 'local count=1\nlocal total=count+count\nreturn total', 'local a=1\nlocal b=a+a\nreturn b'],
    [
      'renames parameters and loop variables',
      'local function add(left,right)return left+right end\nfor index=1,2 do add(index,index)end',
      'local function b(c,d)return c+d end\nfor a=1,2 do b(a,a)end',
    ],
    [
      'keeps fields, methods and table keys',
      'local name=KEYS[1]\nlocal t={name=name,[name]=1}\nreturn t.name..t:name()',
      'local a=KEYS[1]\nlocal b={name=a,[a]=1}\nreturn b.name..b:name()',
    ],
    [
      'keeps globals, even shadowed by a local of the same name',
      'local unpack,value=unpack,tonumber(ARGV[1])\nreturn unpack({value})',
      'local unpack,a=unpack,tonumber(ARGV[1])\nreturn unpack({a})',
    ],
    ['keeps strings and numbers', "local e='e x'\nreturn e..1e5", "local a='e x'\nreturn a..1e5"],
    [
      'renames a multiple assignment inside a function that is a table value',
      'local x,y\nlocal t={f=function()x,y=1,2 end}',
      'local a,b\nlocal c={f=function()a,b=1,2 end}',
    ],
    ['takes no name the script already uses otherwise', 'local long=1\nreturn a.b+long', 'local c=1\nreturn a.b+c'],
  ])('renames Lua locals short: %s', (_, lua, renamed) => {
    expect(shortenLocals([lua])).toEqual([renamed])
  })

  it('renames the locals of scripts that share code alike, so that their common deflate stream carries it once', () => {
    const shared = 'local function skip(text,at)return at+1 end\n'
    const [first = '', second = ''] = shortenLocals([`${shared}return skip(ARGV[1],1)`, `${shared}local other=skip(ARGV[2],2)\nreturn other`])
    expect(second.startsWith(first.split('\n')[0] ?? '')).toBe(true)
  })

  it('refuses Lua it would misread rather than rename it: long brackets and unbalanced blocks', () => {
    expect(() => tokenizeLua('local s=[[x]]')).toThrow(/long brackets/)
    expect(() => shortenLocals(['local function f()return 1'])).toThrow(/unbalanced Lua/)
  })

  it('ships each script with the same tokens as its compacted source, local names aside', async () => {
    const sources = await Promise.all(luaFiles.map(async (file) => compactLua(await expandLua(file))))
    const kinds = (lua: string) => tokenizeLua(lua).map((token) => (token.kind === 'name' ? 'name' : token.text))
    const shipped = await Promise.all(luaFiles.map((file) => scriptText(Object.values(scripts).find((script) => `${script.name}.lua` === file)!)))
    expect(shipped.map(kinds)).toEqual(sources.map(kinds))
  })

  it('encode their deflated parts in base85 with the digits the bundles decode, with no quote mark of a plain string and no backslash', () => {
    expect({
      values: [...BASE85_DIGITS].map((digit) => digitOf(digit.charCodeAt(0))),
      unquoted: [...BASE85_DIGITS].filter((digit) => `'"\\`.includes(digit)),
    }).toEqual({ values: Array.from({ length: 85 }, (_, digit) => digit), unquoted: [] })
  })

  it.each([0, 1, 2, 3, 4, 5, 6, 7, 8, 1000, 1001, 1002, 1003])('decode in base85 exactly the %i bytes they encode, the highest values too', (length) => {
    const bytes = Uint8Array.from({ length }, (_, i) => (i % 3 === 0 ? 255 : (i * 37) % 256))
    expect(decodeBase85(encodeBase85(bytes))).toEqual([...bytes])
  })
})
