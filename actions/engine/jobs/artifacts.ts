import { resolve } from 'node:path'

import { artifactServiceUnavailable } from '../artifacts.js'
import { DeckhandError, errorMessage } from '../errors.js'
import { privateTempDir } from '../fs-atomic.js'
import { exists } from '../paths.js'
import type { JobContext } from './context.js'
import type { Inputs } from './inputs.js'

/**
 * Uploads a backup as a workflow artifact when upload-artifact is on and the host has artifacts. Where the
 * artifact service is not available (GitHub Enterprise Server, a step without the runtime token) it warns and
 * leaves the backup on disk, which is not a failure. Returns the artifact id when one was uploaded.
 */
export async function uploadBackup(
  inputs: Inputs,
  ctx: JobContext,
  backup: {
    files: string[]
    rootDir: string
    defaultName: string
    /** What to name in the warning when nothing is uploaded. Default: rootDir. */
    location?: string
  },
): Promise<string | undefined> {
  if (!inputs.boolean('upload-artifact') || !ctx.artifacts) return undefined
  const retentionDays = inputs.integer('retention-days')
  if (retentionDays !== undefined && retentionDays > 90)
    throw new DeckhandError(`retention-days must be between 1 and 90, got ${retentionDays}`)
  const name = inputs.string('artifact-name') ?? backup.defaultName
  if (/["<>|*?:\\/\r\n]/.test(name)) {
    throw new DeckhandError(
      `artifact-name "${name}" holds a character artifact names cannot have (" : < > | * ? \\ / or a line break).`,
    )
  }
  const unavailable = artifactServiceUnavailable(ctx.env)
  if (unavailable) {
    ctx.logger.warn(
      `Not uploaded as an artifact: ${unavailable}. The backup stays at ${backup.location ?? backup.rootDir}.`,
    )
    return undefined
  }
  const uploaded = await ctx.artifacts.upload(name, backup.files, backup.rootDir, retentionDays)
  ctx.logger.info(`Uploaded artifact ${name} (id ${uploaded.id}, ${uploaded.size} bytes)`)
  return uploaded.id
}

/**
 * The backup an input names: a path when it exists, else (where the host has artifacts) the artifact of
 * that name, downloaded into a private directory that cleanup removes. artifact-run-id picks another run.
 */
export async function resolveBackupInput(
  inputs: Inputs,
  ctx: JobContext,
  input: string,
  /** The input's name, for messages. */
  name = 'input',
): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = resolve(input)
  if (await exists(path)) return { path, cleanup: async () => undefined }
  // Artifact names cannot hold a slash: such an input can only have been meant as a path.
  if (!ctx.artifacts || /[\\/]/.test(input))
    throw new DeckhandError(`${name} ${path}: no such file or directory.`)

  const runId = inputs.string('artifact-run-id')
  let from: { runId: string; token: string } | undefined
  if (runId !== undefined) {
    if (!/^[0-9]+$/.test(runId))
      throw new DeckhandError(`artifact-run-id must be a workflow run id (digits), got "${runId}"`)
    const token = inputs.string('github-token')
    if (!token)
      throw new DeckhandError(
        'artifact-run-id needs github-token (with actions: read) to download from another run.',
      )
    ctx.secret(token)
    from = { runId, token }
  }
  const temp = await privateTempDir('deckhand-artifact-')
  try {
    await ctx.artifacts.download(input, temp.path, from)
  } catch (err) {
    await temp.cleanup()
    throw new DeckhandError(
      `${name} ${input} is neither a file nor an artifact of ${from ? `workflow run ${from.runId}` : 'this workflow run'}: ` +
        errorMessage(err),
      [],
      { cause: err },
    )
  }
  ctx.logger.info(`Downloaded artifact ${input}${from ? ` of run ${from.runId}` : ''}`)
  return { path: temp.path, cleanup: temp.cleanup }
}
