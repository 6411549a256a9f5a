import { execFileSync } from 'node:child_process'
import os from 'node:os'

/** The machine and code a run measured, so that figures from different runs are never compared blindly. */
export interface Machine {
  cpu: string
  cores: number
  memoryGiB: number
  node: string
  os: string
  redisServer: string
  date: string
  gitCommit: string
  /** Whether the work tree had uncommitted changes, which the commit alone does not show. */
  gitDirty: boolean
}

/** Describes this machine, its Node and redis-server, the date and the git commit. */
export function describeMachine(): Machine {
  const cpus = os.cpus()
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    redisServer: run('redis-server', ['--version']).match(/v=(\S+)/)?.[1] ?? 'unknown',
    date: new Date().toISOString(),
    gitCommit: run('git', ['rev-parse', 'HEAD']) || 'unknown',
    // The run's own outputs, and saved runs waiting to be committed beside it, are data, not the code measured.
    gitDirty: run('git', ['status', '--porcelain', '--', '.', ':!bench/results.json', ':!BENCHMARKS.md', ':!bench/runs']).length > 0,
  }
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch {
    return ''
  }
}
