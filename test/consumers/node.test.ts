import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createConsumerProject, type ConsumerProject } from './support/consumer-project'
import { deliveredTo, useConsumerStack } from './support/consumer-stack'

// The packed tarball installed into fresh plain-JavaScript projects, run with node against the real stack.
const stack = useConsumerStack()
let esm: ConsumerProject
let cjs: ConsumerProject

beforeAll(async () => {
  ;[esm, cjs] = await Promise.all([createConsumerProject('esm'), createConsumerProject('cjs')])
}, 120_000)
afterAll(async () => {
  await esm?.close()
  await cjs?.close()
})

describe('the installed package in plain Node', () => {
  it('imports the ESM build in an ESM app, whose Dispatcher and client both reach the Mesa client', async () => {
    const mesa = await stack.connect()

    const { stdout } = await esm.run('node', ['app.mjs'], stack.env(String(mesa.id)))

    expect(JSON.parse(stdout)).toEqual({
      viaDispatcher: deliveredTo(mesa.id),
      viaClient: deliveredTo(mesa.id),
      loaded: ['mesa-dispatch-serverless/lib/esm/index.js', 'mesa-dispatch-serverless/lib/esm/client/index.js'],
    })
    expect(await mesa.waitForMessages(2)).toEqual([
      { op: 0, d: { via: 'dispatcher' }, t: 'ESM' },
      { op: 0, d: { via: 'client' }, t: 'ESM' },
    ])
  })

  it('requires the CommonJS build in a CommonJS app, whose Dispatcher and client both reach the Mesa client', async () => {
    const mesa = await stack.connect()

    const { stdout } = await cjs.run('node', ['app.js'], stack.env(String(mesa.id)))

    expect(JSON.parse(stdout)).toEqual({
      viaDispatcher: deliveredTo(mesa.id),
      viaClient: deliveredTo(mesa.id),
      loaded: ['mesa-dispatch-serverless/lib/cjs/index.js', 'mesa-dispatch-serverless/lib/cjs/client/index.js'],
    })
    expect(await mesa.waitForMessages(2)).toEqual([
      { op: 0, d: { via: 'dispatcher' }, t: 'CJS' },
      { op: 0, d: { via: 'client' }, t: 'CJS' },
    ])
  })
})
