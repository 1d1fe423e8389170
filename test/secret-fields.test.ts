import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'

import { runBundledAction, runCli } from './support/action.js'
import { doubleEnv } from './support/deck-double.js'

/**
 * `secret-fields`: the secrets of an in-house plugin, named by the user where no gateway serves the
 * plugin's schema, through the CLI's redact and the bundled validate action as users run them.
 */

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-fields-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

const material = ['sm', 'plain', 'looking', 'value'].join('-')
const tenant = ['tk', 'also', 'plain'].join('-')
const STATE = [
  '_format_version: "3.0"',
  'plugins:',
  '- name: acme-signer',
  '  config:',
  '    key_id: signer-2026',
  `    signing_material: ${material}`,
  '    tenant_keys:',
  `      acme: ${tenant}`,
  '',
].join('\n')

function cli(args: string[]) {
  return runCli(args, { env: { PATH: process.env.PATH ?? '', HOME: dir } })
}

describe('secret-fields', () => {
  test('deckhand redact takes them with --secret-fields, and reports the rule', async () => {
    const file = join(dir, 'default.yaml')
    await writeFile(file, STATE)
    // Without them, nothing marks these values: no schema, no credential name, no secret-looking value.
    const plain = await cli(['redact', file])
    expect(plain.code).toBe(0)
    expect(await readFile(file, 'utf8')).toContain(material)

    const run = await cli([
      'redact',
      '--secret-fields',
      'plugins/acme-signer config.signing_material',
      '--secret-fields',
      'plugins/acme-signer config.tenant_keys.*',
      file,
    ])
    expect(run.code).toBe(0)
    const text = await readFile(file, 'utf8')
    expect(text).not.toContain(material)
    expect(text).not.toContain(tenant)
    expect(text).toContain('key_id: signer-2026')
    expect(run.stdout.trim().split('\n')).toEqual([
      'DECK_DEFAULT_PLUGIN_ACME_SIGNER_CONFIG_SIGNING_MATERIAL',
      'DECK_DEFAULT_PLUGIN_ACME_SIGNER_CONFIG_TENANT_KEYS_ACME',
    ])
    expect(run.stderr).toContain('2 secret value(s) replaced (configured 2)')
  })

  test('a malformed line is refused with what a good one looks like, and the file is left as it was', async () => {
    const file = join(dir, 'default.yaml')
    await writeFile(file, STATE)
    const run = await cli(['redact', '--secret-fields', 'acme-signer.signing_material', file])
    expect(run.code).not.toBe(0)
    expect(run.stderr).toContain('secret-fields: "acme-signer.signing_material" is not KIND/NAME PATH')
    expect(run.stderr).toContain('plugins/acme-signer config.signing_material')
    expect(run.stderr).not.toMatch(/at .*\.js:\d+/)
    expect(await readFile(file, 'utf8')).toBe(STATE)
  })

  test('validate (bundled action) warns about an in-house secret named in secret-fields', async () => {
    const file = join(dir, 'default.yaml')
    await writeFile(file, STATE)
    const env = doubleEnv({ log: join(dir, 'deck-calls.jsonl') })
    const without = await runBundledAction('validate', { state: file }, { env })
    expect(without.exitCode).toBe(0)
    expect(without.outputs['plaintext-secrets']).toBe('0')
    const fields = 'plugins/acme-signer config.signing_material'
    const run = await runBundledAction('validate', { state: file, 'secret-fields': fields }, { env })
    expect(run.exitCode).toBe(0)
    expect(run.outputs['plaintext-secrets']).toBe('1')
    expect(run.stdout).toMatch(
      new RegExp(`::warning .*file=${file},line=6::plugin acme-signer / config / signing_material`),
    )
    expect(run.stdout + run.summary).not.toContain(material)
  })
})
