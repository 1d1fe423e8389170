import { afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'
import {
  chmod,
  copyFile,
  cp,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { create as createTar, list as listTar, type ReadEntry } from 'tar'

import type { ArtifactStore } from '../actions/engine/artifacts.js'
import type { ToolStore } from '../actions/engine/deck/install.js'
import { ArchiveLimitError } from '../actions/engine/files/archive.js'
import { type FilesManifest, filesBackup, warnOverRestoreLimits } from '../actions/engine/files/backup.js'
import { filesRestore } from '../actions/engine/files/restore.js'
import type { JobContext } from '../actions/engine/jobs/context.js'
import { filesBackupJob, filesRestoreJob } from '../actions/engine/jobs/files.js'
import type { Logger } from '../actions/engine/log.js'
import { runBundledAction, runCli } from './support/action.js'
import { tree } from './support/tree.js'
import { failure } from './support/errors.js'

const PRIVATE_KEY = [
  '-----BEGIN PRIVATE KEY-----',
  'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj',
  'MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu',
  '-----END PRIVATE KEY-----',
  '',
].join('\n')
const CERTIFICATE = [
  '-----BEGIN CERTIFICATE-----',
  'MIIDazCCAlOgAwIBAgIUBXnvNVFZ0aRlhYeKy3JeVHvLwb8wDQYJKoZIhvcNAQEL',
  'BQAwRTELMAkGA1UEBhMCQVUxEzARBgNVBAgMClNvbWUtU3RhdGUxITAfBgNVBAoM',
  '-----END CERTIFICATE-----',
  '',
].join('\n')

/** Files shaped like a gateway host, relative to its root, with their modes. */
const HOST: Record<string, { content: string; mode: number }> = {
  'etc/kong/kong.conf': {
    content:
      'admin_listen = 127.0.0.1:8001\nssl_cert = /etc/kong/ssl/server.crt\nssl_cert_key = /etc/kong/ssl/server.key\n',
    mode: 0o640,
  },
  'etc/kong/ssl/server.crt': { content: CERTIFICATE, mode: 0o644 },
  'etc/kong/ssl/server.key': { content: PRIVATE_KEY, mode: 0o600 },
  // A key under a name no extension gives away: found by its PEM armour.
  'etc/kong/ssl/upstream-client.txt': { content: `# client key\n${PRIVATE_KEY}`, mode: 0o600 },
  'opt/tyk-gateway/tyk.conf': {
    content: '{"listen_port": 8080, "use_db_app_configs": false}\n',
    mode: 0o644,
  },
  'opt/tyk-gateway/apps/orders.json': {
    content: '{"name": "orders", "api_id": "1", "proxy": {"listen_path": "/orders/"}}\n',
    mode: 0o644,
  },
  'opt/tyk-gateway/apps/payments.json': {
    content: '{"name": "payments", "api_id": "2", "proxy": {"listen_path": "/payments/"}}\n',
    mode: 0o644,
  },
  'opt/tyk-gateway/middleware/auth-hook.js': {
    content: 'var authHook = new TykJS.TykMiddleware()\n',
    mode: 0o755,
  },
  'app/storage/main/company.team/_files/scripts/etl.py': { content: 'print("etl")\n', mode: 0o644 },
  'app/storage/main/company.team/_files/queries/orders.sql': { content: 'select 1;\n', mode: 0o644 },
  'app/storage/main/company.team.billing/_files/templates/invoice/header.html': {
    content: '<h1>Invoice</h1>\n',
    mode: 0o644,
  },
  'app/storage/main/company.team/_kv/api_base_url': {
    content: '{"value":"https://api.internal"}',
    mode: 0o600,
  },
  'app/storage/main/company.team.billing/_kv/retries': { content: '{"value":3}', mode: 0o600 },
}
const SECRETS = ['etc/kong/ssl/server.crt', 'etc/kong/ssl/server.key', 'etc/kong/ssl/upstream-client.txt']
const ALL = Object.keys(HOST).sort()
const NON_SECRET = ALL.filter((p) => !SECRETS.includes(p))
const PATHS = ['etc/kong', 'opt/tyk-gateway', 'app/storage']

/** Archive entries with etc/kong/ssl/ in path order: the folder of the keys left out, archived empty. */
const withKeysFolder = (paths: readonly string[]) => [...paths, 'etc/kong/ssl/'].sort()

const logger: Logger = { info: () => undefined, warn: () => undefined, debug: () => undefined }

let dir: string
let root: string
let out: string
let target: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-files-test-'))
  root = join(dir, 'host')
  out = join(dir, 'backups')
  target = join(dir, 'restored')
  for (const [path, { content, mode }] of Object.entries(HOST)) {
    await mkdir(dirname(join(root, path)), { recursive: true })
    await writeFile(join(root, path), content)
    await chmod(join(root, path), mode)
  }
})
afterEach(() => rm(dir, { recursive: true, force: true }))

const backup = (extra: Partial<Parameters<typeof filesBackup>[0]> = {}) =>
  filesBackup({
    patterns: PATHS,
    root,
    output: join(out, 'files.tar.gz'),
    includeSecrets: false,
    logger,
    ...extra,
  })

const restore = (input: string, extra: Partial<Parameters<typeof filesRestore>[0]> = {}) =>
  filesRestore({ input, target, overwrite: false, dryRun: false, logger, ...extra })

const sha256 = async (path: string) =>
  createHash('sha256')
    .update(await readFile(path))
    .digest('hex')

/** Each entry of a tar.gz: path, type, size, sha256 of its content, in archive order. */
async function entries(archive: string) {
  const found: { path: string; type: string; size: number; sha256: string }[] = []
  await listTar({
    file: archive,
    onReadEntry: (entry: ReadEntry) => {
      const hash = createHash('sha256')
      let size = 0
      entry.on('data', (chunk: Buffer) => {
        hash.update(chunk)
        size += chunk.length
      })
      entry.on('end', () =>
        found.push({ path: entry.path, type: entry.type, size, sha256: hash.digest('hex') }),
      )
    },
  })
  return found
}

function cli(args: string[]) {
  return runCli(args, { env: { PATH: process.env.PATH ?? '', HOME: dir }, cwd: dir })
}

function jobContext(artifacts?: ArtifactStore, env: NodeJS.ProcessEnv = {}) {
  const warnings: string[] = []
  const ctx: JobContext = {
    logger: { ...logger, warn: (m) => warnings.push(m) },
    store: {} as ToolStore,
    env,
    secret: () => undefined,
    artifacts,
  }
  return { ctx, warnings }
}

describe('files-backup action (bundled, run as the runner does)', () => {
  it('leaves private keys and certificates out by default and says so', async () => {
    const output = join(out, 'files.tar.gz')
    const run = await runBundledAction('files-backup', { paths: PATHS.join('\n'), root, output })
    expect(run.exitCode).toBe(0)
    expect(run.outputs.path).toBe(output)
    expect(run.outputs.manifest).toBe(`${output}.manifest.json`)
    expect(run.outputs.files).toBe(String(NON_SECRET.length))
    expect(run.outputs['size-bytes']).toBe(String((await stat(output)).size))
    expect(run.outputs['secrets-excluded']!.split('\n')).toEqual(SECRETS)
    expect(run.outputs['artifact-id'] ?? '').toBe('')
    // No artifact service outside a real runner: said, and not a failure.
    expect(run.stdout).toContain(`::warning::Not uploaded as an artifact: `)
    expect(run.stdout).toContain(`The backup stays at ${output}.`)

    // The keys' folder stays, empty, for them to be put back in.
    expect((await entries(output)).map((e) => e.path)).toEqual(withKeysFolder(NON_SECRET))
    expect(run.summary).toContain('and 1 empty directory(ies) into')
    expect(run.summary).toContain(
      `${SECRETS.length} private key/certificate file(s) left out (include-secrets: false): ${SECRETS.join(', ')}`,
    )
    for (const secret of SECRETS) expect(run.summary).toContain(secret)
    expect(run.summary).not.toContain('BEGIN PRIVATE KEY')
    expect(run.summary).toMatch(/Files by directory/)
    expect(run.summary).toMatch(/opt\/tyk-gateway/)
  })

  it('includes them with include-secrets: true and warns that the archive is now secret', async () => {
    const output = join(out, 'with-keys.tar.gz')
    const run = await runBundledAction('files-backup', {
      paths: PATHS.join('\n'),
      root,
      output,
      'include-secrets': 'true',
    })
    expect(run.exitCode).toBe(0)
    expect(run.outputs.files).toBe(String(ALL.length))
    expect(run.outputs['secrets-excluded']).toBe('')
    expect((await entries(output)).map((e) => e.path)).toEqual(ALL)
    expect(run.summary).toContain(
      'Private keys and certificates are included (include-secrets: true): keep this archive as secret as the keys.',
    )
    // An archive that may hold keys is readable by its owner only.
    expect((await stat(output)).mode & 0o777).toBe(0o600)
  })

  it('fails the step, naming the pattern, when a path matches nothing', async () => {
    const run = await runBundledAction('files-backup', {
      paths: 'etc/kong\netc/kong/kong.yaml',
      root,
      output: join(out, 'files.tar.gz'),
    })
    expect(run.exitCode).not.toBe(0)
    expect(run.stdout).toMatch(/::error::.*etc\/kong\/kong\.yaml/)
    expect(await tree(out)).toEqual([])
  })
})

describe('files-restore action (bundled)', () => {
  it('verifies and restores into an empty directory, with outputs and summary', async () => {
    const made = await backup()
    const run = await runBundledAction('files-restore', { input: made.archive, target })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ files: String(NON_SECRET.length), unchanged: '0', verified: 'true' })
    expect(run.summary).toContain(`Verified files.tar.gz: the archive and all ${NON_SECRET.length} file(s)`)
    expect(await tree(target)).toEqual(NON_SECRET)
  })

  it('fails without writing when the input is neither a file nor an artifact it can fetch', async () => {
    const run = await runBundledAction('files-restore', { input: join(dir, 'nope.tar.gz'), target })
    expect(run.exitCode).not.toBe(0)
    expect(await tree(target)).toEqual([])
  })
})

describe('deckhand files-backup / files-restore (CLI)', () => {
  it('backs up and restores from the command line', async () => {
    const output = join(out, 'cli.tar.gz')
    const made = await cli([
      'files-backup',
      '--paths',
      'etc/kong',
      '--paths',
      'opt/tyk-gateway/apps',
      '--root',
      root,
      '--output',
      output,
      '--json',
    ])
    for (const [file, kind] of [
      ['etc/kong/ssl/server.crt', '.crt file'],
      ['etc/kong/ssl/server.key', '.key file'],
      ['etc/kong/ssl/upstream-client.txt', 'PEM private key'],
    ])
      expect(made.stderr).toContain(`Left out ${file} (${kind}; include-secrets is false)`)
    expect(made.code).toBe(0)
    const outputs = JSON.parse(made.stdout)
    expect(outputs).toMatchObject({ path: output, files: '3', 'secrets-excluded': SECRETS.join('\n') })

    const restored = await cli(['files-restore', '--input', output, '--target', target])
    expect(restored.code).toBe(0)
    expect(restored.stdout).toContain('Wrote 3 file(s)')
    expect(await tree(target)).toEqual([
      'etc/kong/kong.conf',
      'opt/tyk-gateway/apps/orders.json',
      'opt/tyk-gateway/apps/payments.json',
    ])

    const missing = await cli(['files-restore', '--input', join(dir, 'gone.tar.gz'), '--target', target])
    expect(missing.code).not.toBe(0)
    expect(missing.stderr).toMatch(/gone\.tar\.gz: no such file or directory/)
  })
})

describe('files backup', () => {
  it('writes a manifest that describes the archive exactly, entries in path order', async () => {
    const made = await backup({ includeSecrets: true })
    const manifest = JSON.parse(await readFile(made.manifest, 'utf8')) as FilesManifest
    expect(manifest).toMatchObject({
      format: 'deckhand-files/1',
      root,
      tool: 'deckhand',
      secretsIncluded: true,
      secretsExcluded: [],
      archive: {
        file: 'files.tar.gz',
        size: (await stat(made.archive)).size,
        sha256: await sha256(made.archive),
      },
    })
    expect(made.secretsIncluded).toBe(SECRETS.length)
    expect(made.sizeBytes).toBe(manifest.archive.size)

    const inArchive = await entries(made.archive)
    expect(inArchive.every((e) => e.type === 'File')).toBe(true)
    expect(inArchive.map(({ path, size, sha256 }) => ({ path, size, sha256 }))).toEqual(
      manifest.files.map(({ path, size, sha256 }) => ({ path, size, sha256 })),
    )
    for (const file of manifest.files) {
      expect({ path: file.path, sha256: file.sha256 }).toEqual({
        path: file.path,
        sha256: await sha256(join(root, file.path)),
      })
      expect({ path: file.path, mode: file.mode }).toEqual({
        path: file.path,
        mode: `0${HOST[file.path]!.mode.toString(8)}`,
      })
    }
  })

  it('applies !exclusions, to files and to whole directories', async () => {
    const made = await backup({
      patterns: [...PATHS, '!**/*.py', '!app/storage/main/company.team/_kv', '!opt/tyk-gateway/apps/pay*'],
    })
    const paths = made.files.map((f) => f.path)
    expect(paths).toEqual(
      NON_SECRET.filter(
        (p) =>
          !p.endsWith('.py') &&
          !p.startsWith('app/storage/main/company.team/_kv/') &&
          !p.includes('/payments'),
      ),
    )
    expect(paths).toContain('app/storage/main/company.team.billing/_kv/retries')
  })

  it('expands globs, including directories they match', async () => {
    const made = await backup({ patterns: ['app/storage/*/*/_files', 'opt/**/*.json'] })
    expect(made.files.map((f) => f.path)).toEqual([
      'app/storage/main/company.team.billing/_files/templates/invoice/header.html',
      'app/storage/main/company.team/_files/queries/orders.sql',
      'app/storage/main/company.team/_files/scripts/etl.py',
      'opt/tyk-gateway/apps/orders.json',
      'opt/tyk-gateway/apps/payments.json',
    ])
  })

  it('refuses a pattern that matches nothing and leaves the previous archive byte for byte', async () => {
    const first = await backup()
    const before = { archive: await readFile(first.archive), manifest: await readFile(first.manifest) }
    await writeFile(join(root, 'etc/kong/kong.conf'), 'changed\n')
    const err = await failure(backup({ patterns: [...PATHS, 'etc/kong/kong.yml'] }))
    expect(err.message).toContain('etc/kong/kong.yml')
    expect(err.message).toMatch(/match no file/)
    expect(await readFile(first.archive)).toEqual(before.archive)
    expect(await readFile(first.manifest)).toEqual(before.manifest)
    expect(await readdir(out)).toEqual(['files.tar.gz', 'files.tar.gz.manifest.json'])
  })

  it('refuses a match outside root and says to set root', async () => {
    await mkdir(join(dir, 'elsewhere'))
    await writeFile(join(dir, 'elsewhere', 'kong.conf'), 'x\n')
    for (const pattern of [join(dir, 'elsewhere', 'kong.conf'), '../elsewhere/*.conf']) {
      const err = await failure(backup({ patterns: ['etc/kong', pattern] }))
      expect(err.message).toContain('outside root')
      expect(err.message).toContain(join(dir, 'elsewhere', 'kong.conf'))
      expect(err.message).toMatch(/set root/)
    }
    await expect(stat(join(out, 'files.tar.gz'))).rejects.toThrow()
  })

  it('never archives its own output when it lies inside a directory being backed up', async () => {
    const output = join(root, 'files.tar.gz')
    await backup({ patterns: ['.'], output })
    const second = await backup({ patterns: ['.'], output })
    expect(second.files.map((f) => f.path)).toEqual(NON_SECRET)
    expect((await entries(output)).map((e) => e.path)).toEqual(withKeysFolder(NON_SECRET))
  })

  it('backs up the file a symbolic link points to, as a file', async () => {
    await symlink(join(root, 'etc/kong/kong.conf'), join(root, 'opt/tyk-gateway/kong.conf'))
    const made = await backup({ patterns: ['opt/tyk-gateway/kong.conf'] })
    const [entry] = await entries(made.archive)
    expect(entry).toMatchObject({ path: 'opt/tyk-gateway/kong.conf', type: 'File' })
    expect(entry!.sha256).toBe(await sha256(join(root, 'etc/kong/kong.conf')))
  })

  it('refuses when every match is a key left out', async () => {
    const err = await failure(backup({ patterns: ['etc/kong/ssl'] }))
    expect(err.message).toMatch(/Nothing to back up/)
  })

  it("warns when a backup is over files-restore's default limits, naming what its restore needs", () => {
    const warnings: string[] = []
    const warn = { ...logger, warn: (m: string) => warnings.push(m) }
    const file = (path: string, size: number) => ({ path, size, sha256: '0'.repeat(64), mode: '0644' })
    const GiB = 1024 ** 3
    warnOverRestoreLimits({ files: [file('a', GiB)], directories: [] } as unknown as FilesManifest, warn)
    expect(warnings).toEqual([])
    const big = [file('a', 5 * GiB), file('b', 4 * GiB), file('c', 2 * GiB)]
    warnOverRestoreLimits({ files: big, directories: [] } as unknown as FilesManifest, warn)
    expect(warnings).toEqual([
      "This backup is over files-restore's default limits: restore it with max-size-mib: 11264, max-file-size-mib: 5120",
    ])
  })
})

describe('files restore', () => {
  it('recreates identical bytes, modes and modification times', async () => {
    const made = await backup({ includeSecrets: true })
    const result = await restore(made.archive)
    expect(result).toMatchObject({ written: ALL, unchanged: [], conflicts: [], verified: true })
    expect(await tree(target)).toEqual(ALL)
    for (const path of ALL) {
      const [a, b] = [await stat(join(root, path)), await stat(join(target, path))]
      expect({ path, content: await readFile(join(target, path), 'utf8') }).toEqual({
        path,
        content: HOST[path]!.content,
      })
      expect({ path, mode: b.mode & 0o7777 }).toEqual({ path, mode: a.mode & 0o7777 })
      expect(Math.floor(b.mtimeMs / 1000)).toBe(Math.floor(a.mtimeMs / 1000))
    }
    // No temp files left beside the restored ones.
    expect((await tree(target)).filter((p) => p.endsWith('.tmp'))).toEqual([])
  })

  it('accepts the manifest or the directory holding it as input', async () => {
    const made = await backup()
    await expect(restore(made.manifest, { dryRun: true })).resolves.toMatchObject({ written: NON_SECRET })
    await expect(restore(out, { dryRun: true })).resolves.toMatchObject({ written: NON_SECRET })
  })

  it('refuses a tampered archive before writing anything', async () => {
    const made = await backup()
    const bytes = await readFile(made.archive)
    const middle = Math.floor(bytes.length / 2)
    bytes[middle] = bytes[middle]! ^ 0xff
    await writeFile(made.archive, bytes)
    const err = await failure(restore(made.archive))
    expect(err.message).toMatch(/does not match its manifest/)
    expect(err.message).toMatch(/Nothing was restored/)
    await expect(stat(target)).rejects.toThrow()
  })

  it('refuses a manifest that belongs to another backup', async () => {
    const mine = await backup()
    await writeFile(join(root, 'opt/tyk-gateway/apps/orders.json'), '{"name": "orders", "api_id": "1b"}\n')
    const other = await backup({ output: join(dir, 'other', 'files.tar.gz') })
    await copyFile(other.manifest, mine.manifest)
    const err = await failure(restore(mine.archive))
    expect(err.message).toMatch(/does not match its manifest/)
    await expect(stat(target)).rejects.toThrow()
  })

  it('refuses when a file in the archive differs from the manifest, even with the archive checksum right', async () => {
    const made = await backup()
    const manifest = JSON.parse(await readFile(made.manifest, 'utf8')) as FilesManifest
    manifest.files[0]!.sha256 = '0'.repeat(64)
    await writeFile(made.manifest, JSON.stringify(manifest))
    const err = await failure(restore(made.archive))
    expect(err.message).toMatch(/do not match the manifest/)
    expect(err.details.join('\n')).toContain(manifest.files[0]!.path)
    await expect(stat(target)).rejects.toThrow()
  })

  it('refuses an archive holding files the manifest does not list, or a missing or foreign manifest', async () => {
    const made = await backup()
    const manifest = JSON.parse(await readFile(made.manifest, 'utf8')) as FilesManifest
    // Same archive, one file dropped from the manifest: the archive holds an extra file.
    const dropped = manifest.files.shift()!
    await writeFile(made.manifest, JSON.stringify(manifest))
    const extra = await failure(restore(made.archive))
    expect(extra.details).toContain(`${dropped.path}: not in the manifest`)

    await rm(made.manifest)
    expect((await failure(restore(made.archive))).message).toMatch(/Cannot read the manifest/)
    await writeFile(made.manifest, JSON.stringify({ format: 'something-else/1' }))
    expect((await failure(restore(made.archive))).message).toMatch(/not a valid files-backup manifest/)
    await expect(stat(target)).rejects.toThrow()
  })

  it('refuses links and paths escaping the target, even with checksums that match', async () => {
    const evil = join(dir, 'evil')
    await mkdir(join(evil, 'etc'), { recursive: true })
    await writeFile(join(evil, 'etc', 'kong.conf'), 'x\n')
    await writeFile(join(evil, 'escape.txt'), 'x\n')
    await symlink('/etc/passwd', join(evil, 'etc', 'link'))
    const crafted = [
      {
        name: 'link.tar.gz',
        cwd: evil,
        entries: ['etc/kong.conf', 'etc/link'],
        problem: /etc\/link is a SymbolicLink/,
      },
      {
        name: 'dotdot.tar.gz',
        cwd: join(evil, 'etc'),
        entries: ['kong.conf', '../escape.txt'],
        problem: /\.\.\/escape\.txt is not a plain relative path/,
      },
    ]
    for (const { name, cwd, entries: names, problem } of crafted) {
      const archive = join(dir, name)
      await createTar({ file: archive, cwd, gzip: true, preservePaths: true }, names)
      const manifest: FilesManifest = {
        format: 'deckhand-files/1',
        createdAt: new Date().toISOString(),
        root: cwd,
        tool: 'deckhand',
        files: [
          { path: names[0]!, size: 2, sha256: await sha256(join(evil, 'etc', 'kong.conf')), mode: '0644' },
        ],
        archive: { file: name, size: (await stat(archive)).size, sha256: await sha256(archive) },
        secretsIncluded: false,
        secretsExcluded: [],
      }
      await writeFile(`${archive}.manifest.json`, JSON.stringify(manifest))
      const err = await failure(restore(archive))
      expect(err.message).toMatch(/nothing was restored/)
      expect(err.details.join('\n')).toMatch(problem)
      await expect(stat(target)).rejects.toThrow()
    }
  })

  it('refuses to replace differing files without overwrite, writing nothing; replaces them with it', async () => {
    const made = await backup()
    await restore(made.archive)
    await writeFile(join(target, 'etc/kong/kong.conf'), 'admin_listen = off\n')
    await rm(join(target, 'opt/tyk-gateway/apps/orders.json'))

    const err = await failure(restore(made.archive))
    expect(err.message).toMatch(/1 file\(s\) in .* differ from the backup; nothing was written/)
    expect(err.details).toEqual(['etc/kong/kong.conf'])
    expect(await readFile(join(target, 'etc/kong/kong.conf'), 'utf8')).toBe('admin_listen = off\n')
    await expect(stat(join(target, 'opt/tyk-gateway/apps/orders.json'))).rejects.toThrow()

    const result = await restore(made.archive, { overwrite: true })
    expect(result.conflicts).toEqual(['etc/kong/kong.conf'])
    expect(result.written).toEqual(['etc/kong/kong.conf', 'opt/tyk-gateway/apps/orders.json'])
    expect(result.unchanged).toEqual(NON_SECRET.filter((p) => !result.written.includes(p)))
    expect(await readFile(join(target, 'etc/kong/kong.conf'), 'utf8')).toBe(
      HOST['etc/kong/kong.conf']!.content,
    )
    expect((await stat(join(target, 'etc/kong/kong.conf'))).mode & 0o777).toBe(0o640)
  })

  it('refuses an archive over the limits given, naming the input that raises each, writing nothing', async () => {
    const made = await backup()
    const files = await failure(restore(made.archive, { limits: { maxEntries: 3 } }))
    expect(files).toBeInstanceOf(ArchiveLimitError)
    expect(files.message).toMatch(/lists \d+ files and directories, more than 3; nothing was restored/)
    expect(files.message).toMatch(/raise max-files \(now 3\)/)
    const size = await failure(restore(made.archive, { limits: { maxBytes: 100 } }))
    expect(size.message).toMatch(
      /add up to .* more than 100 bytes; nothing was restored\. .*raise max-size-mib \(now 1\)/,
    )
    await expect(stat(target)).rejects.toThrow()
  })

  it('writes nothing in a dry run, and reports what it would write', async () => {
    const made = await backup()
    const result = await restore(made.archive, { dryRun: true })
    expect(result).toMatchObject({ written: NON_SECRET, unchanged: [], conflicts: [], verified: true })
    await expect(stat(target)).rejects.toThrow()

    await mkdir(join(target, 'etc/kong'), { recursive: true })
    await writeFile(join(target, 'etc/kong/kong.conf'), 'other\n')
    const overwriting = await restore(made.archive, { dryRun: true, overwrite: true })
    expect(overwriting.conflicts).toEqual(['etc/kong/kong.conf'])
    expect(await tree(target)).toEqual(['etc/kong/kong.conf'])
    expect(await readFile(join(target, 'etc/kong/kong.conf'), 'utf8')).toBe('other\n')
  })
})

describe('empty directories', () => {
  const DRAFTS = 'app/storage/main/company.team.billing/_files/drafts'
  const NESTED = `${DRAFTS}/2025`
  const modeOf = async (path: string) => (await stat(path)).mode & 0o7777
  const directoriesIn = async (manifestPath: string) =>
    (JSON.parse(await readFile(manifestPath, 'utf8')) as FilesManifest).directories

  beforeEach(async () => {
    await mkdir(join(root, NESTED), { recursive: true })
    await chmod(join(root, NESTED), 0o750)
    await chmod(join(root, DRAFTS), 0o710)
  })

  it('files-backup archives a nested empty directory with its mode; files-restore recreates it', async () => {
    const made = await backup({ includeSecrets: true })
    const directories = [
      { path: DRAFTS, mode: '0710' },
      { path: NESTED, mode: '0750' },
    ]
    expect(made.directories).toEqual(directories)
    expect(await directoriesIn(made.manifest)).toEqual(directories)
    const dirEntries = (await entries(made.archive)).filter((e) => e.type === 'Directory')
    expect(dirEntries.map((e) => e.path)).toEqual([`${DRAFTS}/`, `${NESTED}/`])

    const result = await restore(made.archive)
    expect(result).toMatchObject({ written: ALL, directories: [DRAFTS, NESTED], directoriesPresent: [] })
    expect(await tree(target)).toEqual(ALL)
    expect(await readdir(join(target, NESTED))).toEqual([])
    expect(await modeOf(join(target, DRAFTS))).toBe(0o710)
    expect(await modeOf(join(target, NESTED))).toBe(0o750)

    // Again: the directories are there, and left as they are.
    await chmod(join(target, NESTED), 0o700)
    const again = await restore(made.archive)
    expect(again).toMatchObject({ written: [], directories: [], directoriesPresent: [DRAFTS, NESTED] })
    expect(await modeOf(join(target, NESTED))).toBe(0o700)
  })

  it('a path naming an empty directory backs it up alone; the bundled files-restore creates it and counts it', async () => {
    const made = await backup({ patterns: [DRAFTS] })
    expect(made.files).toEqual([])
    expect(made.directories.map((d) => d.path)).toEqual([DRAFTS, NESTED])

    const run = await runBundledAction('files-restore', { input: made.archive, target })
    expect(run.exitCode).toBe(0)
    expect(run.outputs).toMatchObject({ files: '0', verified: 'true' })
    expect(run.summary).toContain(
      'the archive and all 0 file(s) and 2 empty directory(ies) match the manifest',
    )
    expect(run.summary).toContain('Created 2 empty directory(ies) of the backup; 0 already there.')
    expect(await modeOf(join(target, NESTED))).toBe(0o750)
  })

  it('a directory that exclusions emptied is kept, empty; one an exclusion matches goes with everything in it', async () => {
    // Excluding files is not removing the folders the application uses: as with tar or rsync, a directory whose
    // files were all excluded comes back empty. To leave a directory out, the exclusion names it, or a glob
    // matches it (**/middleware/** matches the directory itself too).
    const made = await backup({
      includeSecrets: true,
      patterns: [...PATHS, '!**/*.py', '!app/storage/main/company.team/_kv', '!**/middleware/**'],
    })
    const scripts = 'app/storage/main/company.team/_files/scripts'
    expect(made.directories.map((d) => d.path)).toEqual([DRAFTS, NESTED, scripts])
    await restore(made.archive)
    expect(await readdir(join(target, scripts))).toEqual([])
    await expect(stat(join(target, 'app/storage/main/company.team/_kv'))).rejects.toThrow(/ENOENT/)
    await expect(stat(join(target, 'opt/tyk-gateway/middleware'))).rejects.toThrow(/ENOENT/)
  })

  it('a manifest without directories (an older files-backup) still restores', async () => {
    await rm(join(root, DRAFTS), { recursive: true })
    const made = await backup({ includeSecrets: true })
    const manifest = JSON.parse(await readFile(made.manifest, 'utf8')) as FilesManifest
    expect(manifest.directories).toEqual([])
    delete manifest.directories
    await writeFile(made.manifest, JSON.stringify(manifest))
    await expect(restore(made.archive)).resolves.toMatchObject({ written: ALL, directories: [] })
  })

  it('refuses an empty directory the archive or the manifest lacks, or a path that escapes, writing nothing', async () => {
    const made = await backup({ includeSecrets: true })
    const original = await readFile(made.manifest, 'utf8')
    const edit = async (change: (m: FilesManifest) => void) => {
      const manifest = JSON.parse(original) as FilesManifest
      change(manifest)
      await writeFile(made.manifest, JSON.stringify(manifest))
      return failure(restore(made.archive))
    }
    const unlisted = await edit((m) => (m.directories = m.directories!.filter((d) => d.path !== NESTED)))
    expect(unlisted.details).toContain(`${NESTED}/: not in the manifest`)
    const missing = await edit((m) => m.directories!.push({ path: 'app/storage/main/other', mode: '0755' }))
    expect(missing.details).toContain('app/storage/main/other/: not in the archive')
    for (const path of ['../outside', '/tmp/outside', 'app/../../outside']) {
      const escaping = await edit((m) => m.directories!.push({ path, mode: '0755' }))
      expect(escaping.message).toMatch(/not a valid files-backup manifest/)
      expect(escaping.details.join('\n')).toContain('bad directory entry')
    }
    const beneathFile = await edit((m) => m.directories!.push({ path: 'etc/kong/kong.conf/x', mode: '0755' }))
    expect(beneathFile.details).toContain('etc/kong/kong.conf/x lies beneath the file etc/kong/kong.conf')
    await expect(stat(target)).rejects.toThrow(/ENOENT/)
  })

  it('refuses a directory whose place in the target is taken, and changes nothing through a link', async () => {
    const made = await backup({ includeSecrets: true })
    // A file where the directory goes: refused before anything is written.
    await mkdir(join(target, DRAFTS), { recursive: true })
    await writeFile(join(target, NESTED), 'not a directory\n')
    const err = await failure(restore(made.archive))
    expect(err.message).toMatch(/cannot be restored into .*; nothing was written/)
    expect(err.details).toEqual([`${NESTED}/: exists and is not a directory`])
    expect(await tree(target)).toEqual([NESTED])

    // A broken link there is in the way too.
    await rm(join(target, NESTED))
    await symlink(join(dir, 'nowhere'), join(target, NESTED))
    expect((await failure(restore(made.archive))).details).toEqual([
      `${NESTED}/: exists and is not a directory`,
    ])

    // A link to a directory outside the target stands for the directory, and its mode is left alone.
    const outside = join(dir, 'outside')
    await mkdir(outside)
    await chmod(outside, 0o755)
    await rm(join(target, NESTED))
    await symlink(outside, join(target, NESTED))
    const result = await restore(made.archive)
    expect(result.directoriesPresent).toEqual([DRAFTS, NESTED])
    expect(await modeOf(outside)).toBe(0o755)
  })
})

describe('files jobs and artifacts', () => {
  const fakeStore = (uploads: unknown[], artifactDir?: string): ArtifactStore => ({
    upload: async (name, files, rootDir, retentionDays) => {
      uploads.push({ name, files, rootDir, retentionDays })
      return { id: '4242', size: 1 }
    },
    download: async (name, destDir, from) => {
      uploads.push({ download: name, from })
      if (!artifactDir) throw new Error(`Artifact not found for name: ${name}`)
      await cp(artifactDir, destDir, { recursive: true })
    },
  })
  const service = { ACTIONS_RUNTIME_TOKEN: 't', ACTIONS_RESULTS_URL: 'https://results.example' }

  it('uploads the archive and manifest as an artifact and reports its id', async () => {
    const calls: unknown[] = []
    const { ctx } = jobContext(fakeStore(calls), service)
    const output = join(out, 'kong-files.tar.gz')
    const inputs: Record<string, string> = { paths: 'etc/kong', root, output, 'retention-days': '7' }
    const result = await filesBackupJob((name) => inputs[name], ctx)
    expect(result.outputs['artifact-id']).toBe('4242')
    expect(calls).toEqual([
      {
        name: 'kong-files.tar.gz',
        files: [output, `${output}.manifest.json`],
        rootDir: out,
        retentionDays: 7,
      },
    ])
  })

  it('keeps the backup and warns where the artifact service is unavailable (GitHub Enterprise Server)', async () => {
    const calls: unknown[] = []
    const { ctx, warnings } = jobContext(fakeStore(calls), {
      ...service,
      GITHUB_SERVER_URL: 'https://github.example.com',
    })
    const output = join(out, 'files.tar.gz')
    const inputs: Record<string, string> = { paths: 'etc/kong', root, output }
    const result = await filesBackupJob((name) => inputs[name], ctx)
    expect(result.ok).toBe(true)
    expect(result.outputs['artifact-id']).toBe('')
    expect(calls).toEqual([])
    expect(warnings).toEqual([
      `Not uploaded as an artifact: github.example.com looks like GitHub Enterprise Server, which does not support the artifact service. The backup stays at ${output}.`,
    ])
  })

  it('restores from an artifact when the input names no file', async () => {
    const made = await backup({ output: join(out, 'files.tar.gz') })
    const calls: unknown[] = []
    const { ctx } = jobContext(fakeStore(calls, out), service)
    const inputs: Record<string, string> = {
      input: 'files.tar.gz',
      target,
      'artifact-run-id': '123',
      'github-token': 'ghs_token',
    }
    const result = await filesRestoreJob((name) => inputs[name], ctx)
    expect(result.outputs).toEqual({ files: String(made.files.length), unchanged: '0', verified: 'true' })
    expect(calls).toEqual([{ download: 'files.tar.gz', from: { runId: '123', token: 'ghs_token' } }])
    expect(await tree(target)).toEqual(NON_SECRET)

    const missing: Record<string, string> = { input: 'no-such-artifact', target }
    const err = await failure(
      filesRestoreJob((name) => missing[name], jobContext(fakeStore([]), service).ctx),
    )
    expect(err.message).toMatch(/neither a file nor an artifact of this workflow run/)
  })
})
