// The npm package as `npm pack` builds it from this checkout (the release's deckhand-X.Y.Z.tgz): what it holds,
// and that it runs where it is installed, without the registry.
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { type ProgramRun, ROOT, runProgram } from './support/action.js'

type Run = ProgramRun

const exec = (command: string, args: string[], cwd: string, env: Record<string, string>): Promise<Run> =>
  runProgram(command, args, { cwd, env })

interface PackageJson {
  version: string
  bin: Record<string, string>
  exports: Record<string, string | Record<string, string>>
  dependencies?: Record<string, string>
  engines: { node: string }
}

let dir: string
let env: Record<string, string>
let tarball: string
let files: string[]
const source = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as PackageJson

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-package-test-'))
  await writeFile(join(dir, 'npmrc'), '')
  // A cache and configuration of its own, and offline: nothing may come from a registry.
  env = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    npm_config_cache: join(dir, 'npm-cache'),
    npm_config_userconfig: join(dir, 'npmrc'),
    npm_config_offline: 'true',
    npm_config_update_notifier: 'false',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
  }
  const packed = await exec(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
    ROOT,
    env,
  )
  expect(packed).toMatchObject({ code: 0 })
  const [result] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[]
  tarball = join(dir, result!.filename)
  files = result!.files.map((f) => f.path).sort()
  await mkdir(join(dir, 'extracted'))
  expect(await exec('tar', ['-xzf', tarball, '-C', join(dir, 'extracted')], dir, env)).toMatchObject({
    code: 0,
  })
}, 120_000)

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

const packageDir = (): string => join(dir, 'extracted', 'package')

describe('the npm package', () => {
  test('is named after package.json’s version', () => {
    expect(tarball.endsWith(`deckhand-${source.version}.tgz`)).toBe(true)
  })

  test('ships the CLI, the S3 library it loads, the Pulumi component and the top-level documents; no action bundles, sources, tests or scripts', () => {
    for (const file of [
      'package.json',
      'LICENSE',
      'README.md',
      'CHANGELOG.md',
      'SECURITY.md',
      'dist/cli/index.js',
      // Loaded by the CLI when a store is s3://.
      'dist/s3/index.js',
      'dist/pulumi/index.js',
      'dist/pulumi/index.d.ts',
    ]) {
      expect(files).toContain(file)
    }
    const top = new Set(['package.json', 'LICENSE', 'README.md', 'CHANGELOG.md', 'SECURITY.md'])
    // Actions run from the repository at a tag, never from this package.
    const shipped = ['dist/cli/', 'dist/s3/', 'dist/pulumi/']
    expect(files.filter((f) => !top.has(f) && !shipped.some((d) => f.startsWith(d)))).toEqual([])
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([])
  })

  test('has the CLI as an executable bin and every export present', async () => {
    const packed = JSON.parse(await readFile(join(packageDir(), 'package.json'), 'utf8')) as PackageJson
    expect(packed.version).toBe(source.version)
    expect(packed.bin).toEqual({ deckhand: 'dist/cli/index.js' })
    expect(
      (await readFile(join(packageDir(), packed.bin.deckhand!), 'utf8')).startsWith('#!/usr/bin/env node\n'),
    ).toBe(true)
    expect((await stat(join(packageDir(), packed.bin.deckhand!))).mode & 0o111).toBe(0o111)
    const targets = Object.values(packed.exports).flatMap((t) =>
      typeof t === 'string' ? [t] : Object.values(t),
    )
    expect(targets.length).toBeGreaterThan(0)
    for (const target of targets)
      expect({ target, exists: existsSync(join(packageDir(), target)) }).toEqual({
        target,
        exists: true,
      })
  })

  test('needs nothing from the registry: the bundles carry their libraries', async () => {
    const packed = JSON.parse(await readFile(join(packageDir(), 'package.json'), 'utf8')) as PackageJson
    expect(packed.dependencies ?? {}).toEqual({})
    const s3 = await exec(
      process.execPath,
      ['--input-type=module', '-e', "await import('./dist/s3/index.js')"],
      packageDir(),
      env,
    )
    expect(s3).toMatchObject({ code: 0, stderr: '' })
  })

  test('the unpacked bin runs and reports package.json’s version', async () => {
    const run = await exec(join(packageDir(), 'dist', 'cli', 'index.js'), ['--version'], dir, env)
    expect(run).toMatchObject({ code: 0, stdout: `deckhand ${source.version}\n` })
  })

  test('npx runs the tarball offline', async () => {
    const work = join(dir, 'npx')
    await mkdir(work)
    // As `npx ./deckhand-X.Y.Z.tgz` would; a bare absolute path would be taken for a command.
    const run = await exec('npx', ['--yes', `--package=${tarball}`, '--', 'deckhand', '--version'], work, env)
    expect(run).toMatchObject({ code: 0, stdout: `deckhand ${source.version}\n` })
  }, 120_000)
})
