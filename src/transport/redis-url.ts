/** Whether a Dispatcher's first argument names a TCP Redis (`redis://`, `rediss://`) rather than an HTTP endpoint. */
export function isRedisUrl(value: unknown): value is string {
  return typeof value === 'string' && /^rediss?:\/\//i.test(value)
}
