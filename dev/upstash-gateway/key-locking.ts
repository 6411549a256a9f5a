import { createHash } from 'node:crypto'
import type { RedisCommand } from './commands'

// Upstash runs a script whose shebang says `#!lua flags=allow-key-locking` under locks on its KEYS alone
// (https://upstash.com/docs/redis/commands/scripting/eval); redis-server 7 refuses the flag (`ERR Unexpected flag in
// script shebang`). The gateway accepts it as Upstash does: it drops the flag before the text reaches redis-server,
// and answers to the SHA of the text it was given, which is what Upstash caches the script under. Locking itself
// is not imitated: one redis-server runs every script alone, which is the stricter of the two.

/** A command as the gateway sends it to redis-server, and how to turn redis-server's reply into Upstash's. */
export interface Translated {
  readonly command: RedisCommand
  readonly reply: (reply: unknown) => unknown
}

/** Translates the commands of one gateway: it remembers, for each flagged text it was given, the SHA redis-server knows it by. */
export interface KeyLockingShebangs {
  translate(command: RedisCommand): Translated
}

const SHEBANG = /^#!lua([^\n]*)\n/
const FLAG = 'allow-key-locking'
const same = (reply: unknown) => reply

const sha1 = (text: string) => createHash('sha1').update(text).digest('hex')

/** The text without the key-locking flag (its shebang line dropped when no other flag is left), or undefined when it has no such flag. */
export function withoutKeyLocking(text: string): string | undefined {
  const shebang = SHEBANG.exec(text)
  const flags = /^\s+flags=(\S*)\s*$/.exec(shebang?.[1] ?? '')?.[1]?.split(',')
  if (!shebang || !flags?.includes(FLAG)) return undefined
  const others = flags.filter((flag) => flag !== FLAG)
  return (others.length > 0 ? `#!lua flags=${others.join(',')}\n` : '') + text.slice(shebang[0].length)
}

/** Starts an empty map of flagged SHAs to the SHAs redis-server caches their texts under. */
export function createKeyLockingShebangs(): KeyLockingShebangs {
  const sent = new Map<string, string>()
  /** The text to send for `text`, noting its SHA: the flag dropped, or the text as it is. */
  const strip = (text: string): { text: string; flagged?: string } => {
    const plain = withoutKeyLocking(text)
    if (plain === undefined) return { text }
    const flagged = sha1(text)
    sent.set(flagged, sha1(plain))
    return { text: plain, flagged }
  }
  const shaOf = (arg: RedisCommand[number]) => (typeof arg === 'string' ? (sent.get(arg.toLowerCase()) ?? arg) : arg)

  return {
    translate(command) {
      const [name, ...args] = command
      const lower = name.toLowerCase()
      if ((lower === 'eval' || lower === 'eval_ro') && typeof args[0] === 'string') {
        return { command: [name, strip(args[0]).text, ...args.slice(1)], reply: same }
      }
      // A flagged SHA that was never given here (a gateway restarted) stays as it is: redis-server answers NOSCRIPT.
      if (lower === 'evalsha' || lower === 'evalsha_ro') return { command: [name, shaOf(args[0]!), ...args.slice(1)], reply: same }
      const sub = typeof args[0] === 'string' ? args[0].toLowerCase() : undefined
      if (lower === 'script' && sub === 'load' && typeof args[1] === 'string') {
        const { text, flagged } = strip(args[1])
        return { command: [name, args[0]!, text], reply: flagged ? () => Buffer.from(flagged) : same }
      }
      if (lower === 'script' && sub === 'exists') return { command: [name, args[0]!, ...args.slice(1).map(shaOf)], reply: same }
      return { command, reply: same }
    },
  }
}
