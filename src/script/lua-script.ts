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
  /** The bytes of its text as a JSON string: what an EVAL's REST body carries where an EVALSHA's has the SHA. */
  readonly jsonBytes: number
  /**
   * The parts of a raw deflate stream, base64-encoded, that its text is at the end of: the scripts deflated before
   * it in the same stream come first, so that it shares their text (scripts/generate-lua.mjs).
   */
  readonly deflated: readonly string[]
  /** What ends those parts as a zlib stream: an empty final block and the checksum of their text, base64-encoded. */
  readonly streamEnd: string
  /** Its text's first and past-the-end character in what the parts inflate to. */
  readonly start: number
  readonly end: number
}

/**
 * The most bytes a script call adds around its keys and arguments in a REST body, `["evalsha",<sha>,<key
 * count>,…]`, or after a NOSCRIPT `["eval",<text>,<key count>,…]`: a request-size check counts this beside them, so
 * that the EVAL fallback stays under the limit the EVALSHA was sized to. Each key and argument is counted apart,
 * with the comma before it.
 */
export function commandBytes(script: LuaScript): number {
  // The SHA is 40 hex digits quoted; a key count has at most 10 digits; then the closing bracket.
  const command = Math.max('["evalsha",'.length + 42, '["eval",'.length + script.jsonBytes)
  return command + ','.length + 10 + ']'.length
}

/** A zlib header (deflate, 32 KiB window, best compression), which the parts follow. */
const ZLIB_HEADER = [0x78, 0xda]

const inflated = new WeakMap<LuaScript, Promise<string>>()

/** The script's text, inflated once with the Compression Streams API of Node 18+, workerd, Deno and Bun. */
export function scriptText(script: LuaScript): Promise<string> {
  let text = inflated.get(script)
  if (!text) {
    const base64 = [...script.deflated, script.streamEnd]
    const bytes = Uint8Array.from([...ZLIB_HEADER, ...base64.flatMap((each) => Array.from(atob(each), (char) => char.charCodeAt(0)))])
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
