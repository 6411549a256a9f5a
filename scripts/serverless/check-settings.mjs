// @ts-check
// A local osls plugin (serverless.yml `plugins:`): before a package or deploy, runs on each function's resolved
// environment the very readers that function runs at start (src/function-settings.ts), and refuses the stage with
// every problem at once, each named by its variable (never its value) and with the command that sets it. Before,
// it checked only that settings were not empty, and a deployed `http` answered 503 while `sqs` did not load.
// MESA_ALLOW_EMPTY_SETTINGS=true lets empty settings through (offline CI packaging) with a warning; wrong ones never.

import { join } from 'node:path'
import { ALLOW_EMPTY_SETTINGS, describeAllowed, describeRefusal, findProblems, isEmptyAllowed, loadChecker, readRawConfiguration } from './settings.mjs'

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
export default class CheckSettings {
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

  /** Throws osls's own error (a message, no stack) when the named functions would refuse their settings at start. */
  async check(/** @type {string[]} */ names) {
    const { service } = this.serverless
    let allowed
    try {
      allowed = isEmptyAllowed(process.env[ALLOW_EMPTY_SETTINGS])
    } catch (error) {
      throw new this.serverless.classes.Error(error instanceof Error ? error.message : String(error))
    }
    const functions = names.map((name) => ({ name, environment: { ...service.provider.environment, ...service.getFunction(name).environment } }))
    const problems = findProblems(functions, await loadChecker())
    const refused = allowed ? problems.filter((problem) => !problem.empty) : problems
    const command = this.serverless.processedInput.commands.join(' ')
    const stage = this.serverless.getProvider('aws').getStage()
    if (refused.length > 0) {
      const raw = await readRawConfiguration(join(this.serverless.serviceDir, this.serverless.configurationFilename))
      throw new this.serverless.classes.Error(describeRefusal({ command, stage, problems: refused, raw }))
    }
    if (problems.length > 0) this.log.warning(describeAllowed({ command, stage, problems }))
  }
}
