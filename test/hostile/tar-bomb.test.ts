import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from '@jest/globals'
import { Header } from 'tar'

import type { FileEntry, FilesManifest } from '../../actions/engine/files/backup.js'
import { measuredCli, expectCleanFailure, type MeasuredRun, runMeasured } from '../support/measured-cli.js'

/**
 * files-restore and a hostile archive: a few MiB of gzip that inflate to gigabytes are refused while they
 * stream, in flat memory, before the bytes over a limit are read, and leave nothing behind (no temp files,
 * no directories, the user's files as they were). And the other side of the limits: a legitimate file of
 * 300 MiB of zeros (a thousandfold compression) backs up and restores, in the same flat memory.
 */

const MiB = 1024 * 1024
const GiB = 1024 * MiB
// The watchdog's limit: far above what a streaming restore needs, far below what the machine has.
const CAP = GiB

let bundle: Awaited<ReturnType<typeof measuredCli>>
let dir: string
let target: string
beforeAll(async () => {
  bundle = await measuredCli()
}, 60_000)
afterAll(() => bundle.cleanup())
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-bomb-'))
  target = join(dir, 'target')
  await mkdir(join(target, 'etc/kong'), { recursive: true })
  await writeFile(join(target, 'etc/kong/kong.conf'), 'admin_listen = 127.0.0.1:8001\n')
  await mkdir(join(dir, 'tmp'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

const env = () => ({ PATH: process.env.PATH ?? '', HOME: dir, TMPDIR: join(dir, 'tmp') })

function cli(args: string[]): Promise<MeasuredRun> {
  return runMeasured(bundle, args, { env: env(), cwd: dir, capBytes: CAP })
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex')

/** The sha256 of n zero bytes, without holding them. */
function zerosSha256(n: number): string {
  const hash = createHash('sha256')
  const block = Buffer.alloc(MiB)
  for (let left = n; left > 0; left -= MiB) hash.update(left >= MiB ? block : block.subarray(0, left))
  return hash.digest('hex')
}

let zeros64: Buffer | undefined
/**
 * n zero bytes as gzip: concatenated members of 64 MiB each (gunzip reads them as one stream), about 64 KiB
 * apiece, so a GiB of zeros costs 1 MiB of archive and no time to make.
 */
function gzipZeros(n: number): Buffer[] {
  zeros64 ??= gzipSync(Buffer.alloc(64 * MiB), { level: 9 })
  const parts: Buffer[] = []
  for (let left = n; left > 0; left -= 64 * MiB)
    parts.push(left >= 64 * MiB ? zeros64 : gzipSync(Buffer.alloc(left), { level: 9 }))
  return parts
}

/** A tar.gz of files of zeros, written entry by entry as tar lays them out. */
function zeroArchive(entries: readonly { path: string; size: number }[]): Buffer {
  const parts: Buffer[] = []
  for (const { path, size } of entries) {
    const block = Buffer.alloc(512)
    new Header({ path, size, mode: 0o644, type: 'File', mtime: new Date(0) }).encode(block, 0)
    parts.push(gzipSync(block), ...gzipZeros(Math.ceil(size / 512) * 512))
  }
  parts.push(gzipSync(Buffer.alloc(1024)))
  return Buffer.concat(parts)
}

/** The archive with a manifest that matches it (archive checksum and all) but lists only `files`. */
async function hostileBackup(archive: Buffer, files: FileEntry[]): Promise<string> {
  const path = join(dir, 'files.tar.gz')
  await writeFile(path, archive)
  const manifest: FilesManifest = {
    format: 'deckhand-files/1',
    createdAt: new Date().toISOString(),
    root: '/',
    tool: 'deckhand',
    files,
    directories: [],
    archive: { file: 'files.tar.gz', size: archive.length, sha256: sha256(archive) },
    secretsIncluded: false,
    secretsExcluded: [],
  }
  await writeFile(`${path}.manifest.json`, JSON.stringify(manifest))
  return path
}

/** Everything under a directory, hidden files and directories included. */
async function everything(base: string): Promise<string[]> {
  const entries = await readdir(base, { recursive: true, withFileTypes: true })
  return entries.map((e) => join(e.parentPath, e.name).slice(base.length + 1)).sort()
}

/** The target as beforeEach left it, and no temporary file anywhere. */
async function expectNothingLeftBehind(): Promise<void> {
  expect(await everything(target)).toEqual(['etc', 'etc/kong', 'etc/kong/kong.conf'])
  expect(await readFile(join(target, 'etc/kong/kong.conf'), 'utf8')).toBe('admin_listen = 127.0.0.1:8001\n')
  expect(await everything(join(dir, 'tmp'))).toEqual([])
}

const restore = (archive: string, ...extra: string[]) =>
  cli(['files-restore', '--input', archive, '--target', target, '--overwrite', ...extra])

describe('files-restore and a tar bomb', () => {
  test('6 GiB of zeros in 6 MiB of archive: refused at the entry header, in flat memory, nothing written', async () => {
    const archive = zeroArchive([{ path: 'etc/kong/big.bin', size: 6 * GiB }])
    expect(archive.length).toBeLessThan(8 * MiB)
    const path = await hostileBackup(archive, [
      { path: 'etc/kong/big.bin', size: 10, sha256: '0'.repeat(64), mode: '0644' },
    ])

    const run = await restore(path)
    expect(run.overCap).toBe(false)
    expectCleanFailure(run)
    expect(run.stderr).toMatch(
      /etc\/kong\/big\.bin in .*files\.tar\.gz is larger than the limit for one file \(4\.0 GiB\)/,
    )
    expect(run.stderr).toMatch(
      /nothing was restored\. If the backup really holds a file that large, raise max-file-size-mib \(now 4096\)/,
    )
    expect(run.peakRss).toBeLessThan(256 * MiB)
    await expectNothingLeftBehind()
  }, 120_000)

  test('4 GiB over 64 entries, the manifest listing three: refused as the stream passes max-size-mib, the staged files removed', async () => {
    const entries = Array.from({ length: 64 }, (_, i) => ({
      path: `var/lib/kong/part-${String(i).padStart(2, '0')}.bin`,
      size: 64 * MiB,
    }))
    const listed = entries
      .slice(0, 3)
      .map((e) => ({ path: e.path, size: e.size, sha256: zerosSha256(e.size), mode: '0644' }))
    const path = await hostileBackup(zeroArchive(entries), listed)

    const run = await restore(path, '--max-size-mib', '256')
    expect(run.overCap).toBe(false)
    expectCleanFailure(run)
    expect(run.stderr).toMatch(/files\.tar\.gz unpacks to more than 256\.0 MiB; nothing was restored/)
    expect(run.stderr).toMatch(/raise max-size-mib \(now 256\)/)
    expect(run.peakRss).toBeLessThan(256 * MiB)
    // The three listed files were verified and staged into the target before the refusal: all gone again,
    // with the directories made for them.
    await expectNothingLeftBehind()
  }, 120_000)

  test('more entries than max-files: refused at the first header past it; a manifest listing more, before reading', async () => {
    const entries = Array.from({ length: 21 }, (_, i) => ({ path: `etc/kong/f${i}`, size: 1 }))
    const one = [{ path: entries[0]!.path, size: 1, sha256: zerosSha256(1), mode: '0644' }]
    const streamed = await restore(await hostileBackup(zeroArchive(entries), one), '--max-files', '10')
    expectCleanFailure(streamed)
    expect(streamed.stderr).toMatch(
      /files\.tar\.gz holds more than 10 files and directories; nothing was restored/,
    )
    expect(streamed.stderr).toMatch(/raise max-files \(now 10\)/)
    await expectNothingLeftBehind()

    const all = entries.map((e) => ({ path: e.path, size: 1, sha256: zerosSha256(1), mode: '0644' }))
    const listed = await restore(await hostileBackup(zeroArchive(entries), all), '--max-files', '10')
    expectCleanFailure(listed)
    expect(listed.stderr).toMatch(/manifest\.json lists 21 files and directories, more than 10/)
    await expectNothingLeftBehind()
  }, 60_000)

  test('a gzip stream inside the gzip stream is refused, not inflated twice', async () => {
    const block = Buffer.alloc(512)
    new Header({ path: 'x', size: 0, type: 'File' }).encode(block, 0)
    const inner = Buffer.concat([gzipSync(block), ...gzipZeros(64 * MiB)])
    const listed = [{ path: 'x', size: 0, sha256: sha256(Buffer.alloc(0)), mode: '0644' }]
    const run = await restore(await hostileBackup(gzipSync(inner), listed), '--dry-run')
    expectCleanFailure(run)
    expect(run.stderr).toMatch(/holds a gzip stream inside its gzip stream/)
    await expectNothingLeftBehind()
  }, 60_000)
})

describe('a legitimate file of 300 MiB of zeros', () => {
  /** Backs up and restores a sparse file of `size` zeros (truncate: instant) with a small file beside it. */
  async function roundTrip(size: number): Promise<{ backup: MeasuredRun; restore: MeasuredRun }> {
    const root = join(dir, `root-${size}`)
    await mkdir(join(root, 'etc/kong'), { recursive: true })
    await writeFile(join(root, 'etc/kong/kong.conf'), 'admin_listen = 127.0.0.1:8001\n')
    await promisify(execFile)('truncate', ['-s', String(size), join(root, 'etc/kong/keyring.bin')])
    const archive = join(dir, `backup-${size}.tar.gz`)
    const backup = await cli(['files-backup', '--paths', 'etc', '--root', root, '--output', archive])
    if (backup.code !== 0) throw new Error(`files-backup failed: ${backup.stderr}`)
    const into = join(dir, `restored-${size}`)
    const restored = await cli(['files-restore', '--input', archive, '--target', into])
    if (restored.code !== 0) throw new Error(`files-restore failed: ${restored.stderr}`)
    expect((await stat(join(into, 'etc/kong/keyring.bin'))).size).toBe(size)
    const hash = createHash('sha256')
    for await (const chunk of createReadStream(join(into, 'etc/kong/keyring.bin')))
      hash.update(chunk as Buffer)
    expect(hash.digest('hex')).toBe(zerosSha256(size))
    await rm(into, { recursive: true })
    return { backup, restore: restored }
  }

  test('backs up and restores, with peak memory that does not grow with the file', async () => {
    const small = await roundTrip(MiB)
    const large = await roundTrip(300 * MiB)
    const mib = (n: number) => `${Math.round(n / MiB)} MiB`
    process.stderr.write(
      `300 MiB of zeros: files-backup peak RSS ${mib(large.backup.peakRss)} in ${large.backup.ms} ms, ` +
        `files-restore ${mib(large.restore.peakRss)} in ${large.restore.ms} ms ` +
        `(1 MiB: ${mib(small.backup.peakRss)}, ${mib(small.restore.peakRss)})\n`,
    )
    // A third of the file at most, and in practice a constant: V8 frees dead buffers only once some 64 MiB
    // of them have piled up (its external memory limit), whatever the file's size; a restore or backup that
    // held the file, or the compression ratio's worth of it, would be hundreds of MiB over.
    expect(large.backup.peakRss - small.backup.peakRss).toBeLessThan(100 * MiB)
    expect(large.restore.peakRss - small.restore.peakRss).toBeLessThan(100 * MiB)
  }, 180_000)
})
