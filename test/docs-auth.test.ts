import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { SCOPES } from '../src/http/api-keys'
import { readApiKeys } from '../src/http/app-env'
import { ROOT } from './support/serverless-cli'

// docs/http-api.md's Authentication section held to the code: the DISPATCH_KEYS it shows is one the functions accept
// and means what it says, its signing examples are the files the tests run, and its test vector is the published one.
const PAGE = readFileSync(join(ROOT, 'docs', 'http-api.md'), 'utf8')
const SECTION = PAGE.slice(PAGE.indexOf('## Authentication'), PAGE.indexOf('\n## ', PAGE.indexOf('## Authentication') + 1))

/** The code blocks of a piece of markdown with the given language, in order. */
const codeBlocks = (markdown: string, language: string) =>
  [...markdown.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map(([, code]) => code!)
const example = (file: string) => readFileSync(join(ROOT, 'examples', 'signing', file), 'utf8')

describe("docs/http-api.md's Authentication", () => {
  it('shows a DISPATCH_KEYS value the functions accept: a notifier that may only dispatch, and a support tool with every scope and a rate limit', () => {
    const [shown] = codeBlocks(SECTION, 'json')
    expect(readApiKeys({ DISPATCH_KEYS: shown })).toEqual([
      { name: 'notifier', token: 'replace-with-32-random-characters', scopes: ['dispatch'] },
      {
        name: 'support',
        token: 'replace-with-another-32-characters',
        scopes: ['dispatch', 'presence', 'backlog:read', 'backlog:clear'],
        rateLimit: { requests: 60, windowSeconds: 60 },
      },
    ])
  })

  it('lists every scope, with the route it opens', () => {
    const rows = [...SECTION.matchAll(/^\| `([a-z:]+)` \| `POST (\/[a-z/]+)` \|$/gm)].map(([, scope, route]) => [scope, route])
    expect(rows).toEqual(
      SCOPES.map((scope) => [scope, { dispatch: '/dispatch', presence: '/presence', 'backlog:read': '/backlog', 'backlog:clear': '/backlog/clear' }[scope]]),
    )
  })

  it('shows the shell and Python signers exactly as examples/signing/ holds them', () => {
    expect({ shell: codeBlocks(SECTION, 'sh').includes(example('sign-request.sh')), python: codeBlocks(SECTION, 'python')[0] }).toEqual({
      shell: true,
      python: example('sign_request.py'),
    })
  })

  it('shows the first published test vector', () => {
    const [vector] = JSON.parse(example('vectors.json')) as Array<Record<string, string | number>>
    const cell = (label: string) => new RegExp(`^\\| ${label} \\| (.*) \\|$`, 'm').exec(SECTION)?.[1]
    expect({
      secret: cell('secret'),
      request: cell('key, time, method, route'),
      body: cell('body'),
      stringToSign: cell('string to sign'),
      header: cell('header'),
    }).toEqual({
      secret: `\`${vector!.secret}\``,
      request: `\`${vector!.keyId}\`, \`${vector!.timestamp}\`, \`${vector!.method}\`, \`${vector!.path}\``,
      body: `\`${vector!.body}\``,
      stringToSign: `\`${String(vector!.stringToSign).replaceAll('\n', '\\n')}\``,
      header: `\`${vector!.header}\``,
    })
  })
})
