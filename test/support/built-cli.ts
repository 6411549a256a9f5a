import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { buildBundles } from '../../esbuild.config.mjs'
import { type MesaBehindEndpoint, useMesaBehindEndpoint } from './mesa-behind-endpoint'
import { type CommandRun, runCommand } from './processes'
import type { Stack } from './stack'

/** The built `mesa-dispatch` bin, and a namespace with an endpoint and a real Mesa server in it to run it against. */
export interface BuiltCli extends MesaBehindEndpoint {
  /** Runs the bin with only PATH and `env` set, so the developer's own MESA_* or DISPATCH_* variables cannot leak in. */
  run(args: string[], env?: Record<string, string>): Promise<CommandRun>
}

/**
 * Builds the CLI bundle into a temp dir (the file the package ships as lib/cli/index.js) before the file's tests,
 * beside useMesaBehindEndpoint's endpoint and Mesa server; all gone after them.
 */
export function useBuiltCli(stack: Stack): BuiltCli {
  let outdir: string
  let cli: string
  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'mesa-cli-'))
    const [built] = await buildBundles({ only: ['cli'], outdir })
    cli = built!.file
  }, 60_000)
  afterAll(() => rmSync(outdir, { recursive: true, force: true }))
  const run = (args: string[], env: Record<string, string> = {}) =>
    runCommand(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '', ...env } })
  return Object.assign(useMesaBehindEndpoint(stack), { run })
}
