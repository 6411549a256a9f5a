import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inject } from 'vitest'
import { type CommandRun, runCommand } from '../../support/processes'
import { cleanEnv, ROOT } from './env'

const FIXTURES = join(ROOT, 'test', 'consumers', 'fixtures')

/** A throwaway project of a backend's own, holding the packed package as a dependency. */
export interface ConsumerProject {
  dir: string
  /** What `npm install` printed when it installed the tarball, warnings included. */
  installed: CommandRun
  /** Runs a command in the project, with the clean env plus `env`; fails the test when it exits non-zero. */
  run(command: string, args: string[], env?: Record<string, string>): Promise<CommandRun>
  close(): Promise<void>
}

/**
 * Copies `test/consumers/fixtures/<fixture>` to a temp dir and installs the tarball the global setup packed into
 * it, with `packages` beside it, as a user would: `npm install --prefer-offline --no-audit --no-fund`.
 */
export async function createConsumerProject(fixture: string, packages: string[] = []): Promise<ConsumerProject> {
  const dir = mkdtempSync(join(tmpdir(), `mesa-consumer-${fixture}-`))
  cpSync(join(FIXTURES, fixture), dir, { recursive: true })
  const project: Omit<ConsumerProject, 'installed'> = {
    dir,
    async run(command, args, env = {}) {
      const run = await runCommand(command, args, { cwd: dir, env: cleanEnv(env), timeoutMs: 120_000 })
      if (run.code !== 0) throw new Error(`${command} ${args.join(' ')} exited ${run.code} in ${dir}:\n${run.stdout}\n${run.stderr}`)
      return run
    },
    close: async () => rmSync(dir, { recursive: true, force: true }),
  }
  try {
    const installed = await project.run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', inject('tarball'), ...packages])
    return { ...project, installed }
  } catch (error) {
    await project.close()
    throw error
  }
}
