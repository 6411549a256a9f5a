/**
 * A Lua script of this package as the bundles carry it: its SHA-1, which is all an EVALSHA sends, and where its
 * text lies in the deflated parts it names, which are inflated only when Redis lacks the script (NOSCRIPT), or
 * when a Lambda function's init loads it.
 */
export interface LuaScript {
  /** The file it comes from, e.g. `dispatch` for src/script/dispatch.lua. */
  readonly name: string
  /** The SHA-1 of the text Redis caches it under. */
  readonly sha1: string
  /** The SHA-1 of its text under KEY_LOCKING_SHEBANG, which Upstash caches the key-locking form under. */
  readonly keyLockingSha1: string
  /** The bytes of its text as a JSON string: what an EVAL's REST body carries where an EVALSHA's has the SHA. */
  readonly jsonBytes: number
  /**
   * The parts of a raw deflate stream, each in base85 (decodeBase85), that its text is at the end of: the scripts deflated before
   * it in the same stream come first, so that it shares their text (scripts/generate-lua.mjs).
   */
  readonly deflated: readonly string[]
  /** What ends those parts as a zlib stream: an empty final block and the checksum of their text, in base85. */
  readonly streamEnd: string
  /** Its text's first and past-the-end character in what the parts inflate to. */
  readonly start: number
  readonly end: number
}

/**
 * The first line that makes Upstash lock only the keys a script is given in KEYS, instead of taking its global lock
 * for the whole call: "Adding the allow-key-locking flag to the script's shebang line makes it lock only the keys
 * passed in KEYS" (https://upstash.com/docs/redis/commands/scripting/eval). redis-server 7 refuses the flag
 * (`ERR Unexpected flag in script shebang`), so only the REST transport sends it, when asked to.
 */
export const KEY_LOCKING_SHEBANG = '#!lua flags=allow-key-locking\n'

/** The bytes KEY_LOCKING_SHEBANG adds to a script's text as a JSON string: its line break is escaped, `\n`. */
const KEY_LOCKING_JSON_BYTES = JSON.stringify(KEY_LOCKING_SHEBANG).length - 2

/** The SHA-1 Redis caches the script under in the form sent: plain, or under KEY_LOCKING_SHEBANG. */
export function scriptSha1(script: LuaScript, keyLocking: boolean): string {
  return keyLocking ? script.keyLockingSha1 : script.sha1
}

/**
 * The script's text in the form sent: plain, or KEY_LOCKING_SHEBANG and the same inflated text, so that a bundle
 * carries the Lua once whichever form it runs.
 */
export async function scriptSource(script: LuaScript, keyLocking: boolean): Promise<string> {
  const text = await scriptText(script)
  return keyLocking ? KEY_LOCKING_SHEBANG + text : text
}

/**
 * The most bytes a script call adds around its keys and arguments in a REST body, `["evalsha",<sha>,<key
 * count>,…]`, or after a NOSCRIPT `["eval",<text>,<key count>,…]`, the text in the form sent (`keyLocking`): a
 * request-size check counts this beside them, so that the EVAL fallback stays under the limit the EVALSHA was sized
 * to. Each key and argument is counted apart, with the comma before it.
 */
export function commandBytes(script: LuaScript, keyLocking = false): number {
  // The SHA is 40 hex digits quoted; a key count has at most 10 digits; then the closing bracket.
  const text = script.jsonBytes + (keyLocking ? KEY_LOCKING_JSON_BYTES : 0)
  const command = Math.max('["evalsha",'.length + 42, '["eval",'.length + text)
  return command + ','.length + 10 + ']'.length
}

/**
 * The digits of the parts' encoding: the 85 characters from `(` to `|`, each worth its code less 40, with `}` for the
 * backslash (digit 52), so that a part is a plain string literal in any bundle and no table of digits ships. Five
 * digits hold four bytes where base64 takes five and a third: the dispatch script's part is 0.5 KB smaller in every
 * bundle. scripts/generate-lua.mjs encodes with the same digits, which test/script-source.test.ts holds equal.
 */
export const digitOf = (code: number): number => (code === 125 ? 52 : code - 40)

/** The bytes a part's digits hold: four per five digits, big-endian, and n in a last group of n + 1. */
export function decodeBase85(text: string): number[] {
  const bytes: number[] = []
  for (let at = 0; at < text.length; at += 5) {
    const group = text.slice(at, at + 5)
    let value = 0
    // A short last group was cut from one padded with zero bytes: padding it with the highest digit restores them.
    for (let i = 0; i < 5; i++) value = value * 85 + (i < group.length ? digitOf(group.charCodeAt(i)) : 84)
    for (let i = 0; i < group.length - 1; i++) bytes.push(Math.floor(value / 256 ** (3 - i)) % 256)
  }
  return bytes
}

/** A zlib header (deflate, 32 KiB window, best compression), which the parts follow. */
const ZLIB_HEADER = [0x78, 0xda]

const inflated = new WeakMap<LuaScript, Promise<string>>()

/** The script's text, inflated once with the Compression Streams API of Node 18+, workerd, Deno and Bun. */
export function scriptText(script: LuaScript): Promise<string> {
  let text = inflated.get(script)
  if (!text) {
    const bytes = Uint8Array.from([...ZLIB_HEADER, ...[...script.deflated, script.streamEnd].flatMap(decodeBase85)])
    text = new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'))).text().then((all) => all.slice(script.start, script.end))
    inflated.set(script, text)
  }
  return text
}

/** Whether Redis refused an EVALSHA because its script cache lacks the script (after a restart or SCRIPT FLUSH). */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && /NOSCRIPT/.test(error.message)
}

/**
 * Whether the dispatch script failed a PUBLISH after others of its call were sent (dispatch.lua says so in these
 * words): some of the call's dispatches were applied, so its outcome is unknown.
 */
export function isPartlyPublished(error: unknown): boolean {
  return error instanceof Error && error.message.includes('a PUBLISH failed after others of the same call succeeded')
}
