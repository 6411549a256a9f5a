import { join } from 'node:path'
import ts from 'typescript'
import { beforeAll, describe, expect, it } from 'vitest'
import { ROOT } from './support/serverless-cli'

// ioredis is an optional peer dependency, so the package's declarations must not need it: a consumer without it,
// checking every .d.ts (skipLibCheck false), still type-checks, handing over an ioredis client included.
const OUT = join(ROOT, '.declarations')
const declarations = new Map<string, string>()
/** A consumer handing the Dispatcher a client of its own shape, and, as the control, a file that needs ioredis. */
const CONSUMER = [
  "import { Dispatcher, type IORedisLike, type RedisTarget } from './src/index.js'",
  'declare const client: IORedisLike',
  'const target: RedisTarget = client',
  "export const dispatcher = new Dispatcher(target, { namespace: 'api' })",
].join('\n')
const LEAK = "import type { Redis } from 'ioredis'\nexport type Leak = Redis"
let diagnostics: { file: string | undefined; message: string }[]

beforeAll(() => {
  const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!
  const options = { ...parsed.options, noEmit: false, declaration: true, emitDeclarationOnly: true, rootDir: ROOT, outDir: OUT }
  const emitted = ts.createProgram([join(ROOT, 'src/index.ts')], options).emit(undefined, (file, text) => declarations.set(file, text))
  if (emitted.diagnostics.length > 0) throw new Error(ts.formatDiagnostics(emitted.diagnostics, ts.createCompilerHost(options)))
  diagnostics = check({ 'consumer.ts': CONSUMER, 'leak.ts': LEAK })
}, 60_000)

/** Every diagnostic of `files` checked against the emitted declarations, in a world where ioredis is not installed. */
function check(files: Record<string, string>): { file: string | undefined; message: string }[] {
  // TypeScript's own lib files are left unchecked: they cannot name ioredis, and checking lib.dom costs seconds.
  const options: ts.CompilerOptions = {
    strict: true,
    skipLibCheck: false,
    skipDefaultLibCheck: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: [],
  }
  const virtual = new Map([...declarations, ...Object.entries(files).map(([name, text]) => [join(OUT, name), text] as const)])
  const hidden = (path: string) => /[/\\]node_modules[/\\](@types[/\\])?ioredis([/\\]|$)/.test(path)
  const host = ts.createCompilerHost(options)
  const { fileExists, readFile, directoryExists } = host
  host.fileExists = (path) => virtual.has(path) || (!hidden(path) && fileExists(path))
  host.readFile = (path) => virtual.get(path) ?? (hidden(path) ? undefined : readFile(path))
  host.directoryExists = (path) => [...virtual.keys()].some((file) => file.startsWith(`${path}/`)) || (!hidden(path) && (directoryExists?.(path) ?? true))
  const getSourceFile = host.getSourceFile
  host.getSourceFile = (path, language) => {
    const text = virtual.get(path)
    return text === undefined ? getSourceFile(path, language) : ts.createSourceFile(path, text, language)
  }
  const program = ts.createProgram(
    Object.keys(files).map((name) => join(OUT, name)),
    options,
    host,
  )
  return ts.getPreEmitDiagnostics(program).map((diagnostic) => ({
    file: diagnostic.file?.fileName.slice(OUT.length + 1),
    message: ts.flattenDiagnosticMessageText(diagnostic.messageText, ' '),
  }))
}

describe('the emitted declarations', () => {
  it('name no ioredis type', () => {
    const naming = [...declarations].filter(([, text]) => /from ['"]ioredis['"]|import\(['"]ioredis['"]\)/.test(text)).map(([file]) => file)
    expect({ files: declarations.size > 0, naming }).toEqual({ files: true, naming: [] })
  })

  it('type-check for a consumer without ioredis that hands the Dispatcher a client of its own shape', () => {
    expect(diagnostics.filter(({ file }) => file !== 'leak.ts')).toEqual([])
  })

  it('are checked where ioredis really cannot be found, so a reference to it would fail', () => {
    expect(diagnostics.filter(({ file }) => file === 'leak.ts')).toEqual([
      { file: 'leak.ts', message: "Cannot find module 'ioredis' or its corresponding type declarations." },
    ])
  })
})
