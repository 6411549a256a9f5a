// @ts-check
// The package.json that `npm pack` and `npm publish` ship has no `scripts`: its `prepare` (which builds lib/ for
// `npm install <git url>`) would be listed by npm 11 as an install script to review on every tarball install,
// though it can never run there (scripts/ is not in the package). npm packs package.json as it is on disk after
// `prepack`, and runs `postpack` from the manifest it read before, so `prepack` strips the field and `postpack`
// puts the file back, byte for byte (the pattern of `pinst`, which does this for `postinstall`).
//   node scripts/pack-manifest.mjs strip     (end of prepack)
//   node scripts/pack-manifest.mjs restore   (postpack)
// A git install is unchanged: npm runs `prepare` in its clone from the package.json in git, before it packs.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const MANIFEST = join(root, 'package.json')
/** Where the original waits while a pack runs; outside the packed files, and ignored by git. */
export const BACKUP = join(root, 'node_modules', '.cache', 'mesa-dispatch-pack', 'package.json')

/** Replaces a file in one step, so that a reader (a test process resolving `imports`) never sees it half written. */
function replace(/** @type {string} */ path, /** @type {string} */ text) {
  const temporary = `${path}.${process.pid}.tmp`
  writeFileSync(temporary, text)
  renameSync(temporary, path)
}

/** Puts the original package.json back, if a pack set it aside. */
export function restore() {
  if (existsSync(BACKUP)) renameSync(BACKUP, MANIFEST)
}

/** Sets package.json aside and writes it without `scripts`; a pack that died before its postpack is undone first. */
export function strip() {
  restore()
  const original = readFileSync(MANIFEST, 'utf8')
  const { scripts: _scripts, ...packed } = JSON.parse(original)
  mkdirSync(dirname(BACKUP), { recursive: true })
  writeFileSync(BACKUP, original)
  replace(MANIFEST, `${JSON.stringify(packed, null, 2)}\n`)
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [command] = process.argv.slice(2)
  if (command === 'strip') strip()
  else if (command === 'restore') restore()
  else throw new Error(`pack-manifest: strip or restore, not ${JSON.stringify(command)}`)
}
