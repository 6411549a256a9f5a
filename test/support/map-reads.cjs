// Preloaded with NODE_OPTIONS="--require …/map-reads.cjs" into a bundle's process: appends the path of every source
// map the process reads (fs.readFileSync of a `.map` file) to the file named by MAP_READS_LOG, so that a test can
// count when a bundle's map is read.
'use strict'
const fs = require('node:fs')

const readFileSync = fs.readFileSync
fs.readFileSync = function (path, ...rest) {
  if (process.env.MAP_READS_LOG && String(path).endsWith('.map')) fs.appendFileSync(process.env.MAP_READS_LOG, `${String(path)}\n`)
  return readFileSync.call(this, path, ...rest)
}
// ES modules that import { readFileSync } from 'node:fs' see the patched function only once the exports are synced.
require('node:module').syncBuiltinESMExports()
