import type { Redis } from 'ioredis'

/** Redis's own accounting of one command: calls, and microseconds of its main thread per call. */
export interface CommandStat {
  calls: number
  usecPerCall: number
}

/** Zeroes Redis's per-command statistics (INFO commandstats). */
export async function resetCommandStats(admin: Redis): Promise<void> {
  await admin.config('RESETSTAT')
}

/**
 * Reads INFO commandstats: how much of Redis's own time each command took. A script's inner calls are
 * counted both under their own names and inside EVALSHA's time, which is what lets the Lua overhead be
 * told apart from the Redis commands it runs.
 */
export async function readCommandStats(admin: Redis): Promise<Record<string, CommandStat>> {
  const stats: Record<string, CommandStat> = {}
  for (const line of (await admin.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/.exec(line.trim())
    if (match) stats[match[1]!] = { calls: Number(match[2]), usecPerCall: Number(match[3]) }
  }
  return stats
}

/** Runs `work` with fresh statistics and returns Redis's time per call of each command it issued. */
export async function measureRedisTime(admin: Redis, work: () => Promise<unknown>): Promise<Record<string, CommandStat>> {
  await resetCommandStats(admin)
  await work()
  const stats = await readCommandStats(admin)
  // The admin client's own CONFIG RESETSTAT and INFO are not part of the work.
  for (const name of Object.keys(stats)) if (name.startsWith('config') || name === 'info') delete stats[name]
  return stats
}

/**
 * Redis's own time per EVALSHA of each variant, measured in short blocks that alternate A, B, B, A, …: the per-block
 * figures of the variants pair up, so a machine that slows down or speeds up during the run weighs on both alike.
 * (SLOWLOG would tell calls apart one by one, but it logs a script's inner commands too, which inflates its time.)
 */
export async function alternateRedisTime(
  admin: Redis,
  variants: Record<string, () => Promise<unknown>>,
  options: { blocks: number; callsPerBlock: number },
): Promise<Record<string, number[]>> {
  const names = Object.keys(variants)
  const perBlock: Record<string, number[]> = Object.fromEntries(names.map((name) => [name, []]))
  for (let block = 0; block < options.blocks; block++) {
    const order = block % 2 === 0 ? names : [...names].reverse()
    for (const name of order) {
      const stats = await measureRedisTime(admin, async () => {
        for (let i = 0; i < options.callsPerBlock; i++) await variants[name]!()
      })
      perBlock[name]!.push(stats.evalsha?.usecPerCall ?? Number.NaN)
    }
  }
  return perBlock
}

/** Seconds of CPU the redis-server process has used since it started, user and system (INFO cpu). */
export async function readRedisCpuSeconds(admin: Redis): Promise<number> {
  const info = await admin.info('cpu')
  const seconds = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN)
  return seconds('used_cpu_user') + seconds('used_cpu_sys')
}
