import type { Redis as IORedis } from 'ioredis'

const DAY = 86_400

/**
 * Makes the index entry of `id` say its newest message is `days` old, as if written then; the entry is
 * "<bytes>:<count>:<time>:<fingerprint>:<lengths>" (src/script/dispatch.lua).
 */
export async function ageEntry(admin: IORedis, index: string, id: string, days: number): Promise<void> {
  const parts = (await admin.hget(index, id))!.split(':')
  parts[2] = String(Math.floor(Date.now() / 1000) - days * DAY)
  await admin.hset(index, id, parts.join(':'))
}
