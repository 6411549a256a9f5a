// @ts-check
// Which settings a deploy must not ship empty, and how to tell the user where serverless.yml reads each one:
// functions of the resolved environments and of serverless.yml as written. The osls plugin is require-settings.mjs.

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
 * @typedef {object} SettingGroup
 * @property {string[]} variables
 * @property {'all' | 'any'} needs  every variable set, or at least one
 * @property {string} why          what fails without them, for the message
 */

/** @type {readonly SettingGroup[]} The settings without which a deployed function cannot do its job. */
export const SETTING_GROUPS = [
  {
    variables: ['UPSTASH_REDIS_REST_URL', 'UPSTASH_REDIS_REST_TOKEN'],
    needs: 'all',
    why: 'every function reaches Redis with the URL and the token',
  },
  {
    variables: ['DISPATCH_KEYS', 'DISPATCH_TOKEN', 'DISPATCH_SIGNING_SECRET'],
    needs: 'any',
    why: 'the http function authenticates requests with the keys they make, and refuses every request without them',
  },
]

/**
 * @typedef {object} EmptyGroup
 * @property {SettingGroup} group
 * @property {string[]} empty  the group's variables that are empty, in the group's order
 */

/**
 * The groups left unsatisfied by any function's resolved environment (provider's and function's merged). A group
 * applies to a function whose environment declares any of its variables; an unset or blank value is empty.
 * @param {Array<Record<string, unknown>>} environments
 * @returns {EmptyGroup[]}
 */
export function findEmptySettings(environments) {
  return SETTING_GROUPS.flatMap((group) => {
    const empty = new Set()
    for (const environment of environments) {
      const declared = group.variables.filter((name) => name in environment)
      const blank = declared.filter((name) => isBlank(environment[name]))
      if (group.needs === 'all') for (const name of blank) empty.add(name)
      else if (declared.length > 0 && blank.length === declared.length) for (const name of declared) empty.add(name)
    }
    return empty.size > 0 ? [{ group, empty: group.variables.filter((name) => empty.has(name)) }] : []
  })
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
 * The message a refused package or deploy ends with: what is empty, why it matters, and how to set each one.
 * @param {{ command: string, stage: string, empty: EmptyGroup[], raw: Record<string, any> }} refusal
 */
export function describeRefusal({ command, stage, empty, raw }) {
  const problems = empty.map(({ group, empty: names }) => `- ${list(names)} ${verb(group, names)} empty: ${group.why}.`)
  const fixes = empty.flatMap(({ empty: names }) => names.map((name) => `  ${name}: ${describeSource(raw, stage, name)}`))
  return [
    `Refusing to run \`serverless ${command}\` for stage "${stage}": settings its functions need are empty.`,
    ...problems,
    `Set them where serverless.yml reads them for stage "${stage}", then run it again:`,
    ...fixes,
    `To run it with them empty anyway (CI packaging offline, say), set ${ALLOW_EMPTY_SETTINGS}=true.`,
  ].join('\n')
}

/** The warning a package or deploy prints when ALLOW_EMPTY_SETTINGS lets it go ahead with empty settings. */
export function describeAllowed(/** @type {{ command: string, stage: string, empty: EmptyGroup[] }} */ { command, stage, empty }) {
  const names = empty.flatMap((each) => each.empty)
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

const isBlank = (/** @type {unknown} */ value) => value === undefined || value === null || String(value).trim() === ''
const verb = (/** @type {SettingGroup} */ group, /** @type {string[]} */ names) =>
  names.length === 1 ? 'is' : group.needs === 'any' ? (names.length === 2 ? 'are both' : 'are all') : 'are'
const list = (/** @type {string[]} */ names) => (names.length < 2 ? names.join('') : `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`)
