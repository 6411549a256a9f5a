import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { ROOT } from './support/serverless-cli'

// Every default and limit is defined once, in src/limits.ts: elsewhere in src a number that could be one (an
// exported constant, a `??` fallback, a default parameter, an env variable's default) names a constant instead.
const SRC = join(ROOT, 'src')
/** The numbers that are not limits, each with why. */
const NOT_LIMITS: Record<string, string> = {
  'src/http/answers.ts: ?? 500': 'the status of an error no class maps, not a limit',
  'src/errors.ts: ?? 1': 'a failure reported without a count of attempts came from one request, not a limit',
  'src/core/backlog-page.ts: ?? 0': 'a read without a cursor starts at the first message, not a limit',
  'src/transport/node-http.ts: ?? 0': "an answer without a status (Node always gives a client's one) reads as none, as fetch's opaque answers do, not a limit",
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith('.ts') ? [join(dir, entry.name)] : [],
  )
}

const isNumber = (node: ts.Node): boolean =>
  ts.isNumericLiteral(node) ||
  (ts.isParenthesizedExpression(node) && isNumber(node.expression)) ||
  (ts.isBinaryExpression(node) && isNumber(node.left) && isNumber(node.right))

/** Each place in a file's text where a number stands for a default or a limit, as `file: what`. */
function numberedDefaults(name: string, text: string): string[] {
  const source = ts.createSourceFile(name, text, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const at = (what: string) => found.push(`${name}: ${what}`)
  const visit = (node: ts.Node) => {
    if (ts.isVariableStatement(node) && node.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) {
      for (const declaration of node.declarationList.declarations) {
        if (declaration.initializer && isNumber(declaration.initializer)) at(`export const ${declaration.name.getText()}`)
      }
    }
    if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken && isNumber(node.right)) at(`?? ${node.right.getText()}`)
    if (ts.isParameter(node) && node.initializer && isNumber(node.initializer)) at(`${node.name.getText()} = ${node.initializer.getText()}`)
    if (ts.isCallExpression(node) && node.expression.getText() === 'readInteger' && node.arguments[2] && isNumber(node.arguments[2])) {
      at(`readInteger(${node.arguments[1]?.getText()}, ${node.arguments[2].getText()})`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

describe('the limits', () => {
  it('are defined in src/limits.ts alone: nowhere else in src does a number stand for a default or a limit', () => {
    const files = walk(SRC).filter((file) => !/src\/(limits|script\/scripts)\.ts$/.test(file))
    const found = files.flatMap((file) => numberedDefaults(relative(ROOT, file), readFileSync(file, 'utf8')))
    expect(found.filter((place) => !(place in NOT_LIMITS))).toEqual([])
  })

  it('would be caught by that check in each form a default takes', () => {
    const planted = [
      'export const MAX_THINGS = 4 * 1024',
      'const timeout = options.timeoutMs ?? 5000',
      'function wait(marginMs = 1000) {}',
      "const batch = readInteger(env, 'MAX_BATCH', 100, 1)",
      'export const NAME = "not a number"',
      'const step = options.stepSize ?? STEP_SIZE',
    ].join('\n')
    expect(numberedDefaults('planted.ts', planted)).toEqual([
      'planted.ts: export const MAX_THINGS',
      'planted.ts: ?? 5000',
      'planted.ts: marginMs = 1000',
      "planted.ts: readInteger('MAX_BATCH', 100)",
    ])
  })
})
