import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ConsumerProject, createConsumerProject } from './support/consumer-project'
import { deliveredTo, useConsumerStack } from './support/consumer-stack'

// The packed tarball installed into fresh plain-JavaScript projects, run with node against the real stack.
const TCP = 'redis is a redis:// URL, which needs the optional peer dependency ioredis: npm install ioredis'
const EDGE = 'redis is a redis:// URL, which edge runtimes cannot use: pass { url, token } of an Upstash REST endpoint'
const REST_ONLY = 'redis is not an Upstash REST endpoint: this build (rest-only) reaches Redis over REST alone; pass { url, token }'
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

  it('maps #tcp-transport to the TCP transport by default, to the edge one under workerd, worker and browser, and to the REST-only one under rest-only, in both builds', async () => {
    // Neither project has ioredis, so each transport says which one it is when handed a redis:// URL.
    const attempt = 'try { await new Dispatcher("redis://127.0.0.1:1").dispatch(new Message(0, {})) } catch (error) { console.log(error.message) }'
    const scripts = {
      esm: ['--input-type=module', '-e', `import { Dispatcher, Message } from 'mesa-dispatch-serverless'; ${attempt}`],
      cjs: ['-e', `const { Dispatcher, Message } = require('mesa-dispatch-serverless'); (async () => { ${attempt} })()`],
    }
    const conditions = ['default', 'workerd', 'worker', 'browser', 'rest-only'] as const
    const answers = async (project: ConsumerProject, args: string[]) =>
      Object.fromEntries(
        await Promise.all(
          conditions.map(async (condition) => {
            const flags = condition === 'default' ? [] : [`--conditions=${condition}`]
            return [condition, (await project.run('node', [...flags, ...args])).stdout.trim()] as const
          }),
        ),
      )

    expect({ esm: await answers(esm, scripts.esm), cjs: await answers(cjs, scripts.cjs) }).toEqual({
      esm: { default: TCP, workerd: EDGE, worker: EDGE, browser: EDGE, 'rest-only': REST_ONLY },
      cjs: { default: TCP, workerd: EDGE, worker: EDGE, browser: EDGE, 'rest-only': REST_ONLY },
    })
  })
})
