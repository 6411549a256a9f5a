import { connect } from 'node:net'

/** One command as Redis's MONITOR reports it: who ran it (`lua` for a command a script ran) and its arguments. */
export interface MonitoredCommand {
  source: string
  args: string[]
}

/** A MONITOR connection to a redis-server, recording every command it runs, those of scripts included. */
export interface Monitor {
  /** Waits until every command sent before this call is recorded, then closes the connection and returns them in order. */
  stop(): Promise<MonitoredCommand[]>
}

/**
 * Starts recording. MONITOR is read from a raw socket, not through ioredis, whose parser splits arguments at every
 * `" "`, which a JSON message holds: each line is `<time> [<db> <source>] "<arg>" "<arg>" …`, every argument quoted
 * with C-style escapes (Redis's sdscatrepr), which are decoded here to the bytes sent.
 */
export async function startMonitor(redisUrl: string): Promise<Monitor> {
  const { hostname, port } = new URL(redisUrl)
  const socket = connect(Number(port), hostname)
  const recorded: MonitoredCommand[] = []
  let pending = ''
  let onLine: ((line: string) => void) | undefined
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => {
    pending += chunk
    let end = pending.indexOf('\r\n')
    while (end >= 0) {
      onLine?.(pending.slice(0, end))
      pending = pending.slice(end + 2)
      end = pending.indexOf('\r\n')
    }
  })
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    onLine = (line) => (line === '+OK' ? resolve() : reject(new Error(`MONITOR answered ${line}`)))
    socket.write('MONITOR\r\n')
  })
  const sentinel = `monitor-end-${process.pid}-${Date.now()}`
  let ended!: () => void
  const end = new Promise<void>((resolve) => (ended = resolve))
  onLine = (line) => {
    const command = parseLine(line)
    if (command.args[0]?.toLowerCase() === 'echo' && command.args[1] === sentinel) ended()
    else recorded.push(command)
  }
  return {
    async stop() {
      // Another connection's ECHO is recorded after everything Redis ran before it.
      const marker = connect(Number(port), hostname)
      marker.write(`ECHO ${sentinel}\r\n`)
      await end
      marker.destroy()
      socket.destroy()
      return recorded
    },
  }
}

/** `1700000000.123456 [0 lua] "SET" "k" "v"` → `{ source: 'lua', args: ['SET', 'k', 'v'] }`. */
function parseLine(line: string): MonitoredCommand {
  const match = /^\+\d+\.\d+ \[\d+ ([^\]]+)\] (.*)$/.exec(line)
  if (!match) throw new Error(`not a MONITOR line: ${line.slice(0, 200)}`)
  const args: string[] = []
  const text = match[2]!
  let i = 0
  while (i < text.length) {
    if (text[i] === ' ') i++
    if (text[i] !== '"') throw new Error(`unquoted argument in a MONITOR line: ${line.slice(0, 200)}`)
    const bytes: number[] = []
    for (i++; text[i] !== '"'; i++) {
      if (text[i] !== '\\') {
        bytes.push(text.charCodeAt(i))
        continue
      }
      const escaped = text[++i]!
      if (escaped === 'x') {
        bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16))
        i += 2
      } else bytes.push((ESCAPES[escaped] ?? escaped).charCodeAt(0))
    }
    i++
    args.push(Buffer.from(bytes).toString('utf8'))
  }
  return { source: match[1]!, args }
}

const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', a: '\x07', b: '\b' }
