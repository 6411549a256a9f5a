import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'
import { buildBundles } from '../../esbuild.config.mjs'
import { type ServedEndpoint, serveEndpoint } from './dispatch-endpoint'
import { type MesaServer, startMesaServer } from './mesa-server'
import { type CommandRun, runCommand } from './processes'
import type { Stack } from './stack'

/** The built `mesa-dispatch` bin, and a namespace with an endpoint and a real Mesa server in it to run it against. */
export interface BuiltCli {
  namespace: string
  endpoint: ServedEndpoint
  mesa: MesaServer
  /** Runs the bin with only PATH and `env` set, so the developer's own MESA_* or DISPATCH_* variables cannot leak in. */
  run(args: string[], env?: Record<string, string>): Promise<CommandRun>
}

/**
 * Builds the CLI bundle into a temp dir (the file the package ships as lib/cli/index.js) before the file's tests,
 * and serves a sync-on endpoint and a Mesa 1.5.8 server in a fresh namespace of `stack`; all gone after them.
 */
export function useBuiltCli(stack: Stack): BuiltCli {
  let outdir: string
  let cli: string
  const parts = {} as BuiltCli
  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'mesa-cli-'))
    const [built] = await buildBundles({ only: ['cli'], outdir })
    cli = built!.file
    parts.namespace = stack.freshNamespace()
    parts.endpoint = await serveEndpoint(stack.dispatcher({ namespace: parts.namespace, sync: { enabled: true } }))
    parts.mesa = await startMesaServer({ redisUrl: stack.redis.url, namespace: parts.namespace })
  }, 60_000)
  afterAll(async () => {
    await parts.endpoint?.close()
    await parts.mesa?.close()
    rmSync(outdir, { recursive: true, force: true })
  })
  parts.run = (args, env = {}) => runCommand(process.execPath, [cli, ...args], { env: { PATH: process.env.PATH ?? '', ...env } })
  return parts
}
