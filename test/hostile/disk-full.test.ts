import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, rmdir, statfs, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'

import { measuredCli, expectCleanFailure, runMeasured } from '../support/measured-cli.js'
import { doubleEnv } from '../support/deck-double.js'

/**
 * A full disk, for real: the output folder lies on a 2 MiB tmpfs, filled until the next write cannot fit.
 * dump, files-backup and files-restore each fail with one clear line naming the place to free ("No space
 * left on <path>: free space and rerun."), no stack trace; the previous backup (or the restore's target) is
 * byte for byte what it was, its checksums still match, and no temp or staging file is left behind.
 */

const exec = promisify(execFile)
const KiB = 1024
const MiB = 1024 * KiB

/** A 2 MiB tmpfs, or why there is none: mounting needs root on Linux (as CI runs the tests). */
async function mountSmallDisk(): Promise<{ dir: string } | { reason: string }> {
  if (process.platform !== 'linux') return { reason: 'a tmpfs mount needs Linux' }
  if (process.getuid?.() !== 0) return { reason: 'mounting a tmpfs needs root (id -u is not 0)' }
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-full-disk-'))
  try {
    await exec('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', dir])
    return { dir }
  } catch (err) {
    await rmdir(dir).catch(() => undefined)
    return {
      reason: `mount -t tmpfs was refused (${(err as { stderr?: string }).stderr?.trim() || String(err)})`,
    }
  }
}

const disk = await mountSmallDisk()
const mounted = 'dir' in disk ? disk.dir : undefined
const suite = mounted ? describe : describe.skip
const title = mounted ? 'a full disk' : `a full disk (skipped: ${'reason' in disk ? disk.reason : ''})`

let bundle: Awaited<ReturnType<typeof measuredCli>>
let scratch: string
beforeAll(async () => {
  if (mounted) bundle = await measuredCli()
}, 60_000)
afterAll(async () => {
  if (!mounted) return
  await bundle.cleanup()
  await exec('umount', [mounted])
  await rmdir(mounted)
})
beforeEach(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'deckhand-full-disk-scratch-'))
  await mkdir(join(scratch, 'tmp'))
})
afterEach(async () => {
  await rm(scratch, { recursive: true, force: true })
  if (mounted) for (const name of await readdir(mounted)) await rm(join(mounted, name), { recursive: true })
})

function cli(args: string[], env: Record<string, string> = {}) {
  return runMeasured(bundle, args, {
    env: { PATH: process.env.PATH ?? '', HOME: scratch, TMPDIR: join(scratch, 'tmp'), ...env },
    cwd: scratch,
    capBytes: 1024 * MiB,
  })
}

/** Fills the small disk, outside the folder under test, until only `left` bytes are free. */
async function fillLeaving(left: number): Promise<void> {
  const { bavail, bsize } = await statfs(mounted!)
  await writeFile(join(mounted!, 'filler'), Buffer.alloc(Math.max(0, bavail * bsize - left)))
}

/** Every file and folder under dir (hidden ones included) with its content. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = join(entry.parentPath, entry.name)
    out.set(
      path.slice(dir.length + 1),
      entry.isFile()
        ? createHash('sha256')
            .update(await readFile(path))
            .digest('hex')
        : 'directory',
    )
  }
  return out
}

const noSpace = (path: string) => `No space left on ${path}: free space and rerun.`

suite(title, () => {
  test('dump: the previous dump stays byte for byte, its SHA256SUMS matching, no staging folder left', async () => {
    const out = join(mounted!, 'kong')
    const env = {
      ...doubleEnv({ log: join(scratch, 'deck-calls.jsonl') }),
      DECKHAND_KONG_ADMIN_TOKEN: 'kong-admin-s3cret',
    }
    const args = ['dump', '--kong-addr', 'http://127.0.0.1:8001', '--all-workspaces', '--output-dir', out]
    const first = await cli(args, env)
    if (first.code !== 0) throw new Error(`the first dump failed: ${first.stderr}`)
    const before = await snapshot(out)
    expect([...before.keys()]).toContain('SHA256SUMS')

    await fillLeaving(8 * KiB)
    const run = await cli(args, env)
    expectCleanFailure(run)
    expect(run.stderr).toContain(noSpace(out))
    expect(await snapshot(out)).toEqual(before)
    for (const line of (await readFile(join(out, 'SHA256SUMS'), 'utf8')).trim().split('\n')) {
      const [sum, name] = line.split(/\s+\*?/)
      expect(
        createHash('sha256')
          .update(await readFile(join(out, name!)))
          .digest('hex'),
      ).toBe(sum)
    }
    expect(await readdir(join(scratch, 'tmp'))).toEqual([])
  }, 60_000)

  test('files-backup: the previous archive and manifest stay byte for byte and still verify, no temp left', async () => {
    const root = join(scratch, 'root')
    await mkdir(join(root, 'etc/kong'), { recursive: true })
    await writeFile(join(root, 'etc/kong/kong.conf'), 'admin_listen = 127.0.0.1:8001\n')
    // Random bytes: the archive is as large as the files.
    await writeFile(join(root, 'etc/kong/plugins.bin'), randomBytes(256 * KiB))
    const backups = join(mounted!, 'backups')
    const archive = join(backups, 'files.tar.gz')
    const args = ['files-backup', '--paths', 'etc', '--root', root, '--output', archive]
    const first = await cli(args)
    if (first.code !== 0) throw new Error(`the first backup failed: ${first.stderr}`)
    const before = await snapshot(backups)

    await writeFile(join(root, 'etc/kong/plugins.bin'), randomBytes(1536 * KiB))
    await fillLeaving(512 * KiB)
    const run = await cli(args)
    expectCleanFailure(run)
    expect(run.stderr).toContain(noSpace(backups))
    expect(await snapshot(backups)).toEqual(before)
    const check = await cli([
      'files-restore',
      '--input',
      archive,
      '--target',
      join(scratch, 'check'),
      '--dry-run',
    ])
    expect(check.code).toBe(0)
    expect(check.stdout).toMatch(
      /Verified files\.tar\.gz: the archive and all 2 file\(s\) match the manifest/,
    )
  }, 60_000)

  test("files-restore: the target's files stay as they were, nothing staged is left, and a rerun with space succeeds", async () => {
    const root = join(scratch, 'root')
    await mkdir(join(root, 'etc/kong/conf.d'), { recursive: true })
    await writeFile(join(root, 'etc/kong/kong.conf'), 'admin_listen = 0.0.0.0:8001\n')
    await writeFile(join(root, 'etc/kong/conf.d/extra.conf'), 'log_level = debug\n')
    await writeFile(join(root, 'etc/kong/plugins.bin'), randomBytes(1536 * KiB))
    const archive = join(scratch, 'files.tar.gz')
    const made = await cli(['files-backup', '--paths', 'etc', '--root', root, '--output', archive])
    if (made.code !== 0) throw new Error(`the backup failed: ${made.stderr}`)

    const target = join(mounted!, 'target')
    await mkdir(join(target, 'etc/kong'), { recursive: true })
    await writeFile(join(target, 'etc/kong/kong.conf'), 'admin_listen = 127.0.0.1:8001\n')
    const before = await snapshot(target)
    await fillLeaving(512 * KiB)
    const args = ['files-restore', '--input', archive, '--target', target, '--overwrite']
    const run = await cli(args)
    expectCleanFailure(run)
    expect(run.stderr).toContain(noSpace(target))
    expect(await snapshot(target)).toEqual(before)

    await rm(join(mounted!, 'filler'))
    const again = await cli(args)
    if (again.code !== 0) throw new Error(`the restore with space failed: ${again.stderr}`)
    expect(await readFile(join(target, 'etc/kong/kong.conf'), 'utf8')).toBe('admin_listen = 0.0.0.0:8001\n')
  }, 60_000)
})
