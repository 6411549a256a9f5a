/**
 * Drops the app's JSON log lines (`{"level":…`) and EMF metric lines (`{"_aws":…`) from console.log while `work`
 * runs, and restores console.log after. The Lambda handlers log one line per dispatch and one metrics line per
 * invocation; thousands of them would bury the table, and writing them to a terminal would time the terminal
 * rather than the code (the lines are still built: only the write is dropped). Other console output passes through.
 */
export async function withoutAppLogs<T>(work: () => Promise<T>): Promise<T> {
  const original = console.log
  console.log = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && (args[0].startsWith('{"level":') || args[0].startsWith('{"_aws":'))) return
    original(...args)
  }
  try {
    return await work()
  } finally {
    console.log = original
  }
}
