import { readFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { parseArgs } from 'node:util'

import { parseIdentities, parseRecipients } from '../engine/age.js'
import { MANIFEST } from '../engine/dump.js'
import { DeckhandError } from '../engine/errors.js'
import { writeFileAtomic } from '../engine/fs-atomic.js'
import { readIdentityText } from '../engine/jobs/secret-bundle.js'
import { BUNDLE_FILE, openBundle, readBundleBytes, sealBundle } from '../engine/secrets/bundle.js'
import { sha256Hex } from '../engine/state/digest.js'
import { SECRETS_USAGE } from './help.js'
import { didYouMean, parseArgsError, UsageError as CliUsageError } from './options.js'

/** A mistake in how the command was called: printed with the usage, exit 2. */
class UsageError extends Error {}

/** `deckhand secrets …`: returns the exit code. */
export async function secretsCommand(argv: readonly string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    process.stdout.write(SECRETS_USAGE)
    return sub === undefined ? 2 : 0
  }
  try {
    if (sub === 'list') return await list(rest)
    if (sub === 'rekey') return await rekey(rest)
    throw new UsageError(`unknown secrets command "${sub}"${didYouMean(sub, ['list', 'rekey'])}`)
  } catch (err) {
    if (err instanceof UsageError || err instanceof CliUsageError) {
      process.stderr.write(`deckhand secrets: ${err.message}\n\n${SECRETS_USAGE}`)
      return 2
    }
    throw err
  }
}

function options(argv: readonly string[], recipients: boolean) {
  const defs = {
    bundle: { type: 'string' },
    'age-identity-file': { type: 'string' },
    ...(recipients ? { 'age-recipients': { type: 'string' as const, multiple: true } } : {}),
    help: { type: 'boolean' },
    // A key on the command line is visible in the process list: refused with the way to give it.
    'age-identity': { type: 'string' },
  } as const
  let values
  try {
    values = parseArgs({ args: [...argv], options: defs, strict: true, allowPositionals: false }).values
  } catch (err) {
    throw parseArgsError(
      err,
      Object.keys(defs).filter((k) => k !== 'age-identity'),
      'secrets',
    )
  }
  if (values['age-identity'] !== undefined)
    throw new UsageError(
      '--age-identity would put the key in the process list: use --age-identity-file PATH or DECKHAND_AGE_IDENTITY.',
    )
  return values as {
    bundle?: string
    'age-identity-file'?: string
    'age-recipients'?: string[]
    help?: boolean
  }
}

async function identities(file: string | undefined) {
  const value = file ?? process.env.DECKHAND_AGE_IDENTITY
  if (value === undefined || value.trim() === '')
    throw new UsageError(
      'the bundle needs its age identity: --age-identity-file PATH, or DECKHAND_AGE_IDENTITY (the key file or its content).',
    )
  const input = file === undefined ? 'DECKHAND_AGE_IDENTITY' : '--age-identity-file'
  return parseIdentities(await readIdentityText(value, () => undefined, input), input)
}

async function list(argv: readonly string[]): Promise<number> {
  const values = options(argv, false)
  if (values.help) {
    process.stdout.write(SECRETS_USAGE)
    return 0
  }
  const bundle = values.bundle ?? join('kong', BUNDLE_FILE)
  const keys = await identities(values['age-identity-file'])
  const opened = await openBundle(await readBundleBytes(bundle), keys, bundle)
  process.stdout.write(
    [...opened.variables.keys()]
      .sort()
      .map((name) => `${name}\n`)
      .join(''),
  )
  process.stderr.write(
    `${bundle}: ${opened.variables.size} variable(s), ` +
      (opened.recipients
        ? `encrypted to ${opened.recipients.join(', ')}\n`
        : 'recipients not recorded (the bundle has no deckhand stamp: it was written by age itself)\n'),
  )
  return 0
}

async function rekey(argv: readonly string[]): Promise<number> {
  const values = options(argv, true)
  if (values.help) {
    process.stdout.write(SECRETS_USAGE)
    return 0
  }
  const bundle = values.bundle
  if (bundle === undefined) throw new UsageError('rekey needs --bundle PATH: the bundle to re-encrypt.')
  const given = values['age-recipients'] ?? (process.env.DECKHAND_AGE_RECIPIENTS ?? '').split('\n')
  const entries = given.map((r) => r.trim()).filter((r) => r !== '')
  if (entries.length === 0)
    throw new UsageError('rekey needs the new recipients: --age-recipients age1… (repeat for several).')
  const recipients = parseRecipients(entries, '--age-recipients')
  if (recipients.length === 0)
    throw new DeckhandError('--age-recipients holds only comments: give at least one age public key (age1…).')
  const keys = await identities(values['age-identity-file'])
  const opened = await openBundle(await readBundleBytes(bundle), keys, bundle)
  const sealed = await sealBundle(opened.variables, recipients)

  // The manifest's new text is ready before anything is written: a bundle and a manifest that disagree are only
  // left by a crash between the two renames, and a dump then writes the bundle anew.
  const manifestPath = join(dirname(bundle), MANIFEST)
  const manifest = await readFile(manifestPath, 'utf8').catch(() => undefined)
  const name = basename(bundle)
  let updated: string | undefined
  if (manifest !== undefined) {
    const lines = manifest.split('\n')
    const at = lines.findIndex((line) => /^[0-9a-f]{64} [ *]/.test(line) && line.slice(66) === name)
    if (at >= 0) {
      lines[at] = `${sha256Hex(sealed.bytes)}  ${name}`
      updated = lines.join('\n')
    }
  }
  await writeFileAtomic(bundle, sealed.bytes)
  if (updated !== undefined) await writeFileAtomic(manifestPath, updated)
  process.stderr.write(
    `${bundle}: ${opened.variables.size} variable(s) encrypted anew to ${recipients.map((r) => r.fingerprint).join(', ')}` +
      `${opened.recipients ? ` (before: ${opened.recipients.join(', ')})` : ''}` +
      `${updated !== undefined ? `; ${manifestPath} updated` : ''}.\n`,
  )
  return 0
}
