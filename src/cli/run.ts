import type { Env } from '../config.js'
import { parseCli } from './args.js'
import { EXIT_CODES, exitCodeOf } from './exit-codes.js'
import { describeUnheard, formatError, formatResult } from './output.js'
import { askQuestion } from './question.js'
import { formatAnswer } from './question-output.js'
import { sendDispatch } from './send.js'
import { USAGE } from './usage.js'
import { VERSION } from './version.js'

/** Where the CLI writes: `process` in real use. */
export interface CliOutput {
  stdout: { write(text: string): unknown }
  stderr: { write(text: string): unknown }
}

/**
 * Runs one command line to completion and returns its exit code; it never throws. With `--json`, failures go to
 * stdout too, so a script reads one JSON document whatever happened.
 */
export async function runCli(argv: string[], env: Env, output: CliOutput): Promise<number> {
  // Known before parsing, so that even a usage error is reported as JSON when asked for.
  let json = argv.includes('--json')
  try {
    const command = parseCli(argv, env)
    if (command.kind === 'help') {
      output.stdout.write(USAGE)
      return EXIT_CODES.ok
    }
    if (command.kind === 'version') {
      output.stdout.write(`${VERSION}\n`)
      return EXIT_CODES.ok
    }
    json = command.json
    if (command.kind === 'question') output.stdout.write(formatAnswer(await askQuestion(command.transport, command.question), json))
    else {
      const result = await sendDispatch(command.transport, command.request)
      output.stdout.write(formatResult(result, json))
      // Advice, so on stderr: stdout stays the one line (or the one JSON document) a script reads.
      const unheard = json ? undefined : describeUnheard(result, command.transport)
      if (unheard !== undefined) output.stderr.write(unheard)
    }
    return EXIT_CODES.ok
  } catch (error) {
    ;(json ? output.stdout : output.stderr).write(formatError(error, json))
    return exitCodeOf(error)
  }
}
