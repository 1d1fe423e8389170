// Go formatting helpers, so error texts match what deck (a Go program) prints.

/** An error whose message is exactly what deck would print after "Error: ". */
export class DeckError extends Error {}

/** fmt's %q / strconv.Quote for a string. */
export function goQuote(s) {
  let out = '"'
  for (const ch of String(s)) {
    const cp = ch.codePointAt(0)
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (cp >= 0x20 && cp < 0x7f) out += ch
    else if (cp === 0x07) out += '\\a'
    else if (cp === 0x08) out += '\\b'
    else if (cp === 0x0c) out += '\\f'
    else if (cp === 0x0a) out += '\\n'
    else if (cp === 0x0d) out += '\\r'
    else if (cp === 0x09) out += '\\t'
    else if (cp === 0x0b) out += '\\v'
    else if (cp < 0x80) out += '\\x' + cp.toString(16).padStart(2, '0')
    else if (isPrintableUnicode(cp)) out += ch
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0')
    else out += '\\U' + cp.toString(16).padStart(8, '0')
  }
  return out + '"'
}

// Close enough to unicode.IsPrint for the strings deck quotes (names, flag values, paths).
function isPrintableUnicode(cp) {
  if (cp >= 0x80 && cp < 0xa0) return false
  if (cp === 0xad || (cp >= 0xd800 && cp < 0xe000) || cp === 0xfeff || cp === 0xfffe || cp === 0xffff)
    return false
  if (cp >= 0x2028 && cp <= 0x202e) return false
  return true
}

/** fmt's %v of a []string: [a b c]. */
export function goList(items) {
  return '[' + items.join(' ') + ']'
}

/** The text of a Go os error for a failed file operation ("open x: no such file or directory"). */
export function goFsError(op, path, err) {
  return `${op} ${path}: ${errnoText(err)}`
}

export function errnoText(err) {
  const texts = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EISDIR: 'is a directory',
    ENOTDIR: 'not a directory',
    EEXIST: 'file exists',
    ENOSPC: 'no space left on device',
    EROFS: 'read-only file system',
  }
  return texts[err?.code] ?? String(err?.message ?? err)
}
