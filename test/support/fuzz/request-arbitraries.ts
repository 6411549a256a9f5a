import fc from 'fast-check'
import { anyJson, anyText, longText, mostly, nestedArrays, optional, raw, toJsonText } from './json-arbitraries'
import { MAX_BATCH, ONLINE } from './settings'

// Dispatch requests, from valid to subtly and grossly invalid, and the JSON text that carries them.

const oddNumber = fc.oneof(
  fc.constantFrom(-1, 0.5, -0.5, 2 ** 53, 1e300, -1e-7, Number.MIN_VALUE),
  fc.constantFrom('1e999', '-1e999', '9007199254740993', '1E400').map(raw),
  fc.double(),
)
/** Strings a lax parser might turn into numbers (or NaN). */
const numberLikeText = fc.constantFrom('0', '1', 'NaN', 'Infinity', '', ' ', '0x10', '1e3')

const op = mostly(
  fc.oneof(fc.nat({ max: 10 }), fc.constant(Number.MAX_SAFE_INTEGER), fc.constant(raw('1e2'))),
  fc.oneof(oddNumber, numberLikeText, fc.constantFrom(null, true, [0], {})),
)
const type = mostly(
  fc.oneof(fc.string({ maxLength: 20 }), anyText, longText(250, 256)),
  fc.oneof(longText(257, 300), fc.integer(), fc.constantFrom(null, false, ['NOTE'])),
)
const options = mostly(
  fc.record({ sync: fc.boolean() }, { requiredKeys: [] }),
  fc.oneof(fc.constantFrom(null, [], 'sync', 1), fc.record({ sync: fc.constantFrom('yes', 1, null, 'true') }), fc.constant({ ttl: 5 })),
)
/** Keys that are not in the schema, including ones that matter to JavaScript objects. */
const unknownKey = fc.oneof(
  fc.constantFrom('recipient', 'Message', 'events', 'dispatches', 'op', '__proto__', 'constructor', 'toString', ''),
  fc.string({ maxLength: 8 }),
)
/** Builds an object with own properties only, so that `__proto__` stays a key instead of setting the prototype. */
const objectOf = (entries: Array<[string, unknown]>) => Object.fromEntries(entries.filter(([, value]) => value !== undefined))
/** Sometimes one unknown key, else nothing. */
const strayEntry = fc.oneof(
  { weight: 12, arbitrary: fc.constant([] as Array<[string, unknown]>) },
  { weight: 1, arbitrary: fc.tuple(unknownKey, anyJson).map((entry) => [entry]) },
)

const message = fc
  .record({
    op: optional(op),
    d: fc.oneof(
      { weight: 20, arbitrary: anyJson },
      { weight: 2, arbitrary: longText(100, 2200) },
      { weight: 1, arbitrary: nestedArrays(1, 1000) },
      { weight: 2, arbitrary: fc.constant(undefined) },
    ),
    t: optional(type),
    o: optional(options),
    stray: strayEntry,
  })
  .map(({ stray, ...fields }) => objectOf([...Object.entries(fields), ...stray]))

const recipient = fc.oneof(
  fc.constantFrom('*', 'alice', 'bob', '7', '', ' ', 7, 0, -0, 1.5, 1e21),
  ...ONLINE.map((id) => fc.constant(id)),
  anyText,
  fc.double({ noNaN: true, noDefaultInfinity: true }),
)
const notARecipient = fc.oneof(
  fc.constantFrom(null, true, false, {}, [], ['alice']),
  fc.constantFrom('1e999', '-1e999').map(raw),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
)
const recipientList = fc.oneof(
  { weight: 10, arbitrary: fc.array(recipient, { maxLength: 5 }) },
  { weight: 2, arbitrary: fc.array(mostly(recipient, notARecipient), { minLength: 1, maxLength: 5 }) },
  { weight: 1, arbitrary: fc.oneof(fc.string({ maxLength: 5 }), fc.integer(), fc.constantFrom(null, {}, '*')) },
)
const dispatchId = mostly(
  fc.oneof(
    fc.string({ minLength: 1, maxLength: 16 }),
    anyText.filter((id) => id.length > 0),
    longText(250, 256),
  ),
  fc.oneof(fc.constant(''), longText(257, 300), fc.integer(), fc.constantFrom(null, ['id'])),
)
const action = mostly(fc.constant('DISCONNECT_CLIENT'), fc.oneof(fc.constantFrom('REBOOT', 'disconnect_client', '', null, 5), fc.string({ maxLength: 8 })))

/** One dispatch request built from the schema's own keys, each field valid or not, `message` xor `event` mostly. */
const dispatchRequest = fc
  .record({
    carries: fc.oneof(
      { weight: 8, arbitrary: fc.constant('message') },
      { weight: 3, arbitrary: fc.constant('event') },
      { weight: 1, arbitrary: fc.constantFrom('both', 'neither') },
    ),
    message: mostly(message, anyJson),
    event: action,
    recipients: optional(recipientList),
    excluding: optional(recipientList),
    id: optional(dispatchId),
    stray: strayEntry,
  })
  .map(({ carries, message, event, stray, ...rest }) =>
    objectOf([
      ...(carries === 'message' || carries === 'both' ? [['message', message] as [string, unknown]] : []),
      ...(carries === 'event' || carries === 'both' ? [['event', event] as [string, unknown]] : []),
      ...Object.entries(rest),
      ...stray,
    ]),
  )

/** `{ dispatches: [...] }`, from empty to over MAX_BATCH. */
const dispatchBatch = fc
  .record({ dispatches: fc.array(dispatchRequest, { maxLength: MAX_BATCH + 1 }), stray: strayEntry })
  .map(({ dispatches, stray }) => objectOf([['dispatches', dispatches], ...stray]))

/** The JSON text of a single request, a batch, or any JSON value at all. */
export const requestText = fc
  .tuple(
    fc.oneof({ weight: 10, arbitrary: dispatchRequest }, { weight: 2, arbitrary: dispatchBatch }, { weight: 2, arbitrary: anyJson }),
    fc.constantFrom(undefined, undefined, 2),
  )
  .map(([value, indent]) => toJsonText(value, indent))
/** The JSON text of exactly one request, as SQS records and EventBridge details carry. */
export const singleRequestText = fc
  .tuple(fc.oneof({ weight: 8, arbitrary: dispatchRequest }, { weight: 1, arbitrary: dispatchBatch }, { weight: 2, arbitrary: anyJson }))
  .map(([value]) => toJsonText(value))
