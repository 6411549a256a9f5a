import { statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ConsumerProject, createConsumerProject } from './support/consumer-project'
import { deliveredTo, useConsumerStack } from './support/consumer-stack'
import { TSC } from './support/env'

// The client as a frontend or edge project gets it: type-checked with "moduleResolution": "bundler" (strict,
// exactOptionalPropertyTypes, skipLibCheck false, no @types/node), bundled by esbuild for the browser, minified.
// 9 KiB, as test/client-bundle.test.ts: 8 KiB until the client retried.
const CLIENT_BUDGET_BYTES = 9 * 1024
const stack = useConsumerStack()
let project: ConsumerProject

beforeAll(async () => {
  project = await createConsumerProject('browser')
}, 120_000)
afterAll(async () => {
  await project?.close()
})

describe('the client bundled for the browser', () => {
  it(`type-checks, stays within ${CLIENT_BUDGET_BYTES} bytes minified, and its dispatch reaches the Mesa client`, async () => {
    const mesa = await stack.connect()
    const outfile = join(project.dir, 'bundle.mjs')

    await project.run('node', [TSC, '-p', '.'])
    const { metafile } = await build({
      absWorkingDir: project.dir,
      entryPoints: ['notify.ts'],
      outfile,
      bundle: true,
      minify: true,
      platform: 'browser',
      format: 'esm',
      metafile: true,
      logLevel: 'silent',
    })
    const bytes = statSync(outfile).size
    console.log(`client bundle (browser, minified): ${bytes} bytes, ${(bytes / 1024).toFixed(2)} KiB of a ${CLIENT_BUDGET_BYTES}-byte budget`)
    // Node has fetch and Web Crypto too, so the very file a page would load can dispatch from here.
    const script = `const { notify } = await import(${JSON.stringify(pathToFileURL(outfile).href)}); const [endpoint, token, id] = process.argv.slice(1); console.log(JSON.stringify(await notify(endpoint, token, id)))`
    const { CONSUMER_ENDPOINT, CONSUMER_ENDPOINT_TOKEN } = stack.env(String(mesa.id))
    const { stdout } = await project.run('node', ['--input-type=module', '-e', script, CONSUMER_ENDPOINT!, CONSUMER_ENDPOINT_TOKEN!, String(mesa.id)])

    // Only the package's ESM build went in: no @upstash/redis, nothing else from node_modules.
    const sources = Object.keys(metafile.inputs).map((input) => /node_modules\/(.+?\/lib\/[^/]+)\//.exec(input)?.[1] ?? relative('.', input))
    expect([...new Set(sources)].sort()).toEqual(['mesa-dispatch-serverless/lib/esm', 'notify.ts'])
    expect({ withinBudget: bytes <= CLIENT_BUDGET_BYTES, overBy: Math.max(0, bytes - CLIENT_BUDGET_BYTES) }).toEqual({ withinBudget: true, overBy: 0 })
    expect(JSON.parse(stdout)).toEqual(deliveredTo(mesa.id))
    expect(await mesa.waitForMessages(1)).toEqual([{ op: 0, d: { via: 'browser bundle' }, t: 'NOTE' }])
  })
})
