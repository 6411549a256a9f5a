import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CommandRun, runCommand } from '../support/processes'
import { cleanEnv, ROOT } from './support/env'

// `npm install <git url>`: npm clones the repo, runs `npm install` in the clone (devDependencies included) and its
// `prepare` script, which builds lib/, then packs the clone as `npm pack` would. This installs this repo's committed
// HEAD (not uncommitted changes) from a local bare repository, under --strict-allow-scripts, with the consumer
// approving the dependency's prepare script in its package.json `allowScripts`, as npm 11 documents.
let dir: string
let consumer: string

async function run(cwd: string, command: string, args: string[]): Promise<CommandRun> {
  const result = await runCommand(command, args, { cwd, env: cleanEnv(), timeoutMs: 300_000 })
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${result.code} in ${cwd}:\n${result.stdout}\n${result.stderr}`)
  return result
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mesa-git-install-'))
  const bare = join(dir, 'mesa-dispatch-serverless.git')
  // The bare repository's HEAD must name the pushed branch: npm reads the default branch from it.
  await run(dir, 'git', ['init', '-q', '--bare', '--initial-branch=main', bare])
  // A push of HEAD works from a branch or a detached checkout alike.
  await run(ROOT, 'git', ['push', '-q', bare, 'HEAD:refs/heads/main'])
  const { stdout: sha } = await run(ROOT, 'git', ['rev-parse', 'HEAD'])
  const url = `git+${pathToFileURL(bare).href}`
  consumer = join(dir, 'consumer')
  mkdirSync(consumer)
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer-git', private: true, allowScripts: { [url]: true } }))
  await run(consumer, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--strict-allow-scripts', `${url}#${sha.trim()}`])
}, 300_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('npm install <git url>', () => {
  it('builds the three compiled trees in prepare', () => {
    expect(readdirSync(join(consumer, 'node_modules', 'mesa-dispatch-serverless', 'lib')).sort()).toEqual(['cjs', 'cli', 'esm'])
  })

  it('links a working bin: npx mesa-dispatch --help prints the usage', async () => {
    const { code, stdout, stderr } = await run(consumer, 'npx', ['mesa-dispatch', '--help'])

    expect({ code, firstLine: stdout.split('\n', 1)[0], stderr }).toEqual({
      code: 0,
      firstLine: 'mesa-dispatch: send Mesa dispatches from a shell, through the dispatch endpoint or straight to Redis.',
      stderr: '',
    })
  })
})
