export declare const SCRIPT_DIR: string
export declare const GENERATED_FILE: string
export declare const KEY_LOCKING_SHEBANG: string
export declare function expandLua(file: string): Promise<string>
export declare function compactLua(lua: string): string
export declare function compactScripts(): Promise<Array<{ file: string; constant: string; summary: string; lua: string; sha1: string; keyLockingSha1: string }>>
export declare function generateScripts(): Promise<string>
export declare const BASE85_DIGITS: string
export declare function encodeBase85(bytes: Uint8Array): string
