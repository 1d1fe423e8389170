import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rmdir, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { afterAll, describe, expect, test } from '@jest/globals'

import { asExpectedError, isDeckhandError } from '../../actions/engine/errors.js'
import { runCli } from '../support/action.js'

/**
 * Every failure deckhand can anticipate is one clear line and exit 1; "unexpected error" with a stack trace
 * means a bug. A file system that refuses a write (read-only, full, no permission) is anticipated wherever it
 * happens: the message names the path and what to do, and the user's file is left as it was.
 */

const exec = promisify(execFile)

describe('file system refusals no handler named', () => {
  test('become a typed error naming the path; anything else stays a bug', () => {
    const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), {
      code: 'ENOSPC',
      syscall: 'write',
      path: '/backups/kong.yaml',
    })
    const mapped = asExpectedError(enospc)
    expect(isDeckhandError(mapped)).toBe(true)
    expect(mapped!.message).toBe('No space left on /backups/kong.yaml: free space and rerun.')
    expect(asExpectedError(new TypeError('x is undefined'))).toBeUndefined()
    expect(asExpectedError(Object.assign(new Error('boom'), { code: 'ECONNRESET' }))).toBeUndefined()
  })
})

/** A read-only tmpfs, or why there is none: mounting needs root on Linux (as CI runs the tests). */
async function readOnlyMount(): Promise<{ dir: string } | { reason: string }> {
  if (process.platform !== 'linux') return { reason: 'a tmpfs mount needs Linux' }
  if (process.getuid?.() !== 0) return { reason: 'mounting a tmpfs needs root (id -u is not 0)' }
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-read-only-'))
  try {
    await exec('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir])
  } catch (err) {
    await rmdir(dir).catch(() => undefined)
    return {
      reason: `mount -t tmpfs was refused (${(err as { stderr?: string }).stderr?.trim() || String(err)})`,
    }
  }
  return { dir }
}

const mount = await readOnlyMount()
const mounted = 'dir' in mount ? mount.dir : undefined
afterAll(async () => {
  if (!mounted) return
  await exec('umount', [mounted])
  await rmdir(mounted)
})

const STATE =
  '_format_version: "3.0"\nconsumers:\n- username: ann\n  keyauth_credentials:\n  - key: ann-Sup3rS3cretKey\n'

;(mounted ? describe : describe.skip)(
  `a read-only file system${mounted ? '' : ` (skipped: ${'reason' in mount ? mount.reason : ''})`}`,
  () => {
    test('redact in place is refused with one clear line, the file untouched and no secret shown', async () => {
      const file = join(mounted!, 'kong.yaml')
      await writeFile(file, STATE)
      await exec('mount', ['-o', 'remount,ro', mounted!])
      const run = await runCli(['redact', file], { env: { PATH: process.env.PATH ?? '', HOME: tmpdir() } })
      expect(run.code).toBe(1)
      expect(run.stderr).not.toMatch(/unexpected error|\n\s+at /)
      expect(run.stderr).toContain('read-only file system')
      expect(run.stderr).toContain(mounted!)
      expect(run.stderr + run.stdout).not.toContain('ann-Sup3rS3cretKey')
      expect(await readFile(file, 'utf8')).toBe(STATE)
      expect(await readdir(mounted!)).toEqual(['kong.yaml'])
    })
  },
)
