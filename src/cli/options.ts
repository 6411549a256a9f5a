import type { parseArgs } from 'node:util'

/** Every option the CLI knows; each transport flag may come from the env instead (see `chooseTransport`). */
export const OPTIONS = {
  op: { type: 'string' },
  type: { type: 'string' },
  data: { type: 'string' },
  to: { type: 'string' },
  exclude: { type: 'string' },
  'numeric-ids': { type: 'boolean' },
  'no-sync': { type: 'boolean' },
  id: { type: 'string' },
  limit: { type: 'string' },
  endpoint: { type: 'string' },
  token: { type: 'string' },
  secret: { type: 'string' },
  'key-id': { type: 'string' },
  'rest-url': { type: 'string' },
  'rest-token': { type: 'string' },
  namespace: { type: 'string' },
  sync: { type: 'boolean' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  retries: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const

/** The parsed option values, as `parseArgs` types them. */
export type OptionValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values']
