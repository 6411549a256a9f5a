// @ts-check
// Shortens the names of a Lua script's local variables, one step of the compaction in generate-lua.mjs.

/** Lua 5.1's reserved words, which no name may become. */
const KEYWORDS = new Set('and break do else elseif end false for function if in local nil not or repeat return then true until while'.split(' '))

/**
 * The globals a script in Redis reads: Lua 5.1's base library and the libraries Redis loads. A name on this list is
 * never renamed, even where a script declares a local of the same name (`local unpack = unpack` reads the global).
 */
const GLOBALS = new Set(
  [
    'KEYS ARGV redis cjson cmsgpack bit struct string table math os debug coroutine _G _VERSION',
    'assert collectgarbage error gcinfo getfenv getmetatable ipairs load loadstring module newproxy next pairs pcall',
    'print rawequal rawget rawset require select setfenv setmetatable tonumber tostring type unpack xpcall',
  ]
    .join(' ')
    .split(' '),
)

/** One token of Lua source: a name, a string or number literal, a comment, a space, or punctuation. */
const TOKEN = new RegExp(
  [
    /(?<space>\s+)/,
    /(?<comment>--(?!\[=*\[)[^\n]*)/,
    /(?<long>\[=*\[|--\[=*\[)/,
    /(?<string>'(?:[^'\\\n]|\\[\s\S])*'|"(?:[^"\\\n]|\\[\s\S])*")/,
    /(?<number>0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/,
    /(?<name>[A-Za-z_][A-Za-z0-9_]*)/,
    /(?<punctuation>\.\.\.|\.\.|==|~=|<=|>=|[-+*/%^#<>=(){}[\];:,.])/,
  ]
    .map((part) => part.source)
    .join('|'),
  'y',
)

/**
 * Lua's tokens, each `{ kind, text }`. Long brackets (`[[ ]]` strings and comments) are refused rather than
 * misread: the scripts have none once compacted, and a reader of this code need not consider them.
 * @param {string} lua
 */
export function tokenizeLua(lua) {
  /** @type {{ kind: string, text: string }[]} */
  const tokens = []
  TOKEN.lastIndex = 0
  while (TOKEN.lastIndex < lua.length) {
    const at = TOKEN.lastIndex
    const match = TOKEN.exec(lua)
    const kind = Object.entries(match?.groups ?? {}).find(([, text]) => text !== undefined)?.[0]
    if (!match || !kind) throw new Error(`unexpected Lua at ${at}: ${JSON.stringify(lua.slice(at, at + 20))}`)
    if (kind === 'long') throw new Error(`long brackets are not supported, at ${at}: ${JSON.stringify(lua.slice(at, at + 20))}`)
    tokens.push({ kind, text: match[0] })
  }
  return tokens
}

/** Where a name token stands: after `.` or `:` it is a field or method, before `=` in a table constructor a key. */
function isVariable(/** @type {{ kind: string, text: string }[]} */ code, /** @type {number} */ i, /** @type {string[]} */ open) {
  const before = code[i - 1]?.text
  if (before === '.' || before === ':') return false
  const isKey = open.at(-1) === '{' && (before === '{' || before === ',' || before === ';') && code[i + 1]?.text === '='
  return !isKey
}

/** Openers and closers, each closer with the opener it must match: `if`, `while … do`, `for … do` and `function` open a block that `end` closes. */
const CLOSERS = new Map([
  [')', '('],
  ['}', '{'],
  [']', '['],
  ['end', 'block'],
  ['until', 'block'],
])
const BLOCK_OPENERS = new Set(['function', 'do', 'if', 'repeat'])

/**
 * Keeps `open`, the brackets and blocks around a token, innermost last: a block opened inside a table constructor
 * (a function's body) is not the constructor, as in `{ f = function() a, b = 1, 2 end }`. Throws on a mismatch.
 */
function trackBlocks(/** @type {string[]} */ open, /** @type {{ kind: string, text: string }} */ token) {
  if (token.kind === 'string' || token.kind === 'number') return
  if ('({['.includes(token.text)) open.push(token.text)
  else if (BLOCK_OPENERS.has(token.text)) open.push('block')
  else if (CLOSERS.has(token.text) && open.pop() !== CLOSERS.get(token.text)) throw new Error(`unbalanced Lua at ${token.text}`)
}

/** The names `local`, `function` (its parameters) and `for` declare, each a local variable wherever it is read. */
function declaredNames(/** @type {{ kind: string, text: string }[]} */ code) {
  const names = new Set()
  const listFrom = (/** @type {number} */ start) => {
    for (let j = start; code[j]?.kind === 'name' && !KEYWORDS.has(code[j]?.text ?? ''); j += 2) {
      names.add(code[j]?.text)
      if (code[j + 1]?.text !== ',') break
    }
  }
  for (const [i, token] of code.entries()) {
    if (token.text === 'local') listFrom(code[i + 1]?.text === 'function' ? i + 2 : i + 1)
    if (token.text === 'for') listFrom(i + 1)
    if (token.text === 'function') {
      let j = i + 1
      while (code[j] && code[j]?.text !== '(') j++
      listFrom(j + 1)
    }
  }
  return names
}

/** Short names in order, `a` … `Z`, `aa` …, skipping keywords and every name in `taken`. */
function* shortNames(/** @type {Set<string>} */ taken) {
  const first = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
  const rest = `${first}0123456789_`
  for (let length = 1; ; length++) {
    const build = function* (/** @type {string} */ prefix) {
      if (prefix.length === length) {
        yield prefix
        return
      }
      for (const char of prefix === '' ? first : rest) yield* build(prefix + char)
    }
    for (const name of build('')) if (!KEYWORDS.has(name) && !taken.has(name)) yield name
  }
}

/**
 * The scripts with every local variable renamed to a short name, the most used first, and the rest of their text left
 * as it is. Redis scripts may neither create nor read an undeclared global, so every name a script declares (that is
 * not also one of GLOBALS) is a local wherever it is read as a variable: one consistent, one-to-one renaming of them
 * all keeps each scope's shadowing as it was, with the new names taken from none of the scripts' other names. Fields
 * (`t.name`, `t:name()`) and table-constructor keys (`{ name = 1 }`) are not variables and keep their names. The
 * scripts share one renaming, so that code two of them include stays the same text, which their common deflate
 * stream then carries once (generate-lua.mjs, STREAMS).
 * @param {string[]} scripts
 */
export function shortenLocals(scripts) {
  const tokenized = scripts.map((lua) => {
    const tokens = tokenizeLua(lua)
    return { tokens, code: tokens.filter((token) => token.kind !== 'space' && token.kind !== 'comment') }
  })
  const renamed = new Set(tokenized.flatMap(({ code }) => [...declaredNames(code)]).filter((name) => !GLOBALS.has(name)))
  /** @type {Map<string, number>} */
  const uses = new Map()
  /** @type {Set<{ kind: string, text: string }>} */
  const variables = new Set()
  for (const { code } of tokenized) {
    /** @type {string[]} */
    const open = []
    for (const [i, token] of code.entries()) {
      trackBlocks(open, token)
      if (token.kind !== 'name' || !renamed.has(token.text) || !isVariable(code, i, open)) continue
      variables.add(token)
      uses.set(token.text, (uses.get(token.text) ?? 0) + 1)
    }
    if (open.length > 0) throw new Error(`unbalanced Lua: ${open.join(' ')} left open`)
  }
  const taken = new Set(tokenized.flatMap(({ code }) => code.filter((token) => token.kind === 'name' && !renamed.has(token.text)).map((token) => token.text)))
  const names = shortNames(taken)
  const mapping = new Map([...uses.entries()].sort((a, b) => b[1] - a[1]).map(([name]) => [name, names.next().value]))
  return tokenized.map(({ tokens }) => tokens.map((token) => (variables.has(token) ? mapping.get(token.text) : token.text)).join(''))
}
