/**
 * A Lua script of this package as the bundles carry it: its SHA-1, which is all an EVALSHA sends, and its text
 * deflated, which is inflated only when Redis does not have the script cached yet (NOSCRIPT).
 */
export interface LuaScript {
  /** The file it comes from, e.g. `dispatch` for src/script/dispatch.lua. */
  readonly name: string
  /** The SHA-1 of the text Redis caches it under. */
  readonly sha1: string
  /** The compacted text, zlib-deflated and base64-encoded: a third of its size in every bundle. */
  readonly deflated: string
}

const texts = new WeakMap<LuaScript, Promise<string>>()

/** The script's text, inflated once with the Compression Streams API that Node 18+, workerd, Deno and Bun all have. */
export function scriptText(script: LuaScript): Promise<string> {
  let text = texts.get(script)
  if (!text) {
    const bytes = Uint8Array.from(atob(script.deflated), (char) => char.charCodeAt(0))
    text = new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'))).text()
    texts.set(script, text)
  }
  return text
}

/** Whether Redis refused an EVALSHA because its script cache lacks the script (after a restart or SCRIPT FLUSH). */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && /NOSCRIPT/.test(error.message)
}
