import { createHash } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { compactLua, compactScripts, expandLua, KEY_LOCKING_SHEBANG as GENERATED_SHEBANG, SCRIPT_DIR } from '../scripts/generate-lua.mjs'
import { KEY_LOCKING_SHEBANG, type LuaScript, scriptSha1, scriptSource, scriptText } from '../src/script/lua-script'
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
      BACKLOG_SCRIPT: '36345e12433034708448b39773d08bfec78a5359',
      CLEANUP_SCRIPT: 'cfa9e050b959dd378502d77aa77d82d81fde4032',
      CLEAR_SCRIPT: '35bcf21d3cd4c0f336274a1a46818c7298f30c81',
      DISPATCH_SCRIPT: 'd707fcd258a6e785c8b4c3b2bee89a3038be7422',
      PRESENCE_SCRIPT: '2959ddbb9b8bd8ef17da2c319e2499515a2280ba',
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
      BACKLOG_SCRIPT: '271bd79a946ae4a5d379275e91e2baf2407f7d01',
      CLEANUP_SCRIPT: '70b4e26f658a96000734593aa7d92ad8fe26af53',
      CLEAR_SCRIPT: '8d206474e3eabe5b6ede0805c143400cd3bf1cf8',
      DISPATCH_SCRIPT: 'c04c1ef79f780cf021f04f38963eb65b9ceb5b93',
      PRESENCE_SCRIPT: '9402e894b531cbaf228dd924f9ac267a473ff3a4',
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
})
