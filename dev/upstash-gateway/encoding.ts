/** A JSON value as the Upstash REST API puts it in `result`. */
export type JsonReply = string | number | null | JsonReply[]

/** Converts a Buffer-mode ioredis reply into Upstash's JSON shape, base64-encoding every string except `OK` when asked. */
export function encodeReply(reply: unknown, base64: boolean): JsonReply {
  if (Buffer.isBuffer(reply)) {
    if (!base64) return reply.toString('utf8')
    // Upstash leaves the "OK" status readable in base64 mode and @upstash/redis relies on it (decode() in its HttpClient).
    return isOk(reply) ? 'OK' : reply.toString('base64')
  }
  if (typeof reply === 'number' || reply === null) return reply
  if (Array.isArray(reply)) {
    const out: JsonReply[] = new Array(reply.length)
    for (let i = 0; i < reply.length; i++) out[i] = encodeReply(reply[i], base64)
    return out
  }
  if (typeof reply === 'string') return base64 && reply !== 'OK' ? Buffer.from(reply).toString('base64') : reply
  // An error nested in an array (e.g. a Lua table holding redis.error_reply) has no JSON slot of its own.
  if (reply instanceof Error) return reply.message
  return reply === undefined ? null : String(reply)
}

function isOk(buffer: Buffer): boolean {
  return buffer.length === 2 && buffer[0] === 0x4f && buffer[1] === 0x4b
}
