// Types for kong-conf-changes.mjs: the parsers of Kong's sources, tested on small inputs.

export type Default = string | null
export interface LineFacts {
  settings: Record<string, Default>
  aliases: Record<string, string>
  dynamicPrefixes: string[]
  dynamicIgnored?: string[]
  refs: Record<string, string>
}
export interface Hop {
  from: string
  to: string
  removed: { name: string; source: string }[]
  renamed: { name: string; replacement: string; source: string }[]
  defaultChanged: { name: string; from: Default; to: Default; source: string }[]
}

export declare const LINES: string[]
export declare function normaliseDefault(value: string | string[] | null | undefined): Default
export declare function deprecationReplacement(description: string | undefined): string | undefined
export declare function parseConfJson(text: string): {
  settings: Record<string, Default>
  aliases: Record<string, string>
  dynamicPrefixes: string[]
}
export declare function parseLegacyReference(text: string): Record<string, Default>
export declare function parseConfDefault(text: string): Record<string, Default>
export declare function parseKongDefaults(text: string): string[]
export declare function parseConfParsers(text: string): Record<string, string>
export declare function parseDynamicPrefixes(text: string): string[]
export declare function parseDynamicIgnored(text: string): string[]
export declare function parseSensitive(text: string): string[]
export declare function knownIn(
  line: Pick<LineFacts, 'settings' | 'aliases' | 'dynamicPrefixes' | 'dynamicIgnored'>,
  name: string,
): boolean
export declare function hopChanges(from: LineFacts, to: LineFacts, fromName: string, toName: string): Hop
