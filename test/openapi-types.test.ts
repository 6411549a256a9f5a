import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { OPENAPI_FILE } from './support/openapi'
import { runCommand } from './support/processes'
import { ROOT } from './support/serverless-cli'

// The README and docs/http-api.md show generating TypeScript types from docs/openapi.yaml in one command, and
// http-api.md a use of them. This runs that command as written, from the devDependency (no download), in a fresh
// folder, then typechecks the page's use of the output and a few answers of the real app's shape against it.
const COMMAND = /npx openapi-typescript [^\n`#]+/g
const pages = Object.fromEntries(['README.md', 'docs/http-api.md'].map((page) => [page, readFileSync(join(ROOT, page), 'utf8')]))
const dir = mkdtempSync(join(tmpdir(), 'openapi-types-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The command as a page shows it, on one line, without a trailing comment. */
const commandsIn = (text: string) => [...text.matchAll(COMMAND)].map(([command]) => command.trim())

describe('the types command the docs show', () => {
  it('is the same command on every page that shows it', () => {
    const shown = Object.fromEntries(Object.entries(pages).map(([page, text]) => [page, commandsIn(text)]))
    expect(shown).toEqual({
      'README.md': ['npx openapi-typescript docs/openapi.yaml -o mesa.d.ts'],
      'docs/http-api.md': ['npx openapi-typescript docs/openapi.yaml -o mesa.d.ts'],
    })
  })

  it("runs offline from the devDependency, and its output types the page's example and the app's answers", async () => {
    const [command] = commandsIn(pages['docs/http-api.md']!)
    // A project of its own whose node_modules is this repository's, so npx finds the installed bin and fetches nothing.
    mkdirSync(join(dir, 'docs'))
    copyFileSync(OPENAPI_FILE, join(dir, 'docs', 'openapi.yaml'))
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
    writeFileSync(join(dir, 'package.json'), '{ "name": "openapi-types-check", "private": true, "type": "module" }\n')
    const generated = await runCommand('sh', ['-c', command!], { cwd: dir, env: { ...process.env, npm_config_offline: 'true' }, timeoutMs: 50_000 })
    expect(generated.code, generated.stderr).toBe(0)

    const example = /```ts\n(import type \{ components \} from '\.\/mesa'[\s\S]*?)```/.exec(pages['docs/http-api.md']!)?.[1]
    expect(example, 'docs/http-api.md shows a use of the generated types').toBeDefined()
    writeFileSync(
      join(dir, 'use.ts'),
      `${example!}
import type { paths } from './mesa'
const result: DispatchResult = { servers: 1, recipients: ['0'], online: ['0'], offline: [1], unstored: [1], stored: 0, dropped: 0, duplicate: false, excludingIgnored: false }
type Answer = paths['/dispatch']['post']['responses'][200]['content']['application/json']
export const answers: Answer[] = [{ ok: true, result }, { ok: true, results: [{ ok: false, error: { name: 'RedisCommandError', message: 'x', outcome: 'none' } }] }]
export const clear: paths['/backlog/clear']['post']['requestBody']['content']['application/json'] = { recipients: ['1', 7] }
// @ts-expect-error servers is a number
export const wrong: DispatchResult = { ...result, servers: '1' }
`,
    )
    const compilerOptions = { strict: true, noEmit: true, module: 'esnext', moduleResolution: 'bundler', target: 'es2022', types: [] }
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['use.ts'] }))
    const checked = await runCommand(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], { cwd: dir })
    expect({ code: checked.code, output: checked.stdout + checked.stderr }).toEqual({ code: 0, output: '' })
  }, 60_000)
})
