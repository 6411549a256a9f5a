import { createRequire } from 'node:module'
import { join } from 'node:path'

const ROOT = new URL('..', import.meta.url).pathname

/**
 * The NODE_OPTIONS serverless.yml gives every function (provider.environment), read as written by osls's own
 * reader, so the benchmark runs the bundles with exactly what Lambda will; empty when it sets none.
 */
export async function deployedNodeOptions(): Promise<string> {
  const read = createRequire(import.meta.url)('osls/lib/configuration/read') as (
    path: string,
  ) => Promise<{ provider?: { environment?: Record<string, unknown> } }>
  const config = await read(join(ROOT, 'serverless.yml'))
  const value = config.provider?.environment?.NODE_OPTIONS
  if (value !== undefined && typeof value !== 'string')
    throw new Error(`serverless.yml: provider.environment.NODE_OPTIONS must be a string, got ${JSON.stringify(value)}`)
  return value ?? ''
}
