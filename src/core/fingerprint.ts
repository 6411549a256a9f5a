// The fingerprint of what a request asked for, which its idempotency key's claim keeps, so that the same key sent
// with a different request is told apart (409) from a retry of the same one (a duplicate).

/**
 * A 128-bit fingerprint of `texts`, as 32 lower-case hex digits: cyrb128 (bryc's public-domain hash, four 32-bit
 * lanes of multiply-xor over UTF-16 code units), each text preceded by its length, so that no split of the same characters collides. It is
 * synchronous, so that dispatches issued together still share one script call, and runs wherever JavaScript does.
 * It tells apart any two requests that differ by accident; it is no defence against a caller who forges a
 * collision with itself, which could only make its own request look like a retry of its own other one.
 * https://github.com/bryc/code/blob/master/jshash/PRNGs.md
 */
export function fingerprintOf(texts: readonly string[]): string {
  let h1 = 1779033703
  let h2 = 3144134277
  let h3 = 1013904242
  let h4 = 2773480762
  for (const text of texts) {
    // Each text's length first, so that ['ab', 'c'] and ['a', 'bc'] differ.
    for (let i = -1; i < text.length; i++) {
      const k = i < 0 ? text.length : text.charCodeAt(i)
      h1 = h2 ^ Math.imul(h1 ^ k, 597399067)
      h2 = h3 ^ Math.imul(h2 ^ k, 2869860233)
      h3 = h4 ^ Math.imul(h3 ^ k, 951274213)
      h4 = h1 ^ Math.imul(h4 ^ k, 2716044179)
    }
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067)
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233)
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213)
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179)
  h1 ^= h2 ^ h3 ^ h4
  h2 ^= h1
  h3 ^= h1
  h4 ^= h1
  return [h1, h2, h3, h4].map((lane) => (lane >>> 0).toString(16).padStart(8, '0')).join('')
}
