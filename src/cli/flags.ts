import { parseArgs } from 'node:util'
import { nearestNames } from './nearest.js'
import { UsageError } from './usage-error.js'

/** An option as `parseArgs` declares it. */
type OptionConfig = { type: 'string' | 'boolean'; short?: string }

/** What `parseArgs` returns for `options` with positionals allowed. */
export type ParsedFlags<T extends Record<string, OptionConfig>> = {
  values: ReturnType<typeof parseArgs<{ options: T; allowPositionals: true }>>['values']
  positionals: string[]
}

/**
 * Parses argv against `options` with the rules of `parseArgs` in strict mode, but answers every mistake with a
 * UsageError in the CLI's own words, e.g. `unknown option --tokn; did you mean --token?`, where Node's own
 * message would be a paragraph about positionals, with an unclosed quote.
 */
export function parseFlags<T extends Record<string, OptionConfig>>(argv: string[], options: T): ParsedFlags<T> {
  const { values, positionals, tokens } = parseArgs({ args: argv, options, allowPositionals: true, strict: false, tokens: true })
  for (const token of tokens) {
    if (token.kind !== 'option') continue
    const written = argv[token.index] ?? token.rawName
    const option: OptionConfig | undefined = Object.hasOwn(options, token.name) ? options[token.name] : undefined
    if (option === undefined) throw new UsageError(unknownOption(token.rawName, written, Object.keys(options)))
    if (option.type === 'boolean' && token.value !== undefined) throw new UsageError(`${token.rawName} takes no value, got ${written}`)
    if (option.type === 'string' && token.value === undefined) throw new UsageError(`${token.rawName} needs a value`)
    // Without `=`, parseArgs takes whatever follows as the value, even the next option: `--endpoint --token T`.
    if (option.type === 'string' && !token.inlineValue && /^(--.|-[A-Za-z]$)/.test(token.value ?? '')) {
      throw new UsageError(`${token.rawName} needs a value, and ${token.value} looks like an option (write ${token.rawName}=${token.value} if it is the value)`)
    }
  }
  return { values, positionals } as ParsedFlags<T>
}

/** `unknown option --tokn; did you mean --token?`, also for a long option written with one dash (`-version`). */
function unknownOption(rawName: string, written: string, names: string[]): string {
  const longName = rawName.startsWith('--') ? rawName.slice(2) : /^-[^-]{2,}/.test(written) ? written.slice(1).split('=')[0]! : undefined
  const shown = longName !== undefined && !rawName.startsWith('--') ? written.split('=')[0]! : rawName
  const nearest = longName === undefined ? [] : nearestNames(longName, names)
  return nearest.length === 0 ? `unknown option ${shown}` : `unknown option ${shown}; did you mean ${nearest.map((name) => `--${name}`).join(' or ')}?`
}
