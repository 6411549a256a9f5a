// The package's version, inlined by esbuild into the bin (only this one field), read from the file by tsx.
import { version } from '../../package.json'

/** The version `mesa-dispatch --version` prints: package.json's, as built. */
export const VERSION: string = version
