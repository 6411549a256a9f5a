// The `mesa-dispatch` bin: `npm run cli -- …` in development, `lib/cli/index.js` once built (`npm run build:package`).
import { runCli } from './run.js'

// exitCode rather than exit(), so buffered output to a pipe is flushed before the process ends.
process.exitCode = await runCli(process.argv.slice(2), process.env, process)
