import { spawn } from 'node:child_process'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

/** How a finished command ended and what it printed. */
export interface CommandRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Where and how long a command may run: the project root and the inherited env unless told otherwise. */
export interface CommandOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  /** Kill it and reject after this long, naming the command. @default no limit */
  timeoutMs?: number
}

/** Runs a command to completion and resolves with its exit code and output. */
export function runCommand(command: string, args: string[], options: CommandOptions = {}): Promise<CommandRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    // Decoded as a stream, so that a character the pipe splits between two chunks comes out whole.
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            child.kill('SIGKILL')
            reject(new Error(`${command} ${args.join(' ')} ran over ${options.timeoutMs} ms\n${stdout}\n${stderr}`))
          }, options.timeoutMs)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.once('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs` naming what it waited for. */
export async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** True when a TCP connection to the loopback port is refused, i.e. nothing listens there any more. */
export function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    socket.once('connect', () => {
      socket.destroy()
      resolve(false)
    })
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'))
  })
}
