import fc from 'fast-check'

// Building blocks for generated JSON: raw JSON text that JSON.stringify cannot write, and text of every kind.

/** Mostly a valid value, sometimes an invalid one, so that whole requests are valid often enough to matter. */
export const mostly = <T>(valid: fc.Arbitrary<T>, invalid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 12, arbitrary: valid }, { weight: 1, arbitrary: invalid })
/** Leaves the field out (valid for every optional field) about a third of the time. */
export const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined, freq: 3 })

/**
 * JSON text written into the body as is, for what JSON.stringify cannot write: `1e999` parses to Infinity,
 * `9007199254740993` past the safe integers, `1e2` to the integer 100, `[[[…]]]` nests deeper than a stack.
 */
export const raw = (text: string) => `\u0000raw:${text}`
/** Serializes a generated value, turning raw markers into their bare JSON text. */
export const toJsonText = (value: unknown, indent?: number) => JSON.stringify(value, null, indent).replace(/"\\u0000raw:([^"]*)"/g, '$1')
/** Arrays nested `depth` deep: up to 1000 fits an HTTP body; at 50000 JSON.stringify overflows the stack (at 10000 already). */
export const nestedArrays = (min: number, max: number) => fc.integer({ min, max }).map((depth) => raw('['.repeat(depth) + ']'.repeat(depth)))

/** One UTF-16 surrogate on its own, which no valid UTF-8 can encode. */
export const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code))
/** Any text: ASCII, any code point, lone surrogates (parsed from `\ud800` escapes), U+FFFD. */
export const anyText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'binary', maxLength: 8 }),
  fc.string({ unit: fc.oneof(loneSurrogate, fc.constant('\ufffd'), fc.constant('\u0000')), maxLength: 4 }),
)
/** n copies of a 1-, 2- or 3-byte character: long in characters, longer in UTF-8 bytes. */
export const longText = (min: number, max: number) => fc.tuple(fc.constantFrom('x', 'é', '€'), fc.integer({ min, max })).map(([char, n]) => char.repeat(n))
/** Any JSON value, three levels deep at most. */
export const anyJson = fc.jsonValue({ maxDepth: 3 })
