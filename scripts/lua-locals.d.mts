/** One token of Lua source: its kind (`name`, `string`, `number`, `comment`, `space`, `punctuation`) and its text. */
export interface LuaToken {
  kind: string
  text: string
}
export declare function tokenizeLua(lua: string): LuaToken[]
export declare function shortenLocals(scripts: string[]): string[]
