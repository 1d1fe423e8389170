import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * age's own command-line tools (age 1.x and age-keygen, installed by script/setup.sh): what deckhand's files
 * must agree with.
 */
export function age(
  args: readonly string[],
  input?: Uint8Array,
): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(
      'age',
      [...args],
      { encoding: 'buffer', maxBuffer: 64 * 2 ** 20 },
      (err, stdout, stderr) =>
        done({
          code: err ? ((err as { code?: number }).code ?? 1) : 0,
          stdout,
          stderr: stderr.toString('utf8'),
        }),
    )
    // age may be done before it read its input (a file named on its command line): that is no error here.
    child.stdin!.on('error', () => undefined)
    child.stdin!.end(input ?? Buffer.alloc(0))
  })
}

/** A key pair from age-keygen: the key file's path and text, its secret key line and the public key. */
export interface KeyPair {
  file: string
  text: string
  secretKey: string
  recipient: string
}

/** Writes `<dir>/<name>.txt` with age-keygen, as a user creates a key. */
export async function keygen(dir: string, name: string): Promise<KeyPair> {
  const file = join(dir, `${name}.txt`)
  await new Promise<void>((done, fail) =>
    execFile('age-keygen', ['-o', file], (err) => (err ? fail(err) : done())),
  )
  const text = await readFile(file, 'utf8')
  const recipient = /public key: (age1[0-9a-z]+)/.exec(text)![1]!
  const secretKey = text.split('\n').find((line) => line.startsWith('AGE-SECRET-KEY-'))!
  return { file, text, secretKey, recipient }
}
