// Preloaded with NODE_OPTIONS="--require …/map-reads.cjs" into a bundle's process: appends the path of every source
// map the process reads (fs.readFileSync of a `.map` file) to the file named by MAP_READS_LOG, so that a test can
// count when a bundle's map is read.
'use strict'
const fs = require('node:fs')
const { fileURLToPath } = require('node:url')

const readFileSync = fs.readFileSync
fs.readFileSync = function (path, ...rest) {
  const file = path instanceof URL ? fileURLToPath(path) : String(path)
  if (process.env.MAP_READS_LOG && file.endsWith('.map')) fs.appendFileSync(process.env.MAP_READS_LOG, `${file}\n`)
  return readFileSync.call(this, path, ...rest)
}
// ES modules that import { readFileSync } from 'node:fs' see the patched function only once the exports are synced.
require('node:module').syncBuiltinESMExports()
