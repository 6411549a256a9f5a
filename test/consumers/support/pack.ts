import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { runCommand } from '../../support/processes'
import { cleanEnv, ROOT } from './env'

// The consumers project's global setup: `npm pack` once per test run, exactly as a publish would pack, its prepack
// building lib/ from the sources. CI runs a clean clone, so nothing may rely on an earlier build.

declare module 'vitest' {
  export interface ProvidedContext {
    /** The absolute path of the packed mesa-dispatch-serverless tarball. */
    tarball: string
  }
}

/** What `npm pack --json` reports about one packed tarball. */
export interface PackReport {
  filename: string
  files: Array<{ path: string }>
}

/** Runs `npm pack --json` in the project root with extra flags, and returns its one report. */
export async function npmPack(flags: string[]): Promise<PackReport> {
  const run = await runCommand('npm', ['pack', '--json', ...flags], { cwd: ROOT, env: cleanEnv(), timeoutMs: 180_000 })
  if (run.code !== 0) throw new Error(`npm pack ${flags.join(' ')} failed (exit ${run.code}):\n${run.stdout}\n${run.stderr}`)
  const [report] = JSON.parse(run.stdout) as PackReport[]
  if (!report) throw new Error(`npm pack reported no tarball: ${run.stdout}`)
  return report
}

export default async function setup(project: TestProject): Promise<() => void> {
  const dir = mkdtempSync(join(tmpdir(), 'mesa-pack-'))
  const { filename } = await npmPack(['--pack-destination', dir])
  project.provide('tarball', join(dir, filename))
  return () => rmSync(dir, { recursive: true, force: true })
}
