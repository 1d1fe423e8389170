/**
 * Environment variables a state file references through deck's templates, e.g.
 * `${{ env "DECK_API_KEY" }}` or `${{ env "DECK_CERT" | indent 4 }}` (GDR pkg/file/template.go).
 * deck renders these before it parses, in sync, diff, apply and both validates, and fails on the
 * first unset one; finding them all first lets deckhand name every missing variable at once.
 */
export interface EnvReference {
  name: string
  /** 1-based line of the reference in the file. */
  line: number
}

const TEMPLATE = /\$\{\{(.*?)\}\}/g
const ENV_CALL = /\benv\s+(?:"([^"]*)"|`([^`]*)`)/g

export function findEnvReferences(text: string): EnvReference[] {
  const refs: EnvReference[] = []
  // Only lines holding `${{` are looked at: a large file is not split into millions of lines.
  let line = 1
  let counted = 0
  for (let at = text.indexOf('${{'); at !== -1;) {
    const start = text.lastIndexOf('\n', at) + 1
    const newline = text.indexOf('\n', at)
    const end = newline === -1 ? text.length : newline
    for (let i = text.indexOf('\n', counted); i !== -1 && i < start; i = text.indexOf('\n', i + 1)) line++
    counted = start
    const content = text.slice(start, end)
    if (!content.trimStart().startsWith('#')) {
      for (const template of content.matchAll(TEMPLATE)) {
        for (const call of (template[1] ?? '').matchAll(ENV_CALL)) {
          refs.push({ name: call[1] ?? call[2] ?? '', line })
        }
      }
    }
    at = newline === -1 ? -1 : text.indexOf('${{', newline)
  }
  return refs
}

/** Names referenced but not set in `env`, each once, in order of first appearance. */
export function missingEnv(refs: readonly EnvReference[], env: NodeJS.ProcessEnv = process.env): string[] {
  return [...new Set(refs.map((r) => r.name))].filter((name) => env[name] === undefined)
}
