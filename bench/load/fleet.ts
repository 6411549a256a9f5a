import { type ChildProcess, fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import type { StepOrder, StepReport, WorkerSetup } from './plan'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))

/** The load run's sending processes, stepped together. */
export interface Fleet {
  /** Runs one step in every process at once and returns each one's report, in process order. */
  step(order: StepOrder): Promise<StepReport[]>
  /** Closes each process's Dispatcher and waits for it to exit. */
  close(): Promise<void>
}

/** Starts `processes` load processes (bench/load/worker.ts under tsx) against `redisUrl`, ready to step. */
export async function startFleet(redisUrl: string, processes: number): Promise<Fleet> {
  const children: ChildProcess[] = []
  const close = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return
        const exited = once(child, 'exit')
        if (child.connected) child.send('close')
        else child.kill()
        await exited
      }),
    )
  }
  try {
    for (let index = 0; index < processes; index++) {
      const setup: WorkerSetup = { redisUrl, index, processes }
      children.push(fork(WORKER, [JSON.stringify(setup)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }))
    }
    await Promise.all(children.map((child) => nextMessage(child)))
  } catch (error) {
    await close()
    throw error
  }
  return {
    step: (order) =>
      Promise.all(
        children.map((child) => {
          const report = nextMessage(child) as Promise<StepReport>
          child.send(order)
          return report
        }),
      ),
    close,
  }
}

/** The next IPC message from a child, or a rejection if it exits first. */
function nextMessage(child: ChildProcess): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`a load process exited (${signal ?? code}) mid-step`))
    child.once('exit', onExit)
    child.once('message', (message) => {
      child.off('exit', onExit)
      resolve(message)
    })
  })
}
