// Types for settings.mjs, so TypeScript tests can import it (the tsconfig does not check JavaScript).

/** The settings without which a deployed function cannot do its job, and what fails without them. */
export interface SettingGroup {
  variables: string[]
  /** Every variable set, or at least one. */
  needs: 'all' | 'any'
  why: string
}

/** A group left unsatisfied, with its variables that are empty. */
export interface EmptyGroup {
  group: SettingGroup
  empty: string[]
}

/** The variable that lets a package or deploy go ahead with empty settings: `true`. */
export const ALLOW_EMPTY_SETTINGS: 'MESA_ALLOW_EMPTY_SETTINGS'

/** Reads ALLOW_EMPTY_SETTINGS: true for `true`, false when unset, empty or `false`; throws for anything else. */
export function isEmptyAllowed(value: string | undefined): boolean

/** Redis (both needed) and auth (one of two needed). */
export const SETTING_GROUPS: readonly SettingGroup[]

/** The groups left unsatisfied by any of the functions' resolved environments. */
export function findEmptySettings(environments: Array<Record<string, unknown>>): EmptyGroup[]

/** The command that sets a variable where serverless.yml reads it for a stage (`export …`, `aws ssm put-parameter …`). */
export function describeSource(raw: Record<string, unknown>, stage: string, variable: string): string

/** The message a refused package or deploy ends with. */
export function describeRefusal(refusal: { command: string; stage: string; empty: EmptyGroup[]; raw: Record<string, unknown> }): string

/** The warning printed when ALLOW_EMPTY_SETTINGS lets a package or deploy go ahead. */
export function describeAllowed(allowed: { command: string; stage: string; empty: EmptyGroup[] }): string

/** serverless.yml as written, its variables unresolved. */
export function readRawConfiguration(path: string): Promise<Record<string, unknown>>
