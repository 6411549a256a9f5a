import { GATEWAY_TOKEN } from '../stack'

// What the fuzzed functions are deployed with, shared by the arbitraries, the oracle and the test files, so that the
// oracle judges with the same limits as the functions it checks.

/** The Mesa namespace the fuzzed functions dispatch in. */
export const NAMESPACE = 'fuzz'
/** The Redis channel every dispatch in NAMESPACE publishes on. */
export const CHANNEL = `ws_${NAMESPACE}`
/** The bearer token the HTTP entry points accept. */
export const TOKEN = 'fuzz-dispatch-token-0123456789'
/** The secret that signs accepted X-Mesa-Signature headers. */
export const SECRET = 'fuzz-signing-secret-0123456789'
/** The largest HTTP body the functions read, small so that bodies at and past it are cheap to generate. */
export const MAX_BODY_BYTES = 2048
/** The most dispatches one HTTP batch may carry. */
export const MAX_BATCH = 3
/** Ids in Mesa's online set, so that some dispatches publish to named clients rather than store. */
export const ONLINE = ['alice', '7']
/** Signatures within this many seconds of now are accepted (the tolerance is 300, so a slow run cannot cross it). */
export const FRESH_SECONDS = 240
/** Runs per property: about 5 s in all, so the fuzz files stay well inside a minute on a small CI box. */
export const RUNS = { lambda: 600, edge: 250, sqs: 300, eventBridge: 800 }

/** The environment of the deployed functions and the edge worker, pointed at the stack's Upstash gateway. */
export function functionEnv(gatewayUrl: string): Record<string, string> {
  return {
    UPSTASH_REDIS_REST_URL: gatewayUrl,
    UPSTASH_REDIS_REST_TOKEN: GATEWAY_TOKEN,
    MESA_NAMESPACE: NAMESPACE,
    MESA_SYNC: 'true',
    DISPATCH_TOKEN: TOKEN,
    DISPATCH_SIGNING_SECRET: SECRET,
    MAX_BODY_BYTES: String(MAX_BODY_BYTES),
    MAX_BATCH: String(MAX_BATCH),
  }
}
