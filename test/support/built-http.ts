import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, vi } from 'vitest'
import { buildBundles } from '../../esbuild.config.mjs'
import type { HttpCall } from './events'
import { type HttpReply, lambdaTransports } from './http-transports'

/** The deployed http function, built by esbuild.config.mjs as `serverless package` builds it, in this process. */
export interface BuiltHttp {
  /** Loads a fresh copy of the bundle with `env` as its process.env at init (as Lambda starts an instance), through an HTTP API event. */
  start(env: Record<string, string>): Promise<BuiltHttpInstance>
}

/** One instance of the built http function. */
export interface BuiltHttpInstance {
  send(call: HttpCall): Promise<HttpReply>
  /** The same as a fetch handler, for serving the built function over real HTTP (dev/serve-fetch.ts). */
  fetch(request: Request): Promise<Response>
  /** Sends `call` and collects every line the function wrote to stdout meanwhile: its log lines and its EMF lines. */
  sendLogged(call: HttpCall): Promise<{ reply: HttpReply; lines: Record<string, unknown>[] }>
}

/**
 * Builds the http bundle once for the file, into a temp dir, and loads it as Lambda's runtime does: an ESM import
 * at init, with the env of the function. Each `start` imports a fresh module instance, so each reads its own env.
 */
export function useBuiltHttp(): BuiltHttp {
  let dir = ''
  let file = ''
  let instances = 0
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'built-http-'))
    const [http] = await buildBundles({ only: ['http'], outdir: dir })
    file = http!.file
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })
  return {
    async start(env) {
      const saved = { ...process.env }
      Object.assign(process.env, env)
      let handler: Parameters<typeof lambdaTransports>[0]
      try {
        ;({ handler } = await import(/* @vite-ignore */ `${pathToFileURL(file).href}?instance=${++instances}`))
      } finally {
        for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name]
        Object.assign(process.env, saved)
      }
      const [, httpApi] = lambdaTransports(handler)
      const send = (call: HttpCall) => httpApi!.send(call)
      return {
        send,
        async fetch(request) {
          const headers = Object.fromEntries(request.headers)
          const text = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.text()
          const reply = await send({ method: request.method, path: new URL(request.url).pathname, headers, ...(text === undefined ? {} : { body: text }) })
          const body = typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body)
          return new Response(request.method === 'HEAD' ? null : body, { status: reply.status, headers: reply.headers })
        },
        async sendLogged(call) {
          const lines: Record<string, unknown>[] = []
          const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
            if (typeof line === 'string' && line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>)
          })
          try {
            return { reply: await httpApi!.send(call), lines }
          } finally {
            log.mockRestore()
          }
        },
      }
    },
  }
}
