import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { DEV_NAMESPACE, DEV_TOKEN, exportLine, readyLine } from '../dev/ready-line'
import { proseOf } from './support/markdown'
import { ROOT } from './support/serverless-cli'

// The README is the front door: one page to start from, with the reference in docs/. This keeps it short, keeps the
// quick start near the top, and keeps the lines it says `npm run dev` prints the ones dev/ready-line.ts prints.
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')
const LINES = README.split('\n')

/** The code blocks of a section, by its `## ` heading. */
function blocksOf(heading: string): string[] {
  const start = README.indexOf(`\n## ${heading}\n`)
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section`)
  const section = README.slice(start, README.indexOf('\n## ', start + 1))
  return [...section.matchAll(/^```[^\n]*\n([\s\S]*?)^```$/gm)].map(([, code]) => code!)
}

describe('the README', () => {
  it('stays one page: at most 300 lines', () => {
    expect(LINES.length).toBeLessThanOrEqual(300)
  })

  it('starts the quick start within its first 60 lines, with npm ci, npm run dev and npm test', () => {
    const start = LINES.indexOf('## Quick start')
    expect(start).toBeGreaterThanOrEqual(0)
    expect(start).toBeLessThan(60)
    const commands = blocksOf('Quick start').join('\n')
    expect(['npm ci', 'npm run dev', 'npm test'].filter((command) => !commands.includes(command))).toEqual([])
  })

  it('shows the ready line and the export line exactly as npm run dev prints them, with PORT and TOKEN for its Redis', () => {
    const printed = [
      readyLine({
        consoleUrl: 'http://127.0.0.1:8787/',
        endpointUrl: 'http://127.0.0.1:8787/dispatch',
        mesaUrl: 'ws://127.0.0.1:4000',
        redisUrl: 'redis://127.0.0.1:PORT',
        token: DEV_TOKEN,
      }),
      exportLine({
        restUrl: 'http://127.0.0.1:PORT',
        restToken: 'TOKEN',
        namespace: DEV_NAMESPACE,
        endpointUrl: 'http://127.0.0.1:8787/dispatch',
        token: DEV_TOKEN,
      }),
    ]
    expect(blocksOf('Quick start').find((block) => block.startsWith('ready: '))).toBe(`${printed.join('\n')}\n`)
  })

  it('deploys a dev stage from environment variables before prod from SSM', () => {
    const blocks = blocksOf('Deploy')
    const dev = blocks.findIndex((block) => block.includes('--stage dev') && block.includes('export UPSTASH_REDIS_REST_URL='))
    const prod = blocks.findIndex((block) => block.includes('--stage prod') && block.includes('aws ssm put-parameter'))
    expect({ dev: dev >= 0, prod: prod >= 0, devFirst: dev < prod }).toEqual({ dev: true, prod: true, devFirst: true })
  })

  it('lists in Install every entry point and the bin of package.json, and links the page that lists their names', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; exports: Record<string, unknown>; bin: Record<string, string> }
    const entries = Object.keys(pkg.exports)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? pkg.name : `${pkg.name}${key.slice(1)}`))
    const install = proseOf(README.slice(README.indexOf('\n## Install\n'), README.indexOf('\n## ', README.indexOf('\n## Install\n') + 1)))
    expect({ listed: [...install.matchAll(/^- `([^`]+)`/gm)].map(([, name]) => name), linked: install.includes('(docs/library.md)') }).toEqual({
      listed: [...entries, ...Object.keys(pkg.bin).map((bin) => `npx ${bin}`)],
      linked: true,
    })
  })
})
