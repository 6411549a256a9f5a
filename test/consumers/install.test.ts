import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ConsumerProject, createConsumerProject } from './support/consumer-project'
import { ROOT } from './support/env'

// Installing the packed tarball, as `npm install ./mesa-dispatch-serverless-0.1.0.tgz` does: npm 11 lists a
// dependency's install-time scripts for review, `prepare` among them for a tarball, so the packed package.json
// carries no scripts at all (scripts/pack-manifest.mjs) and the install is silent.
let project: ConsumerProject

beforeAll(async () => {
  project = await createConsumerProject('cli')
}, 120_000)
afterAll(() => project?.close())

describe('npm install of the packed tarball', () => {
  it('prints no warning: no install-scripts review of a prepare the package cannot run', () => {
    const { stdout, stderr } = project.installed
    expect(`${stdout}\n${stderr}`).not.toMatch(/npm warn|install-scripts|prepare/i)
  })

  it('installs a package.json without scripts, while the repository keeps its own for git installs', () => {
    const installed = JSON.parse(readFileSync(join(project.dir, 'node_modules', 'mesa-dispatch-serverless', 'package.json'), 'utf8'))
    const repository = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'))
    expect({ installed: installed.scripts, prepare: repository.scripts.prepare }).toEqual({
      installed: undefined,
      prepare: 'node scripts/build-package.mjs --if-missing',
    })
  })
})
