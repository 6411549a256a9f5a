// @ts-check
// A local osls plugin (serverless.yml `plugins:`): refuses to package or deploy a stage whose Redis settings, or
// both of whose auth secrets, resolved empty, naming each one and how to set it. Before this, `npm run package`
// with nothing exported wrote empty values into the template without a word. MESA_ALLOW_EMPTY_SETTINGS=true
// lets it go ahead (offline CI packaging), with a warning.

import { join } from 'node:path'
import { ALLOW_EMPTY_SETTINGS, describeAllowed, describeRefusal, findEmptySettings, isEmptyAllowed, readRawConfiguration } from './settings.mjs'

/**
 * @typedef {object} Serverless  the part of osls's `serverless` object this plugin reads
 * @property {{ getAllFunctions(): string[], getFunction(name: string): { environment?: Record<string, string> },
 *   provider: { environment?: Record<string, string> } }} service
 * @property {{ Error: new (message: string) => Error }} classes
 * @property {{ commands: string[] }} processedInput
 * @property {string} serviceDir
 * @property {string} configurationFilename
 * @property {(name: 'aws') => { getStage(): string }} getProvider
 */

/** Checks the resolved settings of every function before `package` (so `deploy` too), and of one before `deploy function`. */
export default class RequireSettings {
  /**
   * @param {Serverless} serverless
   * @param {{ function?: string }} options
   * @param {{ log: { warning(text: string): void } }} utils
   */
  constructor(serverless, options, { log }) {
    this.serverless = serverless
    this.log = log
    this.hooks = {
      // The first step of `package`, before it empties .serverless/ or builds anything.
      'before:package:cleanup': () => this.check(serverless.service.getAllFunctions()),
      // Before `deploy function` asks AWS anything; it updates the function's environment too.
      'before:deploy:function:initialize': () => this.check([String(options.function)]),
    }
  }

  /** Throws osls's own error (a message, no stack) when the named functions would deploy with empty settings. */
  async check(/** @type {string[]} */ functions) {
    const { service } = this.serverless
    const environments = functions.map((name) => ({ ...service.provider.environment, ...service.getFunction(name).environment }))
    const empty = findEmptySettings(environments)
    let allowed
    try {
      allowed = isEmptyAllowed(process.env[ALLOW_EMPTY_SETTINGS])
    } catch (error) {
      throw new this.serverless.classes.Error(error instanceof Error ? error.message : String(error))
    }
    if (empty.length === 0) return
    const command = this.serverless.processedInput.commands.join(' ')
    const stage = this.serverless.getProvider('aws').getStage()
    if (allowed) return this.log.warning(describeAllowed({ command, stage, empty }))
    const raw = await readRawConfiguration(join(this.serverless.serviceDir, this.serverless.configurationFilename))
    throw new this.serverless.classes.Error(describeRefusal({ command, stage, empty, raw }))
  }
}
