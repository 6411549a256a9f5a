// @ts-check
// A local osls plugin (serverless.yml `plugins:`): builds the functions' bundles from the sources with
// esbuild.config.mjs right before osls needs them, so `serverless package`, `deploy`, `deploy function` and
// `invoke local` always ship and run the current code, on a fresh clone too (dist/ is not in git).

import Module from 'node:module'
import { join } from 'node:path'

// osls's invoke local loads the handler with require() and falls back on import() only when require() throws
// ERR_REQUIRE_ESM. Node 20.19+ and 22.12+ require() ES modules themselves, but not one with top-level await, which
// each function's bundle has (src/triggers/lambda-init.ts): they throw ERR_REQUIRE_ASYNC_MODULE, which osls gives up on.
// Lambda itself import()s an ESM handler, so only invoke local needs this.

/**
 * @typedef {object} Serverless  the part of osls's `serverless` object this plugin reads
 * @property {string} serviceDir
 * @property {{ getAllFunctions(): string[] }} service
 * @property {{ Error: new (message: string) => Error }} classes
 */

/** Builds every function's bundle before packaging, the deployed function's alone, or the invoked one's. */
export default class BuildBundles {
  /**
   * @param {Serverless} serverless
   * @param {{ function?: string }} options
   * @param {{ log: { notice(text: string): void } }} utils
   */
  constructor(serverless, options, { log }) {
    this.serverless = serverless
    this.log = log
    this.hooks = {
      'before:package:createDeploymentArtifacts': () => this.build(serverless.service.getAllFunctions()),
      'before:deploy:function:packageFunction': () => this.build([String(options.function)]),
      // invoke local loads dist/<fn>/index.js in this process: build it first, and let osls import() it.
      'before:invoke:local:invoke': async () => {
        await this.build([String(options.function)])
        importOnRequire(join(serverless.serviceDir, 'dist', String(options.function), 'index'))
      },
    }
  }

  /** Builds the bundles of the named functions (those that have one in esbuild.config.mjs) into dist/. */
  async build(/** @type {string[]} */ functions) {
    // Loaded here, not at the top, so that commands which build nothing (info, logs, remove) never load esbuild.
    const { buildBundles, bundles } = await import('../../esbuild.config.mjs')
    const only = functions.filter((name) => bundles.some((bundle) => bundle.name === name))
    if (only.length === 0) return
    let built
    try {
      built = await buildBundles({ only })
    } catch (error) {
      throw new this.serverless.classes.Error(`Building the bundles (esbuild.config.mjs) failed: ${error instanceof Error ? error.message : String(error)}`)
    }
    const sizes = built.map((each) => `${each.name} ${kib(each.bytes)}${each.map ? ` + map ${kib(each.map.bytes)}` : ''}`)
    this.log.notice(`Built the bundles from the sources (esbuild.config.mjs): ${sizes.join(', ')}`)
  }
}

/** Makes require() of `path` (extensionless, as osls asks for it) throw ERR_REQUIRE_ESM, so that osls import()s it. */
function importOnRequire(/** @type {string} */ path) {
  const require = Module.prototype.require
  Module.prototype.require = function (id) {
    if (id !== path) return require.call(this, id)
    throw Object.assign(new Error(`${id} is an ES module with top-level await: import() it`), { code: 'ERR_REQUIRE_ESM' })
  }
}

const kib = (/** @type {number} */ bytes) => `${(bytes / 1024).toFixed(1)} KiB`
