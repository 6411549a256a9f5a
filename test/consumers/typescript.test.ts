import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ConsumerProject, createConsumerProject } from './support/consumer-project'
import { deliveredTo, useConsumerStack } from './support/consumer-stack'
import { repoVersion, TSC } from './support/env'

// The packed tarball in fresh TypeScript projects ("module": "NodeNext", strict, exactOptionalPropertyTypes,
// skipLibCheck false), compiled with this repo's tsc and run with node: one ESM without ioredis, one CommonJS with it.
const stack = useConsumerStack()
let esm: ConsumerProject
let cjs: ConsumerProject

beforeAll(async () => {
  ;[esm, cjs] = await Promise.all([
    createConsumerProject('ts-esm', [repoVersion('@types/node')]),
    createConsumerProject('ts-cjs-ioredis', [repoVersion('@types/node'), repoVersion('ioredis')]),
  ])
}, 120_000)
afterAll(async () => {
  await esm?.close()
  await cjs?.close()
})

/**
 * Compiles the project with this repo's tsc (failing the test on any error, our .d.ts included) and returns which
 * of the package's compiled trees (lib/esm, lib/cjs) its program read declarations from.
 */
async function compile(project: ConsumerProject, flags: string[] = []): Promise<string[]> {
  const { stdout } = await project.run('node', [TSC, '-p', '.', '--listFiles', ...flags])
  const ours = stdout.split('\n').filter((file) => file.includes('/node_modules/mesa-dispatch-serverless/'))
  return [...new Set(ours.map((file) => /\/mesa-dispatch-serverless\/(lib\/[^/]+)\//.exec(file)?.[1] ?? file))]
}

describe('the installed package in TypeScript', () => {
  it('type-checks an ESM project without ioredis against the ESM declarations, and all three entry points deliver', async () => {
    const mesa = await stack.connect()

    const trees = await compile(esm)
    const { stdout } = await esm.run('node', ['out/app.js'], stack.env(String(mesa.id)))

    expect({ ioredis: existsSync(join(esm.dir, 'node_modules', 'ioredis')), trees }).toEqual({ ioredis: false, trees: ['lib/esm'] })
    expect(JSON.parse(stdout)).toEqual({
      viaDispatcher: deliveredTo(mesa.id),
      viaClient: deliveredTo(mesa.id),
      viaApp: { status: 200, body: { ok: true, result: deliveredTo(mesa.id) } },
    })
    expect(await mesa.waitForMessages(3)).toEqual([
      { op: 0, d: { via: 'dispatcher' }, t: 'TS' },
      { op: 0, d: { via: 'client' }, t: 'TS' },
      { op: 0, d: { via: 'app' }, t: 'TS' },
    ])
  })

  it('type-checks a CommonJS project with ioredis against the CommonJS declarations, and dispatches over redis://', async () => {
    const mesa = await stack.connect()

    const trees = await compile(cjs)
    const { stdout } = await cjs.run('node', ['out/app.js'], stack.env(String(mesa.id)))

    expect({ ioredis: existsSync(join(cjs.dir, 'node_modules', 'ioredis')), trees }).toEqual({ ioredis: true, trees: ['lib/cjs'] })
    expect(JSON.parse(stdout)).toEqual({ viaDispatcher: deliveredTo(mesa.id), viaClient: deliveredTo(mesa.id) })
    expect(await mesa.waitForMessages(2)).toEqual([
      { op: 0, d: { via: 'dispatcher' }, t: 'TS_CJS' },
      { op: 0, d: { via: 'client' }, t: 'TS_CJS' },
    ])
  })

  it('type-checks the CommonJS project with the classic node10 resolver too, which finds the subpaths by typesVersions', async () => {
    expect(await compile(cjs, ['--module', 'CommonJS', '--moduleResolution', 'Node10', '--noEmit'])).toEqual(['lib/cjs'])
  })
})
