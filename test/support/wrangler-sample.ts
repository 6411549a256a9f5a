import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { buildBundles } from '../../esbuild.config.mjs'
import { ROOT } from './serverless-cli'

/** What the sample wrangler.toml tells wrangler, and the bundle its `main` names, built as `npm run build` builds it. */
export interface WranglerSample {
  name: string
  main: string
  compatibilityDate: string
  compatibilityFlags: string[]
  vars: Record<string, unknown>
  /** The variables its comments say to set with `wrangler secret put`. */
  secrets: string[]
  /** The code of the file at `main`. */
  script: string
}

/** The keys this reader understands; any other key in the sample fails the test instead of going unchecked. */
const KEYS = new Set(['name', 'main', 'compatibility_date', 'compatibility_flags', 'no_bundle'])

/**
 * Reads the repository's wrangler.toml, and builds the bundles beside a copy of it, into the `dist/` that `npm run
 * build` would fill, so that `main` resolves exactly as wrangler resolves it: relative to the file.
 */
export async function readWranglerSample(): Promise<WranglerSample> {
  const text = readFileSync(join(ROOT, 'wrangler.toml'), 'utf8')
  const { top, vars } = parseToml(text)
  const unknown = Object.keys(top).filter((key) => !KEYS.has(key))
  if (unknown.length > 0) throw new Error(`wrangler.toml has keys this test does not check: ${unknown.join(', ')}`)
  const dir = mkdtempSync(join(tmpdir(), 'mesa-wrangler-'))
  try {
    copyFileSync(join(ROOT, 'wrangler.toml'), join(dir, 'wrangler.toml'))
    await buildBundles({ only: ['edge'], outdir: join(dir, 'dist') })
    return {
      name: String(top.name),
      main: String(top.main),
      compatibilityDate: String(top.compatibility_date),
      compatibilityFlags: (top.compatibility_flags as string[] | undefined) ?? [],
      vars,
      secrets: [...text.matchAll(/wrangler secret put ([A-Z0-9_]+)/g)].map(([, name]) => name!),
      script: readFileSync(resolve(dir, String(top.main)), 'utf8'),
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * The TOML the sample uses, and no more (no TOML parser is among the dependencies): `key = value` at the top and
 * under `[vars]`, values being basic or literal strings, booleans, integers or arrays of strings, and `#` comments.
 * Anything else throws, naming the line. https://toml.io/en/v1.0.0
 */
export function parseToml(text: string): { top: Record<string, unknown>; vars: Record<string, unknown> } {
  const tables: { top: Record<string, unknown>; vars: Record<string, unknown> } = { top: {}, vars: {} }
  let table = tables.top
  for (const [index, raw] of text.split('\n').entries()) {
    const line = withoutComment(raw).trim()
    if (line === '') continue
    const fail = (why: string) => new Error(`wrangler.toml line ${index + 1}: ${why}: ${raw}`)
    if (line.startsWith('[')) {
      if (line !== '[vars]') throw fail('only the [vars] table is understood')
      table = tables.vars
      continue
    }
    const match = /^([A-Za-z0-9_-]+)\s*=\s*(.+)$/.exec(line)
    if (!match) throw fail('not a key = value line')
    const [, key, value] = match as unknown as [string, string, string]
    if (key in table) throw fail('a key given twice')
    table[key] = parseValue(value, fail)
  }
  return tables
}

function parseValue(value: string, fail: (why: string) => Error): unknown {
  if (value === 'true' || value === 'false') return value === 'true'
  if (/^[+-]?\d+$/.test(value)) return Number(value)
  if (/^"([^"\\]|\\.)*"$/.test(value)) return JSON.parse(value) as string
  if (/^'[^']*'$/.test(value)) return value.slice(1, -1)
  if (value.startsWith('[') && value.endsWith(']')) {
    const items = value.slice(1, -1).trim()
    return items === '' ? [] : items.split(',').map((item) => parseValue(item.trim(), fail))
  }
  throw fail('a value of a kind this reader does not understand')
}

/** The line up to a `#` that is not inside a string. */
function withoutComment(line: string): string {
  let quote: string | undefined
  for (let i = 0; i < line.length; i++) {
    const char = line[i]
    if (quote === '"' && char === '\\') i++
    else if (quote !== undefined && char === quote) quote = undefined
    else if (quote === undefined && (char === '"' || char === "'")) quote = char
    else if (quote === undefined && char === '#') return line.slice(0, i)
  }
  return line
}
