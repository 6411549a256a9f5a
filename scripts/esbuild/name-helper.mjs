// The one `__name` helper that scripts/esbuild/keep-own-names.mjs points every file of ours at (as esbuild's own
// keepNames runtime defines it), so that a bundle carries it once rather than once per file.
export const __name = (target, value) => Object.defineProperty(target, 'name', { value, configurable: true })
