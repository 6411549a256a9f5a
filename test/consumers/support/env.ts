import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// What every consumer test shares about its surroundings: where this repo is, and the env its commands run with.

/** The project root. */
export const ROOT = fileURLToPath(new URL('../../..', import.meta.url))
/** This repo's own TypeScript, which compiles the TypeScript consumers. */
export const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')

/**
 * The test's env without the `npm_*` variables an npm script (`npm test`) sets, such as npm_config_local_prefix: a
 * consumer's npm must read its own project and the user's npmrc, not the config of the npm that runs the tests.
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_/i.test(name)))
  return { ...env, ...extra }
}

/**
 * `name@version` of a package this repo installs, such as @types/node: a consumer installs that same version, which
 * npm's cache already holds, so `--prefer-offline` needs no registry round trip for it.
 */
export function repoVersion(name: string): string {
  const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }
  return `${name}@${version}`
}
