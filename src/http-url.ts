import { ConfigError } from './errors.js'

/** Parses an http(s) URL, or throws a ConfigError naming `variable` (never echoing the value, which may hold a secret). */
export function parseHttpUrl(value: string, variable: string, what = 'an http(s) URL'): URL {
  let url: URL
  try {
    url = new URL(value)
  } catch (error) {
    throw new ConfigError(variable, `must be ${what}`, { cause: error })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(variable, `must be ${what}`)
  return url
}
