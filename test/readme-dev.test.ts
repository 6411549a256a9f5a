import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type StartedDev, shellExports, startDev } from './support/dev-ready'
import { runCommand } from './support/processes'
import { ROOT } from './support/serverless-cli'

// A new user pastes the export line `npm run dev` prints, then runs the examples of the README and of docs/cli.md as
// they are written: the token, the endpoint and the namespace must agree, so that each one is accepted and reaches
// the demo Mesa server.

const PAGES = { 'README.md': readFileSync(join(ROOT, 'README.md'), 'utf8'), 'docs/cli.md': readFileSync(join(ROOT, 'docs', 'cli.md'), 'utf8') }
const blocks = (page: keyof typeof PAGES, language: string) =>
  [...PAGES[page].matchAll(/```(\w+)\n([\s\S]*?)```/g)].filter(([, lang]) => lang === language).map(([, , code]) => code!)
/** The first code block of a page in a language that holds every one of `needles`. */
const blockWith = (page: keyof typeof PAGES, language: string, ...needles: string[]) => {
  const found = blocks(page, language).find((code) => needles.every((needle) => code.includes(needle)))
  if (found === undefined) throw new Error(`${page} has no ${language} block with ${needles.join(', ')}`)
  return found
}

let dev: StartedDev
let exported: Record<string, string>
let dir: string

beforeAll(async () => {
  dev = await startDev()
  exported = await shellExports(dev.exportLine)
  dir = mkdtempSync(join(tmpdir(), 'mesa-readme-'))
}, 150_000)
afterAll(async () => {
  await dev?.dev.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

/** The shell the user pasted the export line into: that env and PATH, nothing of the test's own. */
const shell = (command: string) =>
  runCommand('sh', ['-c', command], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? dir, ...exported },
    timeoutMs: 60_000,
  })

/** Runs a README TypeScript block with tsx, its package imports pointed at the sources. */
async function runTypeScript(code: string) {
  const file = join(dir, `example-${Math.random().toString(36).slice(2)}.mts`)
  const source = code
    .replace(/'mesa-dispatch-serverless\/client'/g, JSON.stringify(pathToFileURL(join(ROOT, 'src', 'client', 'index.ts')).href))
    .replace(/'mesa-dispatch-serverless'/g, JSON.stringify(pathToFileURL(join(ROOT, 'src', 'index.ts')).href))
  writeFileSync(file, source)
  return shell(`node --import ${JSON.stringify(pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href)} ${JSON.stringify(file)}`)
}

describe("the README's examples, pasted after npm run dev's export line", () => {
  it('export the token the dev endpoint takes and the README examples send', () => {
    expect({ token: exported.DISPATCH_TOKEN, endpoint: exported.MESA_DISPATCH_ENDPOINT }).toEqual({
      token: dev.token,
      endpoint: new URL(dev.endpoint).origin,
    })
  })

  it('the CLI lines with the bearer token or the REST URL each succeed, and each dispatch reaches the demo Mesa server', { timeout: 120_000 }, async () => {
    // The README runs the bin as `npx mesa-dispatch`; in this repository it says `npm run cli --` runs it from the sources.
    // The signing lines need a signing secret, which the dev stack has none of.
    const lines = blockWith('docs/cli.md', 'sh', 'npx mesa-dispatch send')
      .split('\n')
      .filter((line) => line.startsWith('npx mesa-dispatch') && !line.includes('--secret'))
    expect(lines.length).toBeGreaterThanOrEqual(4)
    const runs = []
    for (const line of lines) runs.push({ line, ...(await shell(line.replace(/^npx mesa-dispatch/, 'npm run --silent cli --'))) })

    expect(runs.filter((run) => run.code !== 0)).toEqual([])
    const sends = runs.filter((run) => run.line.includes(' send '))
    expect(sends.map((run) => run.stdout.split('\n')[0])).toEqual(sends.map(() => expect.stringMatching(/^sent to 1 server\(s\)/)))
  })

  it('the client example dispatches through the dev endpoint with $DISPATCH_TOKEN', { timeout: 60_000 }, async () => {
    const run = await runTypeScript(blockWith('README.md', 'ts', 'createDispatchClient({ endpoint: process.env.MESA_DISPATCH_ENDPOINT!'))
    expect(run, 'the client example exits 0 (a refused token throws)').toMatchObject({ code: 0, stderr: '' })
  })

  it('the Dispatcher example dispatches in the namespace api, the dev stack’s', { timeout: 60_000 }, async () => {
    const run = await runTypeScript(
      `${blockWith('README.md', 'ts', "namespace: 'api'", 'dispatcher.dispatch(new Message(0')}\nconsole.log(JSON.stringify(await dispatcher.presence(['alice'])))`,
    )
    expect(run).toMatchObject({ code: 0, stderr: '' })
    expect(JSON.parse(run.stdout)).toEqual({ online: ['alice'], offline: [] })
  })
})
