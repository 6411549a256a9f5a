import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { brokenLinks, headingAnchors, linkTargets } from './support/markdown'
import { ROOT } from './support/serverless-cli'

// The documentation's relative links, between README.md, CONTRIBUTING.md, CHANGELOG.md, BENCHMARKS.md and docs/*.md: each names a
// file that exists and, after `#`, a heading it has, as GitHub slugs it. A page moved, renamed or not written yet,
// or a heading reworded, fails here instead of on a reader.
const DOCS = readdirSync(join(ROOT, 'docs'))
  .filter((name) => name.endsWith('.md'))
  .map((name) => `docs/${name}`)
const FILES = ['README.md', 'CONTRIBUTING.md', 'CHANGELOG.md', 'BENCHMARKS.md', ...DOCS]

describe('the documentation links', () => {
  it.each(FILES)('in %s name files and headings that exist', (file) => {
    expect(brokenLinks(ROOT, file)).toEqual([])
  })

  it("reach every page of docs/ from the README's map", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8')
    const map = readme.slice(readme.indexOf('\n## Documentation'), readme.indexOf('\n## ', readme.indexOf('\n## Documentation') + 1))
    expect(DOCS.filter((page) => !linkTargets(map).includes(page))).toEqual([])
  })
})

describe('the link check itself', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docs-links-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('slugs headings as GitHub does: code, punctuation and case dropped, underscores kept, repeats numbered', () => {
    const page = [
      "## Migrating from @cryb/mesa's Dispatcher",
      '### Rotate DISPATCH_TOKEN',
      '### POST /backlog/clear',
      '## `GET /health` (and HEAD)',
      '## Errors',
      '## Errors',
      '```sh',
      '# not a heading',
      '```',
    ].join('\n')
    expect([...headingAnchors(page)]).toEqual([
      'migrating-from-crybmesas-dispatcher',
      'rotate-dispatch_token',
      'post-backlogclear',
      'get-health-and-head',
      'errors',
      'errors-1',
    ])
  })

  it('reports a missing page, a missing heading and a fragment into a file that is not markdown, and nothing in code', () => {
    mkdirSync(join(dir, 'docs'), { recursive: true })
    writeFileSync(join(dir, 'docs', 'here.md'), '# Here\n\n## A part\n')
    writeFileSync(join(dir, 'docs', 'data.yaml'), 'a: 1\n')
    const links = [
      '[fine](docs/here.md#a-part)',
      '[gone](docs/capacity.md)',
      '[reworded](docs/here.md#the-part)',
      '[yaml](docs/data.yaml#a)',
      '[self](#top)',
      '`[code](docs/nowhere.md)`',
      '[web](https://example.com/x.md#y)',
      '```md\n[fenced](docs/nowhere.md)\n```',
    ]
    writeFileSync(join(dir, 'README.md'), `# Top\n\n${links.join('\n\n')}\n`)
    expect(brokenLinks(dir, 'README.md')).toEqual([
      'README.md: (docs/capacity.md): docs/capacity.md does not exist',
      'README.md: (docs/here.md#the-part): docs/here.md has no heading #the-part',
      'README.md: (docs/data.yaml#a): a #fragment into a file that is not markdown',
    ])
  })
})
