/** The texts of all the scripts, compacted, joined and deflated together, since they share much of their text. */
export interface LuaSources {
  /** The joined texts, zlib-deflated and base64-encoded: a third of their size in every bundle. */
  readonly deflated: string
}

/**
 * A Lua script of this package as the bundles carry it: its SHA-1, which is all an EVALSHA sends, and where its
 * text lies in the deflated sources, which are inflated only when Redis lacks a script (NOSCRIPT).
 */
export interface LuaScript {
  /** The file it comes from, e.g. `dispatch` for src/script/dispatch.lua. */
  readonly name: string
  /** The SHA-1 of the text Redis caches it under. */
  readonly sha1: string
  /** The sources it is in, and its text's first and past-the-end character in them once inflated. */
  readonly sources: LuaSources
  readonly start: number
  readonly end: number
}

const inflated = new WeakMap<LuaSources, Promise<string>>()

/** The script's text, its sources inflated once with the Compression Streams API of Node 18+, workerd, Deno and Bun. */
export function scriptText(script: LuaScript): Promise<string> {
  let text = inflated.get(script.sources)
  if (!text) {
    const bytes = Uint8Array.from(atob(script.sources.deflated), (char) => char.charCodeAt(0))
    text = new Response(new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'))).text()
    inflated.set(script.sources, text)
  }
  return text.then((all) => all.slice(script.start, script.end))
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
