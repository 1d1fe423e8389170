/**
 * Workflow artifacts, as far as the engine needs them. The GitHub adapter provides an implementation
 * backed by the artifact service; elsewhere (the CLI) there is none and backups stay on disk.
 */
export interface ArtifactStore {
  /** Uploads the files (paths inside rootDir) as one artifact. */
  upload(
    name: string,
    files: readonly string[],
    rootDir: string,
    retentionDays?: number,
  ): Promise<UploadedArtifact>
  /** Downloads the named artifact into destDir; runId (with a token) picks another workflow run. */
  download(name: string, destDir: string, from?: { runId: string; token: string }): Promise<void>
}

export interface UploadedArtifact {
  id: string
  size: number
}

/**
 * Why the artifact service cannot be used here, or undefined when it can. GitHub Enterprise Server does
 * not run the artifact service that @actions/artifact 2 and later speak.
 */
export function artifactServiceUnavailable(env: NodeJS.ProcessEnv): string | undefined {
  const server = env.GITHUB_SERVER_URL
  if (server) {
    const host = new URL(server).hostname.toLowerCase()
    if (host !== 'github.com' && !host.endsWith('.ghe.com') && !host.endsWith('.localhost'))
      return `${host} looks like GitHub Enterprise Server, which does not support the artifact service`
  }
  if (!env.ACTIONS_RUNTIME_TOKEN || !env.ACTIONS_RESULTS_URL)
    return 'the artifact service is not available to this step (no ACTIONS_RUNTIME_TOKEN or ACTIONS_RESULTS_URL)'
  return undefined
}
