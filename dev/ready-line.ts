import type { DevStack } from './stack'

/** The sample dispatch the ready line's curl sends: a HELLO to the first demo client. */
export const SAMPLE_DISPATCH = { message: { d: { hello: 'world' }, t: 'HELLO' }, recipients: ['alice'] }

/** Quotes a word for a POSIX shell; safe words stay bare so the common case reads cleanly. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`
}

/** A curl command that dispatches `body` through the endpoint with the bearer token, ready to paste. */
export function curlCommand(endpointUrl: string, token: string, body: unknown = SAMPLE_DISPATCH): string {
  return [
    'curl -X POST',
    shellQuote(endpointUrl),
    '-H',
    shellQuote(`Authorization: Bearer ${token}`),
    '-H',
    shellQuote('Content-Type: application/json'),
    '-d',
    shellQuote(JSON.stringify(body)),
  ].join(' ')
}

/** Hides a password in a Redis URL, so a REDIS_URL given by the user is not echoed with its secret. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (!parsed.password) return url
    parsed.password = '***'
    return parsed.href
  } catch {
    return url
  }
}

/**
 * The one line `npm run dev` prints once everything is up: `ready: ` then two-space separated `name value`
 * pairs (console, endpoint, mesa, redis, token), then `try:` and the curl command, which runs the rest of the line.
 */
export function readyLine(stack: Pick<DevStack, 'consoleUrl' | 'endpointUrl' | 'mesaUrl' | 'redisUrl' | 'token'>): string {
  const pairs = [
    `console ${stack.consoleUrl}`,
    `endpoint ${stack.endpointUrl}`,
    `mesa ${stack.mesaUrl}`,
    `redis ${redactUrl(stack.redisUrl)}`,
    `token ${stack.token}`,
    `try: ${curlCommand(stack.endpointUrl, stack.token)}`,
  ]
  return `ready: ${pairs.join('  ')}`
}

/**
 * The dev stack's bearer token unless DISPATCH_TOKEN says otherwise: the one the sample HTTP events in events/ carry,
 * the export line exports, and so the README's client and CLI examples send with `$DISPATCH_TOKEN`. One token for
 * all of them, fixed so that the static sample events can carry it; the dev server answers on loopback alone.
 */
/** The Mesa namespace of the dev stack: the README examples' own, so that they reach its demo Mesa server. */
export const DEV_NAMESPACE = 'api'

export const DEV_TOKEN = 'local-dev-dispatch-token'

/** What the export line needs: the stack's REST URL and token (the gateway's), its namespace, endpoint and token. */
export type ExportedStack = Pick<DevStack, 'restUrl' | 'restToken' | 'namespace' | 'endpointUrl' | 'token'>

/**
 * The env a function, the CLI and the README's examples need to run against this stack: the gateway's REST URL and
 * token, Mesa's namespace, sync on, the endpoint's base URL (what `createDispatchClient` and `--endpoint` take) and
 * its bearer token, which the sample HTTP events carry too.
 */
export function exportedEnv(stack: ExportedStack): Record<string, string> {
  return {
    UPSTASH_REDIS_REST_URL: stack.restUrl,
    UPSTASH_REDIS_REST_TOKEN: stack.restToken,
    MESA_NAMESPACE: stack.namespace,
    MESA_SYNC: 'true',
    MESA_DISPATCH_ENDPOINT: new URL(stack.endpointUrl).origin,
    DISPATCH_TOKEN: stack.token,
  }
}

/** The second line `npm run dev` prints: `export NAME=value …` to paste into a shell, each value quoted for it. */
export function exportLine(stack: ExportedStack): string {
  const pairs = Object.entries(exportedEnv(stack)).map(([name, value]) => `${name}=${shellQuote(value)}`)
  return `export ${pairs.join(' ')}  # paste to run the README's examples, serverless invoke local (events/README.md) or mesa-dispatch against this stack`
}
