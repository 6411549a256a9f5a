import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Validator } from '@seriousme/openapi-schema-validator'
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js'
import ts from 'typescript'
import type { HttpReply } from './http-transports'
import { ROOT } from './serverless-cli'

/** The OpenAPI description of the HTTP API, the file the README links. */
export const OPENAPI_FILE = join(ROOT, 'docs', 'openapi.yaml')

type Json = Record<string, unknown>
interface MediaType {
  schema?: Json
}
interface Header {
  required?: boolean
  schema?: Json
}
interface Response {
  headers?: Record<string, Header>
  content?: Record<string, MediaType>
}
interface Operation {
  requestBody?: { content: Record<string, MediaType> }
  responses: Record<string, Response>
}
/** The parts of a dereferenced OpenAPI 3.1 document these checks read. */
export interface OpenApiDocument {
  openapi: string
  info: { version: string }
  paths: Record<string, Record<string, Operation>>
  components: { responses: Record<string, Response>; schemas: Record<string, Json> }
}

/** Validates the file as an OpenAPI 3.1 description, and hands back its parsed and dereferenced forms. */
export async function loadOpenApi(): Promise<{ valid: boolean; errors: unknown; version: string | undefined; document: OpenApiDocument }> {
  const validator = new Validator()
  const { valid, errors } = await validator.validate(readFileSync(OPENAPI_FILE, 'utf8'))
  return { valid, errors, version: validator.version, document: (valid ? validator.resolveRefs() : validator.specification) as unknown as OpenApiDocument }
}

/**
 * The routes table of `src/http/app.ts`, read from its source: each path with the methods its entry names, and
 * HEAD beside GET, which the app's fetch answers as GET without a body.
 */
export function readAppRoutes(): Record<string, string[]> {
  const file = join(ROOT, 'src', 'http', 'app.ts')
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true)
  let table: ts.ObjectLiteralExpression | undefined
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && node.name.getText() === 'routes' && node.initializer && ts.isObjectLiteralExpression(node.initializer)) {
      table = node.initializer
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  if (!table) throw new Error('src/http/app.ts has no `const routes = { … }` table any more: teach test/support/openapi.ts where the routes are')
  const nameOf = (property: ts.ObjectLiteralElementLike) => {
    if (!ts.isPropertyAssignment(property)) throw new Error(`unexpected entry in the routes table: ${property.getText()}`)
    return ts.isStringLiteral(property.name) ? property.name.text : property.name.getText()
  }
  return Object.fromEntries(
    table.properties.map((property) => {
      const methods = (property as ts.PropertyAssignment).initializer
      if (!ts.isObjectLiteralExpression(methods)) throw new Error(`the route ${nameOf(property)} is not an object of methods`)
      const names = methods.properties.map(nameOf)
      return [nameOf(property), names.includes('GET') ? [...names, 'HEAD'] : names]
    }),
  )
}

// 2020-12 is the dialect of OpenAPI 3.1's schemas. Strict mode refuses a misspelt keyword instead of ignoring it.
const ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true, allErrors: true })
// Header values arrive as text: a header's schema says `integer`, and "5" must pass it.
const headerAjv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allowUnionTypes: true, coerceTypes: true })

const explain = (where: string, errors: ErrorObject[] | null | undefined) =>
  (errors ?? []).map((error) => `${where}${error.instancePath} ${error.message} ${JSON.stringify(error.params)}`)

function schemaProblems(where: string, schema: Json | undefined, value: unknown): string[] {
  if (!schema) return [`${where}: the description gives no schema`]
  const validate = ajv.compile(schema)
  return validate(value) ? [] : explain(where, validate.errors)
}

/** The response an answer must match: its operation's, or for a path or method that is not a route, the shared 404 and 405. */
function documentedResponse(document: OpenApiDocument, method: string, path: string, status: number): { where: string; response?: Response } {
  const operation = document.paths[path]?.[method.toLowerCase()]
  if (!operation) {
    const shared = status === 404 && !document.paths[path] ? 'NotFound' : status === 405 && document.paths[path] ? 'MethodNotAllowed' : undefined
    return { where: `${method} ${path} → ${status} (components.responses.${shared ?? '?'})`, response: shared && document.components.responses[shared] }
  }
  return { where: `${method} ${path} → ${status}`, response: operation.responses[String(status)] }
}

/**
 * What in a real answer the description does not allow: an undocumented status, a missing required header, a
 * header or a body its schema refuses, or a body where none is described (HEAD). Empty when the answer matches.
 */
export function answerProblems(document: OpenApiDocument, method: string, path: string, reply: HttpReply): string[] {
  const { where, response } = documentedResponse(document, method, path, reply.status)
  if (!response) return [`${where}: status not described`]
  const problems: string[] = []
  for (const [name, header] of Object.entries(response.headers ?? {})) {
    const value = reply.headers[name.toLowerCase()]
    if (value === undefined) {
      if (header.required) problems.push(`${where}: the required header ${name} is missing`)
      continue
    }
    const validate = headerAjv.compile({ type: 'object', properties: { value: header.schema ?? {} } })
    if (!validate({ value })) problems.push(...explain(`${where} header ${name}`, validate.errors))
  }
  const media = response.content?.['application/json']
  // An answer to HEAD may always leave its body out; the one body it may carry is still held to the description.
  if (reply.body === '' && (method === 'HEAD' || !media)) return problems
  if (!media) return [...problems, `${where}: a body where none is described`]
  if (!/^application\/json\b/.test(reply.headers['content-type'] ?? '')) problems.push(`${where}: content-type ${reply.headers['content-type']}`)
  return [...problems, ...schemaProblems(`${where} body`, media.schema, reply.body)]
}

/** What in a request body the operation's request schema refuses; for requests the app accepted. */
export function requestProblems(document: OpenApiDocument, method: string, path: string, body: unknown): string[] {
  const operation = document.paths[path]?.[method.toLowerCase()]
  const media = operation?.requestBody?.content['application/json']
  if (!media) return body === undefined ? [] : [`${method} ${path}: a request body where none is described`]
  return schemaProblems(`${method} ${path} request`, media.schema, body)
}

/** Compiles every component schema in strict mode, so that a misspelt keyword fails rather than allowing anything. */
export function componentSchemaProblems(document: OpenApiDocument): string[] {
  return Object.entries(document.components.schemas).flatMap(([name, schema]) => {
    try {
      ajv.compile(schema)
      return []
    } catch (error) {
      return [`components.schemas.${name}: ${(error as Error).message}`]
    }
  })
}
