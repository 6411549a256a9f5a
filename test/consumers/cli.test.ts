import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ENDPOINT_TOKEN } from '../support/dispatch-endpoint'
import { ROOT } from '../support/serverless-cli'
import { type ConsumerProject, createConsumerProject } from './support/consumer-project'
import { useConsumerStack } from './support/consumer-stack'

// The `mesa-dispatch` bin of the installed tarball, run the way its README says: `npx mesa-dispatch`.
const stack = useConsumerStack()
let project: ConsumerProject

beforeAll(async () => {
  project = await createConsumerProject('cli')
}, 120_000)
afterAll(async () => {
  await project?.close()
})

describe('npx mesa-dispatch, installed from the tarball', () => {
  it('prints its usage on --help and exits 0', async () => {
    const { code, stdout, stderr } = await project.run('npx', ['mesa-dispatch', '--help'])

    expect({ code, firstLine: stdout.split('\n', 1)[0], stderr }).toEqual({
      code: 0,
      firstLine: 'mesa-dispatch: send Mesa dispatches from a shell, through the dispatch endpoint or straight to Redis.',
      stderr: '',
    })
  })

  it("prints the installed package's version on --version and exits 0", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }

    expect(await project.run('npx', ['mesa-dispatch', '--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' })
  })

  it('sends through the endpoint, and the Mesa client gets the frame', async () => {
    const mesa = await stack.connect()
    const { CONSUMER_ENDPOINT } = stack.env(String(mesa.id))

    const run = await project.run('npx', [
      'mesa-dispatch',
      'send',
      '--endpoint',
      CONSUMER_ENDPOINT!,
      '--token',
      ENDPOINT_TOKEN,
      '--type',
      'CLI',
      '--data',
      '{"via":"npx"}',
      '--to',
      String(mesa.id),
    ])

    expect(run).toEqual({ code: 0, stdout: `sent to 1 server(s): online ${mesa.id}\n`, stderr: '' })
    expect(await mesa.waitForMessages(1)).toEqual([{ op: 0, d: { via: 'npx' }, t: 'CLI' }])
  })
})
