// What Lambda's Node runtime does with an ESM handler file, in a fresh process: import it once (init: the module's
// top-level code, top-level await included), then call the handler with each event and a context, one at a time.
//
//   node lambda-runtime.mjs <bundle file URL> <function name> <events: JSON array> [ms to idle before each event]
//
// After whatever the handler logs, it prints one marked line per step, `@@outcome {…}`: the init's, then each
// invocation's, with `performance.now()` at its start and end (milliseconds since the process started; the init's
// line gives `performance.timeOrigin`, the epoch milliseconds of that start, to place them on another clock).
const [file, name, eventsJson, idle = '0'] = process.argv.slice(2)
const report = (record) => process.stdout.write(`\n@@outcome ${JSON.stringify(record)}\n`)
const shape = (error) => ({ name: error?.name, message: error?.message })
// What Lambda logs of an error that reaches it (its `stackTrace`): the stack, as the error formats it, line by line.
const stackOf = (error) => String(error?.stack).split('\n')
const idleMs = Number(idle)

const initStart = performance.now()
let handler
try {
  ;({ handler } = await import(file))
} catch (error) {
  report({ initError: shape(error), stack: stackOf(error), initStart, initEnd: performance.now(), timeOrigin: performance.timeOrigin })
  process.exit(0)
}
report({ init: 'done', initStart, initEnd: performance.now(), timeOrigin: performance.timeOrigin })

for (const event of JSON.parse(eventsJson)) {
  if (idleMs > 0) await new Promise((resolve) => setTimeout(resolve, idleMs))
  const deadline = Date.now() + 30000
  const context = {
    functionName: `mesa-dispatch-test-${name}`,
    awsRequestId: crypto.randomUUID(),
    getRemainingTimeInMillis: () => deadline - Date.now(),
  }
  const start = performance.now()
  try {
    const result = await handler(event, context)
    report({ result, start, end: performance.now() })
  } catch (error) {
    report({ thrown: shape(error), stack: stackOf(error), start, end: performance.now() })
  }
}
// Lambda freezes the process here; the tests and the benchmark want it gone, whatever it still holds open.
process.exit(0)
