export declare const SCRIPT_DIR: string
export declare const GENERATED_FILE: string
export declare function compactLua(lua: string): string
export declare function generateScripts(): Promise<string>
