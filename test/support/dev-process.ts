import { type ChildProcess, spawn } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** `npm run dev` running in its own process group, as a terminal would run it. */
export interface DevProcess {
  /** npm's pid, also the id of the process group. */
  readonly pid: number
  /** Everything it printed so far, stdout and stderr interleaved. */
  readonly output: string
  /** Resolves with the first output line matching `pattern`, or rejects with the output so far. */
  waitForLine(pattern: RegExp, timeoutMs: number): Promise<string>
  /**
   * Sends `signal` to the whole process group, as Ctrl-C in a terminal does, or to npm alone, as a process
   * manager does, and resolves with how npm exited.
   */
  signal(signal: NodeJS.Signals, to: 'group' | 'npm', timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** Resolves with how npm exited on its own. */
  exited(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  /** The pids (with command names) still alive in its process group; zombies are not counted. */
  survivors(): string[]
  /** Kills whatever is left of the group; for cleanup after a failed test. */
  close(): Promise<void>
}

/** Starts `npm run dev` with extra env variables, in a new process group whose id is npm's pid. */
export function startDevProcess(env: Record<string, string>): DevProcess {
  const child: ChildProcess = spawn('npm', ['run', 'dev'], { cwd: ROOT, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const pgid = child.pid!
  let output = ''
  const listeners = new Set<() => void>()
  const hear = (chunk: Buffer) => {
    output += chunk.toString()
    for (const listener of listeners) listener()
  }
  child.stdout!.on('data', hear)
  child.stderr!.on('data', hear)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  )
  void exited.then(() => {
    for (const listener of listeners) listener()
  })

  const withTimeout = <T>(promise: Promise<T>, timeoutMs: number, what: string) =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} within ${timeoutMs} ms; output:\n${output}`)), timeoutMs).unref()),
    ])

  return {
    pid: pgid,
    get output() {
      return output
    },
    waitForLine(pattern, timeoutMs) {
      return withTimeout(
        new Promise<string>((resolve, reject) => {
          const check = () => {
            const line = output.split('\n').find((each) => pattern.test(each))
            if (line !== undefined) {
              listeners.delete(check)
              resolve(line)
            } else if (child.exitCode !== null || child.signalCode !== null) {
              listeners.delete(check)
              reject(new Error(`npm run dev exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}; output:\n${output}`))
            }
          }
          listeners.add(check)
          check()
        }),
        timeoutMs,
        `npm run dev printed no line matching ${pattern}`,
      )
    },
    signal(signal, to, timeoutMs) {
      process.kill(to === 'group' ? -pgid : pgid, signal)
      return withTimeout(exited, timeoutMs, `npm run dev did not exit after ${signal}`)
    },
    exited: (timeoutMs) => withTimeout(exited, timeoutMs, 'npm run dev did not exit'),
    survivors: () => groupMembers(pgid),
    async close() {
      try {
        process.kill(-pgid, 'SIGKILL')
      } catch {
        // the group is already empty
      }
      if (child.exitCode === null && child.signalCode === null) await exited
    },
  }
}

/** Living members of a process group, read from /proc: `pid command` for each one that is not a zombie. */
function groupMembers(pgid: number): string[] {
  const members: string[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const close = stat.lastIndexOf(')')
      // After the parenthesised command: state, ppid, pgrp, ...
      const [state, , pgrp] = stat.slice(close + 2).split(' ')
      if (Number(pgrp) === pgid && state !== 'Z') members.push(`${entry} ${stat.slice(stat.indexOf('(') + 1, close)}`)
    } catch {
      // it exited while we looked
    }
  }
  return members
}
