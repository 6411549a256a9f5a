import { ValidationError } from '../errors.js'

/**
 * The JSON of a request body, or a ValidationError naming the field that cannot be JSON (a BigInt, a cycle), as
 * the Dispatcher names it (`message.d`), so the caller learns which field is wrong before any request is sent.
 * `depth` is how deep the body's own fields go (2 for `message.d`, 4 for `dispatches[i].message.d`): the search
 * stops there, since anything deeper is the caller's data, which the endpoint never names either.
 */
export function jsonBody(body: unknown, depth: number): string {
  try {
    return JSON.stringify(body)
  } catch (error) {
    // Serializing again, field by field, costs nothing on the path that succeeds.
    throw new ValidationError(culprit(body, '', depth) || 'body', `cannot be serialized as JSON: ${(error as Error).message}`, { cause: error })
  }
}

/** The path of the shallowest field within `depth` levels whose value alone fails to serialize. */
function culprit(value: unknown, path: string, depth: number): string {
  if (depth === 0 || typeof value !== 'object' || value === null) return path
  for (const [key, child] of Object.entries(value)) {
    try {
      JSON.stringify(child)
    } catch {
      return culprit(child, Array.isArray(value) ? `${path}[${key}]` : path ? `${path}.${key}` : key, depth - 1)
    }
  }
  return path
}
