import type { ArtifactClient } from '@actions/artifact'
import { readdir, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'

import { append } from '../engine/arrays.js'
import { type ArtifactStore, artifactServiceUnavailable, type UploadedArtifact } from '../engine/artifacts.js'
import { DeckhandError, errorMessage } from '../engine/errors.js'

/**
 * Workflow artifacts through GitHub's artifact service (@actions/artifact). The library is imported on first
 * use, so steps that never touch artifacts do not evaluate it (it brings the Azure Blob Storage SDK, and
 * @actions/github, which reads the event payload when imported). The library reads its settings from
 * process.env when called (ACTIONS_RUNTIME_TOKEN, ACTIONS_RESULTS_URL, GITHUB_SERVER_URL) and GITHUB_API_URL
 * when first imported; `env` here names the repository and the run, and shapes the messages.
 */
export class ActionsArtifactStore implements ArtifactStore {
  #client: Promise<ArtifactClient> | undefined

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  async upload(
    name: string,
    files: readonly string[],
    rootDir: string,
    retentionDays?: number,
  ): Promise<UploadedArtifact> {
    const what = `Artifact "${name}" was not uploaded`
    this.checkService(what, 'Set upload-artifact to false and keep the backup another way.')
    const root = resolve(rootDir)
    try {
      const paths = await expandFiles(files.map((file) => resolve(root, file)))
      const client = await this.client()
      const { id, size } = await client.uploadArtifact(name, paths, root, {
        retentionDays,
        // Stored, not deflated: backups arrive compressed already (pg_dump's directory and custom formats
        // gzip their data by default, files-backup writes a tar.gz), and deflating them again takes about
        // three times the CPU of storing for no smaller artifact. Dumps written uncompressed (plain or tar
        // format, compress none) upload at full size; the plain format takes db-dump's compress input.
        compressionLevel: 0,
      })
      if (id === undefined) throw new DeckhandError(`${what}: the artifact service returned no artifact id.`)
      return { id: String(id), size: size ?? 0 }
    } catch (err) {
      throw this.translate(err, what, { name })
    }
  }

  async download(name: string, destDir: string, from?: { runId: string; token: string }): Promise<void> {
    const path = resolve(destDir)
    if (!from) {
      const what = `Artifact "${name}" was not downloaded`
      this.checkService(what, "Pass the backup's path as input instead of an artifact name.")
      const run = this.describeRun(this.env.GITHUB_RUN_ID)
      try {
        const client = await this.client()
        const { artifact } = await client.getArtifact(name)
        const { digestMismatch } = await client.downloadArtifact(artifact.id, {
          path,
          ...(artifact.digest ? { expectedHash: artifact.digest } : {}),
        })
        if (digestMismatch) throw this.corrupt(name)
      } catch (err) {
        throw this.translate(err, what, { name, run })
      }
      return
    }

    const what = `Artifact "${name}" of workflow run ${from.runId} was not downloaded`
    if (!/^[1-9]\d*$/.test(from.runId.trim()))
      throw new DeckhandError(
        `artifact-run-id must be a workflow run id (the number in …/actions/runs/<id>), got "${from.runId}".`,
      )
    if (!from.token)
      throw new DeckhandError(
        `${what}: downloading from another workflow run needs github-token (a token with actions: read).`,
      )
    const ghes = this.ghesReason()
    if (ghes) throw new DeckhandError(`${what}: ${ghes}. Pass the backup's path as input instead.`)
    const [owner, repo] = (this.env.GITHUB_REPOSITORY ?? '').split('/')
    if (!owner || !repo)
      throw new DeckhandError(
        `${what}: GITHUB_REPOSITORY (owner/name) is not set, so the run cannot be found.`,
      )
    const run = this.describeRun(from.runId.trim())
    const findBy = {
      token: from.token,
      workflowRunId: Number(from.runId.trim()),
      repositoryOwner: owner,
      repositoryName: repo,
    }
    try {
      const client = await this.client()
      const { artifact } = await client.getArtifact(name, { findBy })
      const { digestMismatch } = await client.downloadArtifact(artifact.id, {
        path,
        findBy,
        ...(artifact.digest ? { expectedHash: artifact.digest } : {}),
      })
      if (digestMismatch) throw this.corrupt(name)
    } catch (err) {
      throw this.translate(err, what, { name, run, otherRun: true, token: from.token })
    }
  }

  private client(): Promise<ArtifactClient> {
    this.#client ??= import('@actions/artifact').then(
      ({ DefaultArtifactClient }) => new DefaultArtifactClient(),
    )
    return this.#client
  }

  /** Fails early, with the engine's own wording, where the artifact service cannot be reached. */
  private checkService(what: string, instead: string): void {
    const reason = artifactServiceUnavailable(this.env) ?? this.ghesReason()
    if (reason) throw new DeckhandError(`${what}: ${reason}. ${instead}`)
  }

  /**
   * @actions/artifact refuses any host but github.com, *.ghe.com and *.localhost as GitHub Enterprise
   * Server; this says so before the library does, in the same terms as artifactServiceUnavailable.
   */
  private ghesReason(): string | undefined {
    const server = this.env.GITHUB_SERVER_URL
    if (!server) return undefined
    let host: string
    try {
      host = new URL(server).hostname.toLowerCase()
    } catch {
      return undefined
    }
    if (host === 'github.com' || host.endsWith('.ghe.com') || host.endsWith('.localhost')) return undefined
    return `${host} looks like GitHub Enterprise Server, which does not support the artifact service`
  }

  private describeRun(runId: string | undefined): string {
    const repository = this.env.GITHUB_REPOSITORY
    const id = runId ? `workflow run ${runId}` : 'this workflow run'
    return repository ? `${id} of ${repository}` : id
  }

  private corrupt(name: string): DeckhandError {
    return new DeckhandError(
      `Artifact "${name}" was downloaded, but its sha256 digest differs from the one recorded at upload: the download is damaged. Run the step again.`,
    )
  }

  /** The library's errors as messages a user can act on; no token ever appears in them. */
  private translate(
    err: unknown,
    what: string,
    at: { name: string; run?: string; otherRun?: boolean; token?: string },
  ): DeckhandError {
    const scrub = (text: string) => scrubSecrets(text, [at.token, this.env.ACTIONS_RUNTIME_TOKEN])
    if (err instanceof DeckhandError)
      return new DeckhandError(scrub(err.message), err.details.map(scrub), { cause: err })
    const name = err instanceof Error ? err.name : ''
    const message = scrub(errorMessage(err))
    const status = httpStatus(err)
    const fail = (text: string) => new DeckhandError(text, [], { cause: err })
    const runHint = at.otherRun
      ? `Check artifact-run-id: the artifact must have been uploaded by db-dump or files-backup in ${at.run}, and not have expired.`
      : `The db-dump or files-backup step that uploads it must run earlier in ${at.run ?? 'this workflow run'} (in any job); for an artifact of an earlier run, pass artifact-run-id (and a github-token with actions: read).`

    if (name === 'GHESNotSupportedError')
      return fail(
        `${what}: ${this.ghesReason() ?? 'this looks like GitHub Enterprise Server, which does not support the artifact service'}. ${at.run ? "Pass the backup's path as input instead of an artifact name." : 'Set upload-artifact to false and keep the backup another way.'}`,
      )
    if (name === 'ArtifactNotFoundError')
      return fail(`No artifact named "${at.name}" was found in ${at.run ?? 'this workflow run'}. ${runHint}`)
    // The library wraps its UsageError in a plain Error: only the message tells.
    if (name === 'UsageError' || /artifact storage quota has been hit/i.test(message))
      return fail(
        `${what}: the artifact storage quota of this account is used up. Delete old artifacts or raise the storage limit, or set upload-artifact to false.`,
      )
    if (name === 'FilesNotFoundError') return fail(`${what}: ${message}.`)
    if (/artifact name is not valid|artifact name input during validation is empty/i.test(message))
      return fail(`${what}: ${message.split('\n')[0]} Choose another artifact-name.`)
    if (/\(409\)/.test(message))
      return fail(
        `${what}: an artifact with this name already exists in this workflow run (names are unique per run, across its jobs and re-run attempts). Choose another artifact-name.`,
      )
    if (at.otherRun && status !== undefined) {
      if (status === 401)
        return fail(`${what}: GitHub rejected github-token (401 Bad credentials). Pass a valid token.`)
      if (status === 403)
        return fail(
          `${what}: github-token may not read the artifacts of ${at.run}. It needs the actions: read permission (in the workflow: permissions: actions: read), and access to that repository.`,
        )
      if (status === 404) return fail(`${what}: ${at.run} was not found. ${runHint}`)
      if (status === 410) return fail(`${what}: the artifact has expired and is no longer stored.`)
    }
    return fail(`${what}: ${message}`)
  }
}

/** Directories stand for everything below them; files and empty directories are passed through. */
async function expandFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = []
  for (const path of paths) {
    const info = await stat(path).catch(() => undefined)
    if (!info?.isDirectory()) {
      out.push(path)
      continue
    }
    const entries = await readdir(path, { recursive: true, withFileTypes: true })
    const files = entries.filter((e) => !e.isDirectory()).map((e) => join(e.parentPath, e.name))
    append(out, files.length > 0 ? files.sort() : [path])
  }
  return out
}

function httpStatus(err: unknown): number | undefined {
  const status = typeof err === 'object' && err !== null ? (err as { status?: unknown }).status : undefined
  return typeof status === 'number' ? status : undefined
}

function scrubSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text
  for (const secret of secrets) if (secret && secret.length >= 3) out = out.split(secret).join('***')
  return out
}
