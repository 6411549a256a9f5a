import type { Stack, Transport } from './stack'

/**
 * How many round trips to Redis `work` made: HTTP requests that reached the gateway over REST, and commands sent
 * over TCP, which are only ever EVALSHA or EVAL (INFO commandstats; the calls a script makes inside Redis count
 * under their own names, so they are not mistaken for round trips).
 */
export async function roundTrips(stack: Stack, transport: Transport, work: () => Promise<unknown>): Promise<number> {
  if (transport === 'rest') return stack.requestsDuring(work)
  const before = await scriptCalls(stack)
  await work()
  return (await scriptCalls(stack)) - before
}

async function scriptCalls(stack: Stack): Promise<number> {
  const stats = await stack.admin.info('commandstats')
  const calls = (command: string) => Number(new RegExp(`cmdstat_${command}:calls=(\\d+),`).exec(stats)?.[1] ?? 0)
  return calls('evalsha') + calls('eval')
}
