// Types for settings.mjs, so TypeScript tests can import it (the tsconfig does not check JavaScript).

/** Checks a function's environment as it reads it at start: src/function-settings.ts's checkFunctionSettings. */
export type Checker = (name: string, env: Record<string, unknown>) => { problems: readonly { variable: string; problem: string }[] } | undefined

/** One problem the functions would find at start. */
export interface Problem {
  /** The variable, or variables (`A or B`), at fault. */
  variable: string
  /** What is wrong, never the value. */
  problem: string
  /** The functions that would refuse it at start. */
  functions: string[]
  /** Whether every variable it names is empty in those functions' environments. */
  empty: boolean
}

/** The variable that lets a package or deploy go ahead with empty settings: `true`. */
export const ALLOW_EMPTY_SETTINGS: 'MESA_ALLOW_EMPTY_SETTINGS'

/** Reads ALLOW_EMPTY_SETTINGS: true for `true`, false when unset, empty or `false`; throws for anything else. */
export function isEmptyAllowed(value: string | undefined): boolean

/** Loads checkFunctionSettings from src/function-settings.ts through tsx. */
export function loadChecker(): Promise<Checker>

/** Every problem the functions would find at start in their resolved environments, each once. */
export function findProblems(functions: Array<{ name: string; environment: Record<string, unknown> }>, check: Checker): Problem[]

/** The variable names a problem mentions (`A`, `A or B`, `A, B`). */
export function variablesOf(variable: string): string[]

/** The command that sets a variable where serverless.yml reads it for a stage (`export …`, `aws ssm put-parameter …`). */
export function describeSource(raw: Record<string, unknown>, stage: string, variable: string): string

/** The message a refused package or deploy ends with. */
export function describeRefusal(refusal: { command: string; stage: string; problems: Problem[]; raw: Record<string, unknown> }): string

/** The warning printed when ALLOW_EMPTY_SETTINGS lets a package or deploy go ahead. */
export function describeAllowed(allowed: { command: string; stage: string; problems: Problem[] }): string

/** serverless.yml as written, its variables unresolved. */
export function readRawConfiguration(path: string): Promise<Record<string, unknown>>
