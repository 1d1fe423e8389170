// pflag's string-slice values are read with Go's encoding/csv (one record); this mirrors its rules
// and error texts closely enough for flag values.

class CsvError extends Error {}

function parseError(line, column, what) {
  return new CsvError(`parse error on line ${line}, column ${column}: ${what}`)
}

const BARE_QUOTE = 'bare " in non-quoted-field'
const QUOTE = 'extraneous or missing " in quoted-field'

/** pflag's readAsCSV: "" is an empty list, otherwise the first CSV record. Throws Error(text). */
export function readAsCSV(value) {
  if (value === '') return []
  // csv.Reader normalises \r\n, skips empty lines and terminates the last line.
  const lines = value
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l + '\n')
  if (value.endsWith('\n')) lines.pop()
  let n = 0
  while (n < lines.length && lines[n] === '\n') n++
  if (n === lines.length) throw new Error('EOF')
  let lineNo = n + 1
  let line = lines[n++]
  const fields = []
  let col = 1
  for (;;) {
    if (!line.startsWith('"')) {
      const comma = line.indexOf(',')
      const field = comma >= 0 ? line.slice(0, comma) : line.slice(0, -1)
      const q = field.indexOf('"')
      if (q >= 0) throw parseError(lineNo, col + q, BARE_QUOTE)
      fields.push(field)
      if (comma < 0) return fields
      line = line.slice(comma + 1)
      col += comma + 1
      continue
    }
    let buf = ''
    line = line.slice(1)
    col += 1
    for (;;) {
      const q = line.indexOf('"')
      if (q >= 0) {
        buf += line.slice(0, q)
        line = line.slice(q + 1)
        col += q + 1
        if (line.startsWith('"')) {
          buf += '"'
          line = line.slice(1)
          col += 1
        } else if (line.startsWith(',')) {
          line = line.slice(1)
          col += 1
          fields.push(buf)
          break
        } else if (line === '\n' || line === '') {
          fields.push(buf)
          return fields
        } else {
          throw parseError(lineNo, col - 1, QUOTE)
        }
      } else if (line.length > 0) {
        buf += line
        col += line.length
        line = n < lines.length ? lines[n++] : ''
        if (line.length > 0) {
          lineNo++
          col = 1
        }
      } else {
        throw parseError(lineNo, col, QUOTE)
      }
    }
  }
}
