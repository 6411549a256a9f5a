// @ts-check
// A local osls plugin (serverless.yml `plugins:`): builds the functions' bundles from the sources with
// esbuild.config.mjs right before osls needs them, so `serverless package`, `deploy`, `deploy function` and
// `invoke local` always ship and run the current code, on a fresh clone too (dist/ is not in git).

// Node reads the source maps only when told to; the functions are (serverless.yml, provider.environment).
const SOURCE_MAPS = /(^|\s)--enable-source-maps(\s|$)/

/**
 * @typedef {object} Serverless  the part of osls's `serverless` object this plugin reads
 * @property {{ getAllFunctions(): string[], getFunction(name: string): { environment?: Record<string, string> },
 *   provider: { environment?: Record<string, string> } }} service
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
      // invoke local loads dist/<fn>/index.js in this process: build it first, and read its map as Lambda would.
      'before:invoke:local:invoke': async () => {
        await this.build([String(options.function)])
        if (this.readsSourceMaps(String(options.function))) process.setSourceMapsEnabled(true)
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

  /** True when the function runs with NODE_OPTIONS=--enable-source-maps, its own or the provider's. */
  readsSourceMaps(/** @type {string} */ name) {
    const environment = { ...this.serverless.service.provider.environment, ...this.serverless.service.getFunction(name).environment }
    return SOURCE_MAPS.test(environment.NODE_OPTIONS ?? '')
  }
}

const kib = (/** @type {number} */ bytes) => `${(bytes / 1024).toFixed(1)} KiB`
