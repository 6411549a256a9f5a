// Preloaded into `npm run dev` with NODE_OPTIONS="--import …/dev-faults.mjs" to inject one fault, named by
// DEV_FAULT, into the dev process alone (npm, which loads it too, is left alone):
// - `reject-while-stopping`: on SIGINT or SIGTERM, a rejection nobody handles, as Mesa's ioredis leaves one when
//   it flushes the commands still queued on a connection that closes (`Connection is closed.`);
// - `throw-on-SIGUSR2`: an uncaught error while the stack runs, on SIGUSR2.
const fault = process.env.DEV_FAULT
if (process.argv[1]?.endsWith('/dev/main.ts')) {
  if (fault === 'reject-while-stopping') {
    const reject = () => void Promise.reject(new Error('Connection is closed.'))
    process.on('SIGINT', reject)
    process.on('SIGTERM', reject)
  } else if (fault === 'throw-on-SIGUSR2') {
    process.on('SIGUSR2', () => {
      throw new Error('injected failure')
    })
  } else {
    throw new Error(`dev-faults: unknown DEV_FAULT ${JSON.stringify(fault)}`)
  }
}
