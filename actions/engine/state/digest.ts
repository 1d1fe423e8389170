import { createHash } from 'node:crypto'

/**
 * One digest over a set of files: name and bytes of each, in name order, length-prefixed so that no
 * two different sets can produce the same byte stream. Stable for byte-identical dumps.
 */
export function digestFiles(files: ReadonlyMap<string, string | Uint8Array>): string {
  const hash = createHash('sha256')
  for (const name of [...files.keys()].sort()) {
    const data = files.get(name)!
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data
    hash.update(`${Buffer.byteLength(name)}:${name}${bytes.length}:`)
    hash.update(bytes)
  }
  return `sha256:${hash.digest('hex')}`
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}
