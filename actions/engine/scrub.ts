/** Replaces every occurrence of the given secrets in text (a tool's output that may echo one). */
export function scrub(text: string, secrets: readonly (string | undefined)[], mask = '***'): string {
  let out = text
  for (const secret of secrets) if (secret) out = out.split(secret).join(mask)
  return out
}
