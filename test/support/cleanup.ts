import { afterEach } from 'vitest'

/** Anything a test opens and must close. */
export interface Closeable {
  close(): Promise<void>
}

/**
 * Registers an afterEach that closes, newest first, everything a test opened with the returned function, so
 * clients leave before their servers do and one failed close does not hide another.
 */
export function useCleanup(): <T extends Closeable>(resource: T) => T {
  const opened: Closeable[] = []
  afterEach(async () => {
    const failures: unknown[] = []
    for (const resource of opened.splice(0).reverse()) {
      await resource.close().catch((error: unknown) => failures.push(error))
    }
    if (failures.length > 0) throw new AggregateError(failures, 'cleanup failed')
  })
  return (resource) => {
    opened.push(resource)
    return resource
  }
}
