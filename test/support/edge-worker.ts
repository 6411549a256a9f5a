import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Json, Miniflare } from 'miniflare'

/** The edge entry running inside workerd, driven like any fetch handler. */
export interface EdgeWorker {
  /** Sends a standard Request to the Worker and answers with a standard Response, its body fully read. */
  fetch(request: Request): Promise<Response>
  /** Disposes Miniflare, which stops its workerd process. */
  close(): Promise<void>
}

// Under compatibility dates before 2024-11-11, workerd throws "The 'cache' field on 'RequestInitializerDict' is
// not implemented" for any fetch given `cache` (checked with this workerd: 2024-11-10 throws, 2024-11-11 works).
// Our transport never sends it, but @upstash/redis's Node client defaults to `cache: 'no-store'`, so test under a
// recent date as a new deploy would use. No `nodejs_compat` flag: the edge bundle must run without Node APIs.
const COMPATIBILITY_DATE = '2025-09-01'

/** Statuses whose Response must have a null body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304])
/**
 * Headers that describe the hop from workerd to Miniflare rather than the Worker's answer: framing, and
 * MF-Content-Encoding, which Miniflare sets after undici has already decoded a compressed body.
 */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'mf-content-encoding'])

/** What `esbuild.config.mjs` exports, as its JSDoc declares it. */
interface BuildConfig {
  buildBundles(options?: { only?: string[]; outdir?: string }): Promise<Array<{ name: string; file: string; bytes: number; nodeBuiltins: string[] }>>
}
// Imported by URL because tsconfig has no allowJs, so a static import of the .mjs would be an untyped `any` (TS7016).
const BUILD_CONFIG = new URL('../../esbuild.config.mjs', import.meta.url).href

let bundle: Promise<string> | undefined

/** How the Worker runs, when not as the defaults above say (e.g. as the sample wrangler.toml says). */
export interface EdgeWorkerOptions {
  name?: string
  /** The Worker's code. @default the edge bundle, built once per process */
  script?: string
  /** @default COMPATIBILITY_DATE */
  compatibilityDate?: string
  /** @default none */
  compatibilityFlags?: string[]
}

/**
 * Builds the edge bundle (once per process) and starts it in workerd through Miniflare with the given bindings
 * as its `env`. The Worker may fetch loopback addresses such as the local Upstash gateway: Miniflare's default
 * outbound network allows public and private (which includes local) addresses.
 */
export async function startEdgeWorker(bindings: Record<string, unknown>, options: EdgeWorkerOptions = {}): Promise<EdgeWorker> {
  const script = options.script ?? (await edgeBundle())
  const before = workerdChildren()
  // The bundle is passed as a string: Miniflare rereads a scriptPath on every start, and the build's directory
  // is already gone (vitest ends its fork workers without an 'exit' event, so nothing could remove it later).
  const mf = new Miniflare({
    ...(options.name === undefined ? {} : { name: options.name }),
    modules: true,
    script,
    compatibilityDate: options.compatibilityDate ?? COMPATIBILITY_DATE,
    compatibilityFlags: options.compatibilityFlags ?? [],
    bindings: bindings as Record<string, Json>,
  })
  try {
    await mf.ready
  } catch (error) {
    await mf.dispose().catch(() => undefined)
    throw error
  }
  const watchdogs = [...workerdChildren()].filter((pid) => !before.has(pid)).map(watch)

  let closing: Promise<void> | undefined
  return {
    async fetch(request) {
      const method = request.method.toUpperCase()
      const body = method === 'GET' || method === 'HEAD' ? undefined : new Uint8Array(await request.arrayBuffer())
      const headers = [...request.headers]
      // undici adds Accept-Encoding when none is given, and Miniflare's entry then compresses the answer as
      // Cloudflare's edge would; ask for identity so the bytes that come back are the ones the Worker wrote.
      if (!request.headers.has('accept-encoding')) headers.push(['accept-encoding', 'identity'])
      // Miniflare bundles its own undici, whose Request does not recognise Node's, so pass plain parts.
      // redirect: 'manual' hands a 3xx back as the Worker wrote it, as a fetch handler's caller would see it.
      const answer = await mf.dispatchFetch(request.url, { method, headers, body, redirect: 'manual' })
      const bytes = new Uint8Array(await answer.arrayBuffer())
      const responseHeaders = new Headers()
      for (const [name, value] of answer.headers) if (!HOP_HEADERS.has(name)) responseHeaders.append(name, value)
      return new Response(NULL_BODY_STATUSES.has(answer.status) ? null : bytes, {
        status: answer.status,
        statusText: answer.statusText,
        headers: responseHeaders,
      })
    },
    close: () =>
      (closing ??= (async () => {
        await mf.dispose()
        await Promise.all(watchdogs.map(stop))
      })()),
  }
}

/** The edge bundle's code, built on first use and shared by every Worker of the process. */
function edgeBundle(): Promise<string> {
  bundle ??= buildEdgeBundle()
  return bundle
}

/** Builds the edge bundle with the deploy build's own settings and returns its code, leaving no files behind. */
async function buildEdgeBundle(): Promise<string> {
  const outdir = mkdtempSync(join(tmpdir(), 'mesa-edge-'))
  try {
    const { buildBundles } = (await import(BUILD_CONFIG)) as BuildConfig
    const [edge] = await buildBundles({ only: ['edge'], outdir })
    if (!edge) throw new Error('buildBundles returned no edge bundle')
    // The build leaves Node built-ins external; without nodejs_compat workerd could not load such a bundle.
    if (edge.nodeBuiltins.length > 0) {
      throw new Error(`the edge bundle imports Node built-ins (${edge.nodeBuiltins.join(', ')}); it must run without Node`)
    }
    return await readFile(edge.file, 'utf8')
  } finally {
    rmSync(outdir, { recursive: true, force: true })
  }
}

/** The pids of this process's workerd children, read from /proc; empty where there is no /proc. */
function workerdChildren(): Set<number> {
  const pids = new Set<number>()
  let entries: string[]
  try {
    entries = readdirSync('/proc')
  } catch {
    return pids
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // Fields after the parenthesised command name: state, ppid, ...
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const close = stat.lastIndexOf(')')
      const command = stat.slice(stat.indexOf('(') + 1, close)
      const ppid = Number(stat.slice(close + 2).split(' ')[1])
      if (command === 'workerd' && ppid === process.pid) pids.add(Number(entry))
    } catch {
      // the process exited while we looked
    }
  }
  return pids
}

/**
 * Miniflare stops workerd on exit, SIGINT and SIGTERM, but a SIGKILLed test process leaves it running. This shell
 * holds our end of a pipe and sends workerd SIGTERM once the pipe reaches EOF, i.e. once this process is gone.
 */
function watch(pid: number): ChildProcess {
  const watchdog = spawn('/bin/sh', ['-c', 'read -r _; kill "$0" 2>/dev/null', String(pid)], { stdio: ['pipe', 'ignore', 'ignore'] })
  watchdog.on('error', () => undefined)
  watchdog.unref()
  ;(watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.()
  return watchdog
}

/** Stops a watchdog without letting it fire: workerd is already gone and its pid could be reused. */
function stop(watchdog: ChildProcess): Promise<void> {
  if (watchdog.pid === undefined || watchdog.exitCode !== null || watchdog.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    watchdog.once('exit', () => resolve())
    watchdog.kill('SIGKILL')
  })
}
