import { readFile, stat } from 'node:fs/promises'

import { type AgeIdentities, parseIdentities, parseRecipients, type AgeRecipient } from '../age.js'
import { DeckhandError } from '../errors.js'
import { defaultBundles, DeckVariables } from '../secrets/variables.js'
import type { JobContext } from './context.js'
import type { Inputs } from './inputs.js'

/** An age key file is a few lines; a file far larger is not one. */
const MAX_IDENTITY_BYTES = 1 << 20

/**
 * The text of an age key file, from a value that is either that text or the path of the file (as ca-cert takes
 * a PEM or a path). Every key line is registered for masking. Nothing of the value is ever quoted: it may be
 * a key with a typo.
 */
export async function readIdentityText(
  value: string,
  secret: (value: string) => void,
  input = 'age-identity',
): Promise<string> {
  let text = value
  if (!/AGE-SECRET-KEY-/i.test(value)) {
    const path = value.trim()
    const info = path.includes('\n') ? undefined : await stat(path).catch(() => undefined)
    if (!info?.isFile()) {
      throw new DeckhandError(
        `${input} is neither the content of an age key file (AGE-SECRET-KEY-1… lines, as age-keygen writes) nor the path of a readable file.`,
      )
    }
    if (info.size > MAX_IDENTITY_BYTES)
      throw new DeckhandError(
        `${input}: the file is ${info.size} bytes, far more than an age key file holds.`,
      )
    text = await readFile(path, 'utf8').catch(() => {
      throw new DeckhandError(`${input}: the file cannot be read.`)
    })
  }
  for (const line of text.split(/\r?\n/)) if (/AGE-SECRET-KEY-/i.test(line)) secret(line.trim())
  return text
}

/** The identities of the age-identity input, or undefined when it is not set. */
export async function identitiesInput(inputs: Inputs, ctx: JobContext): Promise<AgeIdentities | undefined> {
  const value = inputs.string('age-identity')
  if (value === undefined) return undefined
  return parseIdentities(await readIdentityText(value, ctx.secret), 'age-identity')
}

/** The recipients of the age-recipients input, or undefined when it is empty. */
export function recipientsInput(inputs: Inputs): AgeRecipient[] | undefined {
  const entries = inputs.list('age-recipients')
  if (entries.length === 0) return undefined
  const recipients = parseRecipients(entries, 'age-recipients')
  if (recipients.length === 0)
    throw new DeckhandError('age-recipients holds only comments: give at least one age public key (age1…).')
  return recipients
}

/**
 * The values for the state files' DECK_ variables: the environment's, and beneath them those of the secret
 * bundles (secrets-bundle, or secrets.age beside the state files) opened with age-identity. Without an
 * identity the bundles are left closed, and named when variables are missing.
 */
export async function deckVariables(
  inputs: Inputs,
  ctx: JobContext,
  stateFiles: readonly string[],
): Promise<DeckVariables> {
  const explicit = inputs.list('secrets-bundle')
  const identities = await identitiesInput(inputs, ctx)
  if (explicit.length > 0 && !identities) {
    throw new DeckhandError(
      'secrets-bundle is set, but age-identity is not: give the age identity (the content of its key file, or its path) that opens the bundle.',
    )
  }
  const bundles = explicit.length > 0 ? explicit : await defaultBundles(stateFiles)
  if (!identities) return DeckVariables.fromEnv(ctx.env, bundles)
  if (bundles.length === 0) {
    ctx.logger.warn(
      'age-identity is set, but no folder of the state files holds a secrets.age: the variables come from the environment alone. Name the bundle in secrets-bundle if it lies elsewhere.',
    )
    return DeckVariables.fromEnv(ctx.env)
  }
  const variables = await DeckVariables.load({ bundles, identities, env: ctx.env, secret: ctx.secret })
  for (const source of variables.sources)
    ctx.logger.info(
      `Opened ${source.file}: ${source.count} variable(s)${source.recipients ? `, encrypted to ${source.recipients.join(', ')}` : ''}.`,
    )
  return variables
}
