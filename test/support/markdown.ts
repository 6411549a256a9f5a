import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import GithubSlugger from 'github-slugger'

/** A markdown file's text without its fenced code blocks, whose `#` lines are not headings and whose `](` are not links. */
export function proseOf(markdown: string): string {
  return markdown.replace(/^ {0,3}(```|~~~)[^\n]*\n[\s\S]*?^ {0,3}\1[^\n]*$/gm, '')
}

/** The text GitHub renders for a heading's markdown: code spans, links and emphasis reduced to their words. */
function renderedText(heading: string): string {
  return heading
    .replace(/`([^`]*)`/g, '$1')
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .replace(/(\*\*|__|\*)(.+?)\1/g, '$2')
}

/** The anchors GitHub gives a file's headings, with its `-1`, `-2` suffixes for repeated ones. */
export function headingAnchors(markdown: string): Set<string> {
  const slugger = new GithubSlugger()
  const headings = [...proseOf(markdown).matchAll(/^ {0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$/gm)]
  return new Set(headings.map(([, text]) => slugger.slug(renderedText(text!))))
}

/** Every inline link's target in a file's prose, as written: `[text](target)`, code spans left out. */
export function linkTargets(markdown: string): string[] {
  const prose = proseOf(markdown).replace(/`[^`\n]*`/g, '``')
  return [...prose.matchAll(/\]\(<?([^)\s>]+)>?(?:\s+"[^"]*")?\)/g)].map(([, target]) => target!)
}

/**
 * What is wrong with each relative link of `file` (a path under `root`): a target that does not exist, or a
 * `#fragment` that names no heading of the markdown file it points into. Links with a scheme are left alone.
 */
export function brokenLinks(root: string, file: string): string[] {
  const markdown = readFileSync(join(root, file), 'utf8')
  return linkTargets(markdown).flatMap((target) => {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return []
    const [path = '', fragment] = target.split('#', 2)
    const absolute = path === '' ? join(root, file) : resolve(dirname(join(root, file)), decodeURIComponent(path))
    const shown = `${file}: (${target})`
    if (!absolute.startsWith(root)) return [`${shown} points outside the repository`]
    if (!existsSync(absolute)) return [`${shown}: ${relative(root, absolute)} does not exist`]
    if (fragment === undefined) return []
    if (!absolute.endsWith('.md')) return [`${shown}: a #fragment into a file that is not markdown`]
    return headingAnchors(readFileSync(absolute, 'utf8')).has(fragment) ? [] : [`${shown}: ${relative(root, absolute)} has no heading #${fragment}`]
  })
}
