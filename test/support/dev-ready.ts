import { readdirSync, readFileSync } from 'node:fs'
import { type DevProcess, startDevProcess } from './dev-process'
import { connectionRefused, runCommand } from './processes'

// `ready: console URL  endpoint URL  mesa URL  redis URL  token T  try: curl …`, as dev/ready-line.ts prints it.
const READY = /^ready: console (\S+) {2}endpoint (\S+) {2}mesa (\S+) {2}redis (\S+) {2}token (\S+) {2}try: (curl .+)$/
/** The line after it: `export NAME=value …  # comment`, to paste into a shell. */
const EXPORT = /^export \S/

/** `npm run dev`, running, and what its ready line and export line said. */
export interface StartedDev {
  dev: DevProcess
  consoleUrl: string
  endpoint: string
  mesaUrl: string
  redisUrl: string
  token: string
  curl: string
  /** The export line, verbatim. */
  exportLine: string
  /** The ports it listens on: the endpoint and console, Mesa, and Redis. */
  ports: { endpoint: number; mesa: number; redis: number }
}

/**
 * Starts `npm run dev` (ports 0, so each run picks free ones, unless `env` says otherwise; its own redis-server
 * unless `env` names one) and reads its ready line and export line.
 */
export async function startDev(env: Record<string, string> = {}, timeoutMs = 120_000): Promise<StartedDev> {
  // Empty values count as unset, so settings in the caller's environment cannot change what is tested.
  const dev = startDevProcess({ PORT: '0', MESA_PORT: '0', REDIS_URL: '', DISPATCH_TOKEN: '', ...env })
  try {
    const line = await dev.waitForLine(/^ready: /, timeoutMs)
    const exportLine = await dev.waitForLine(EXPORT, 10_000)
    const match = READY.exec(line)
    if (!match) throw new Error(`the ready line has an unexpected shape: ${line}`)
    const [consoleUrl = '', endpoint = '', mesaUrl = '', redisUrl = '', token = '', curl = ''] = match.slice(1)
    const port = (url: string) => Number(new URL(url).port)
    return {
      dev,
      consoleUrl,
      endpoint,
      mesaUrl,
      redisUrl,
      token,
      curl,
      exportLine,
      ports: { endpoint: port(endpoint), mesa: port(mesaUrl), redis: port(redisUrl) },
    }
  } catch (error) {
    await dev.close()
    throw error
  }
}

/** What a POSIX shell exports after running `line`: only the variables the line set (they all start so). */
export async function shellExports(line: string): Promise<Record<string, string>> {
  const run = await runCommand('sh', ['-c', `${line}\nexec env -0`], { env: { PATH: process.env.PATH ?? '' } })
  if (run.code !== 0) throw new Error(`sh could not run the export line (exit ${run.code}): ${run.stderr}\n${line}`)
  const exported = run.stdout
    .split('\0')
    .filter(Boolean)
    .map((entry) => [entry.slice(0, entry.indexOf('=')), entry.slice(entry.indexOf('=') + 1)] as const)
  return Object.fromEntries(exported.filter(([name]) => /^(UPSTASH_|MESA_|DISPATCH_)/.test(name)))
}

/**
 * What a stopped dev stack left behind, empty when nothing: processes of its group, processes naming its Redis
 * port (redis-server runs in a group of its own, so the group alone would miss it), and ports still listening.
 */
export async function leftovers({ dev, ports }: StartedDev): Promise<string[]> {
  const found = [...dev.survivors(), ...processesNamingPort(ports.redis)].map((each) => `process ${each}`)
  for (const [what, port] of Object.entries(ports)) {
    if (!(await connectionRefused(port))) found.push(`the ${what} port ${port} still accepts connections`)
  }
  return found
}

/**
 * Living processes whose command line names the loopback port: redis-server's title (`redis-server
 * 127.0.0.1:PORT`) and its wrapper's watchdog (`sh -c … --port PORT`), as `pid command line`.
 */
export function processesNamingPort(port: number): string[] {
  const found: string[] = []
  const title = new RegExp(`(^|\\s)127\\.0\\.0\\.1:${port}(\\s|$)`)
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      const named = args.some((arg, index) => title.test(arg) || (arg === '--port' && args[index + 1] === String(port)))
      if (named) found.push(`${entry} ${args.join(' ').trim()}`)
    } catch {
      // it exited while we looked
    }
  }
  return found
}
