import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'

import { runCli } from '../support/action.js'

/** `deckhand redact` on hostile or broken files: a clear error, no secret echoed, the file untouched. */

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-redact-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

function redact(file: string) {
  return runCli(['redact', file], { env: { PATH: process.env.PATH ?? '', HOME: dir } })
}

const secret = ['sup3r', 's3cret', 'Zx9Qw3'].join('-')

describe('deckhand redact on bad input', () => {
  test.each([
    [
      'an unclosed quote',
      `_format_version: "3.0"\nconsumers:\n- username: a\n  keyauth_credentials:\n  - key: "${secret}\n    x: [\n`,
      /:7:1: not valid YAML/,
    ],
    ['a nested mapping on the secret line', `a: 1\n  b: ${secret}: x\n`, /:1:4: not valid YAML/],
  ])('%s: the error names the place, never the text', async (_what, text, place) => {
    const file = join(dir, 'state.yaml')
    await writeFile(file, text)
    const run = await redact(file)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(place)
    expect(run.stderr).toContain('nothing was changed')
    expect(run.stderr + run.stdout).not.toContain(secret)
    expect(await readFile(file, 'utf8')).toBe(text)
  })

  test('an alias bomb is refused at once, with the file untouched', async () => {
    const levels = ['a: &a [x, x, x, x, x, x, x, x, x, x]']
    for (let i = 1; i < 9; i++)
      levels.push(
        `l${i}: &l${i} [${Array(10)
          .fill(i === 1 ? '*a' : `*l${i - 1}`)
          .join(', ')}]`,
      )
    const text = `${levels.join('\n')}\n`
    const file = join(dir, 'bomb.yaml')
    await writeFile(file, text)
    const started = Date.now()
    const run = await redact(file)
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/alias/i)
    expect(run.stderr).not.toMatch(/at .*\.js:\d+/)
    expect(Date.now() - started).toBeLessThan(10_000)
    expect(await readFile(file, 'utf8')).toBe(text)
  })

  test('merge keys are resolved as deck resolves them, so a merged secret is redacted in place', async () => {
    const file = join(dir, 'merge.yaml')
    const text = [
      '_format_version: "3.0"',
      'vaults:',
      '- name: hcv',
      '  prefix: hashi',
      '  config: &shared',
      '    host: vault.internal',
      `    token: ${secret}`,
      '- name: hcv',
      '  prefix: hashi-dr',
      '  config:',
      '    <<: *shared',
      '    host: vault-dr.internal',
      '',
    ].join('\n')
    await writeFile(file, text)
    const run = await redact(file)
    expect(run.code).toBe(0)
    const out = await readFile(file, 'utf8')
    expect(out).not.toContain(secret)
    expect(out).not.toContain('<<')
    expect(out).toContain('host: vault-dr.internal')
    expect(run.stdout.trim().split('\n')).toEqual([
      'DECK_DEFAULT_VAULT_HASHI_CONFIG_TOKEN',
      'DECK_DEFAULT_VAULT_HASHI_DR_CONFIG_TOKEN',
    ])
  })
})
