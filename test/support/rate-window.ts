// The fixed windows of a rate limit, aligned to the Unix epoch as src/core/rate-limit.ts counts them.

/** Seconds until the current window of `windowSeconds` ends, rounded up as Retry-After is. */
export const secondsToWindowEnd = (windowSeconds: number): number => Math.ceil(windowSeconds - ((Date.now() / 1000) % windowSeconds))

/** Waits out the last seconds of a window, so that a test's requests all fall in one. */
export async function awayFromWindowEnd(windowSeconds: number): Promise<void> {
  const left = windowSeconds - ((Date.now() / 1000) % windowSeconds)
  if (left < 5) await new Promise((resolve) => setTimeout(resolve, left * 1000 + 100))
}
