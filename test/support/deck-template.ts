/**
 * Renders `${{ env "X" }}` templates the way deck does before it parses a state file
 * (GDR pkg/file/template.go: Go text/template with delimiters `${{ }}`, funcs env and indent, where
 * `indent N` replaces every newline with a newline and N spaces). Only the forms deckhand writes.
 */
export function renderDeckTemplate(text: string, env: Record<string, string | undefined>): string {
  return text.replace(
    /\$\{\{\s*env\s+"([^"]+)"\s*(?:\|\s*indent\s+(\d+)\s*)?\}\}/g,
    (_m, name: string, indent?: string) => {
      const value = env[name]
      if (value === undefined)
        throw new Error(`environment variable '${name}' present in state file but not set`)
      return indent === undefined ? value : value.replace(/\n/g, `\n${' '.repeat(Number(indent))}`)
    },
  )
}
