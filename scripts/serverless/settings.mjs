// @ts-check
// The deploy's settings check, around the very readers the functions run at start (src/function-settings.ts,
// loaded as TypeScript through tsx): which problems the resolved environments have, which of them are mere empty
// values, and where serverless.yml reads each variable. The osls plugin is check-settings.mjs.

import { createRequire } from 'node:module'

/** The variable that lets a package or deploy go ahead with empty settings (offline CI packaging): `true`. */
export const ALLOW_EMPTY_SETTINGS = 'MESA_ALLOW_EMPTY_SETTINGS'

/**
 * Reads ALLOW_EMPTY_SETTINGS: `true` allows, unset, empty or `false` does not, anything else is refused (a typo
 * must not quietly leave the check on, nor off).
 * @param {string | undefined} value
 */
export function isEmptyAllowed(value) {
  if (value === 'true') return true
  if (value === undefined || value === '' || value === 'false') return false
  throw new Error(`${ALLOW_EMPTY_SETTINGS} must be true or false, not "${value}"`)
}

/**
 * @typedef {(name: string, env: Record<string, unknown>) => { problems: readonly { variable: string, problem: string }[] } | undefined} Checker
 * @typedef {object} Problem
 * @property {string} variable   the variable, or variables (`A or B`), at fault
 * @property {string} problem    what is wrong, never the value
 * @property {string[]} functions the functions that would refuse it at start
 * @property {boolean} empty     whether every variable it names is empty in those functions' environments
 */

/**
 * Loads `checkFunctionSettings` from src/function-settings.ts: the same code the bundles run, compiled by tsx.
 * @returns {Promise<Checker>}
 */
export async function loadChecker() {
  const { tsImport } = await import('tsx/esm/api')
  const module = await tsImport('../../src/function-settings.ts', import.meta.url)
  return module.checkFunctionSettings
}

/**
 * Every problem the functions would find at start in their resolved environments, each once, with the functions
 * that would find it. Values are read as Lambda hands them over: strings, an unset one empty.
 * @param {Array<{ name: string, environment: Record<string, unknown> }>} functions
 * @param {Checker} check
 * @returns {Problem[]}
 */
export function findProblems(functions, check) {
  /** @type {Map<string, Problem>} */
  const found = new Map()
  for (const { name, environment } of functions) {
    const env = asLambdaEnvironment(environment)
    for (const { variable, problem } of check(name, env)?.problems ?? []) {
      const key = `${variable} ${problem}`
      const entry = found.get(key) ?? { variable, problem, functions: [], empty: true }
      entry.functions.push(name)
      entry.empty &&= variablesOf(variable).every((each) => (env[each] ?? '').trim() === '')
      found.set(key, entry)
    }
  }
  return [...found.values()]
}

/** `A`, `A or B`, `A, B`: the variable names a problem mentions. */
export const variablesOf = (/** @type {string} */ variable) => variable.split(/,\s*|\s+or\s+/).filter(Boolean)

/** @returns {Record<string, string>} */
function asLambdaEnvironment(/** @type {Record<string, unknown>} */ environment) {
  return Object.fromEntries(Object.entries(environment).map(([name, value]) => [name, value === undefined || value === null ? '' : String(value)]))
}

/**
 * Where serverless.yml reads a variable for a stage, as the command that sets it: `export NAME=…` for an
 * `${env:NAME}` param, `aws ssm put-parameter …` for an `${ssm:/path}` one. Follows `${param:key}` into the
 * stage's own `params` block, then `params.default`, as osls does.
 * @param {Record<string, any>} raw  serverless.yml as written, variables unresolved
 * @param {string} stage
 * @param {string} variable
 */
export function describeSource(raw, stage, variable) {
  const declared = [raw.provider?.environment, ...Object.values(raw.functions ?? {}).map((fn) => fn?.environment)]
    .map((environment) => environment?.[variable])
    .find((value) => value !== undefined)
  const param = /^\$\{param:(\w+)\}$/.exec(String(declared ?? ''))?.[1]
  const source = String((param ? (raw.params?.[stage]?.[param] ?? raw.params?.default?.[param]) : declared) ?? '')
  const ssm = /^\$\{ssm:([^,}\s]+)/.exec(source)?.[1]
  if (ssm) return `aws ssm put-parameter --type SecureString --name ${ssm} --value …`
  const env = /^\$\{env:(\w+)/.exec(source)?.[1]
  if (env) return `export ${env}=…`
  return `set it in serverless.yml${param ? ` (params.${stage}.${param})` : ''}`
}

/**
 * The message a refused package or deploy ends with: every problem, the functions it would stop, and how to set
 * each variable.
 * @param {{ command: string, stage: string, problems: Problem[], raw: Record<string, any> }} refusal
 */
export function describeRefusal({ command, stage, problems, raw }) {
  const lines = problems.map(({ variable, problem, functions }) => `- ${variable} ${problem} (${functions.join(', ')})`)
  const variables = [...new Set(problems.flatMap(({ variable }) => variablesOf(variable)))]
  return [
    `Refusing to run \`serverless ${command}\` for stage "${stage}": its functions would refuse ${problems.length === 1 ? 'this setting' : `these ${problems.length} settings`} at start.`,
    ...lines,
    `Set them where serverless.yml reads them for stage "${stage}", then run it again:`,
    ...variables.map((name) => `  ${name}: ${describeSource(raw, stage, name)}`),
    `To run it with empty settings anyway (CI packaging offline, say), set ${ALLOW_EMPTY_SETTINGS}=true; wrong values are refused all the same.`,
  ].join('\n')
}

/** The warning a package or deploy prints when ALLOW_EMPTY_SETTINGS lets it go ahead with empty settings. */
export function describeAllowed(/** @type {{ command: string, stage: string, problems: Problem[] }} */ { command, stage, problems }) {
  const names = [...new Set(problems.flatMap(({ variable }) => variablesOf(variable)))]
  return `${ALLOW_EMPTY_SETTINGS}=true: \`serverless ${command}\` goes ahead for stage "${stage}" with ${list(names)} empty; its functions cannot work until they are set.`
}

/**
 * serverless.yml as written, its variables unresolved, read by osls's own reader (which knows the `!GetAtt` tags).
 * @param {string} path
 * @returns {Promise<Record<string, any>>}
 */
export function readRawConfiguration(path) {
  return createRequire(import.meta.url)('osls/lib/configuration/read')(path)
}

const list = (/** @type {string[]} */ names) => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`)
