// Synchronous standard I/O that copes with non-blocking pipes (EAGAIN), so crash and exit paths
// never lose what was written before them, and prompts read stdin like Go's blocking reads.

import { readSync, writeSync } from 'node:fs'

const pause = new Int32Array(new SharedArrayBuffer(4))
const waitBriefly = () => Atomics.wait(pause, 0, 0, 2)

export function writeAll(fd, data) {
  const buf = typeof data === 'string' ? Buffer.from(data) : data
  let off = 0
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off)
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err
      waitBriefly()
    }
  }
}

// One read from stdin; 0 at end of input.
function readSome(buf) {
  for (;;) {
    try {
      return readSync(0, buf, 0, buf.length, null)
    } catch (err) {
      if (err.code === 'EOF') return 0
      if (err.code !== 'EAGAIN') throw err
      waitBriefly()
    }
  }
}

/** All of stdin (deck reads "-" this way). */
export function readAllStdin() {
  const chunks = []
  const buf = Buffer.alloc(65536)
  for (let n = readSome(buf); n > 0; n = readSome(buf)) chunks.push(Buffer.from(buf.subarray(0, n)))
  return Buffer.concat(chunks).toString('utf8')
}

/** One line of stdin including its newline ("" at end of input), byte by byte like fmt.Scanln. */
export function readLineStdin() {
  const bytes = []
  const buf = Buffer.alloc(1)
  while (readSome(buf) > 0) {
    bytes.push(buf[0])
    if (buf[0] === 0x0a) break
  }
  return Buffer.from(bytes).toString('utf8')
}
