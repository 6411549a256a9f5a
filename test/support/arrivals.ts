/** Things that arrive over time (frames, payloads), kept in order, with a way to wait for the first n. */
export interface Arrivals<T> {
  readonly items: T[]
  push(item: T): void
  /** Resolves with the first n items, or rejects with `explain()` once `timeoutMs` has passed. */
  waitFor(n: number, timeoutMs: number, explain: () => string): Promise<T[]>
}

/** Creates an empty, ordered list of arrivals. */
export function createArrivals<T>(): Arrivals<T> {
  const items: T[] = []
  const listeners = new Set<() => void>()
  return {
    items,
    push(item) {
      items.push(item)
      for (const listener of listeners) listener()
    },
    waitFor: (n, timeoutMs, explain) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (items.length < n) return
          done()
          resolve(items.slice(0, n))
        }
        const timer = setTimeout(() => {
          done()
          reject(new Error(`expected ${n} within ${timeoutMs} ms, got ${explain()}`))
        }, timeoutMs)
        const done = () => {
          clearTimeout(timer)
          listeners.delete(check)
        }
        listeners.add(check)
        check()
      }),
  }
}
