import { killTree, spawnTracked } from './shutdown.js'

export interface RunOptions {
  /** Working directory of the child. */
  cwd?: string
  /**
   * Extra environment on top of the parent's (less {@link childEnv}'s private variables); `undefined`
   * values remove a variable.
   */
  env?: Record<string, string | undefined>
  /** Kill the child after this many milliseconds. */
  timeoutMs?: number
  /**
   * On timeout, SIGKILL the child's process group (every child leads one) rather than SIGTERM it: whatever
   * it started dies with it, and nothing it left behind keeps its output pipes open.
   */
  killGroup?: boolean
  /** Fed to the child's stdin (a decompressed dump, say); stdin is closed when it ends. */
  stdin?: NodeJS.ReadableStream
}

export interface RunResult {
  exitCode: number
  stdout: string
  stderr: string
  /** Set when the process was killed by a signal (including our own timeout). */
  signal: NodeJS.Signals | null
  /** True when timeoutMs ran out and the child was killed for it. */
  timedOut?: boolean
}

/**
 * Variables no child inherits: the action's inputs (`INPUT_*`, secret ones among them), deckhand's own
 * settings (`DECKHAND_*`: database URLs, tokens), and the runner's tokens (`ACTIONS_*`, `GITHUB_TOKEN`).
 * A child gets what deckhand hands it explicitly, through `env`, and nothing of these by accident.
 */
const PRIVATE_ENV = /^(?:INPUT_|DECKHAND_|ACTIONS_)|^(?:GITHUB_TOKEN|GH_TOKEN)$/i

/** The environment of a child: the parent's without its private variables, then `extra` on top. */
export function childEnv(
  parent: NodeJS.ProcessEnv,
  extra: Record<string, string | undefined> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const key of Object.keys(parent)) if (!PRIVATE_ENV.test(key)) env[key] = parent[key]
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key]
    else env[key] = value
  }
  return env
}

/**
 * Runs a program without a shell and collects its output. Arguments are passed as an array, so
 * nothing is interpolated; secrets are passed through `env` or files, never through `args`.
 * Rejects only when the program cannot be started (ENOENT, EACCES); a non-zero exit is a result.
 */
export function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const env = childEnv(process.env, options.env)
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout or a stop reaches what the program started in turn.
    const child = spawnTracked(program, args, {
      cwd: options.cwd,
      env,
      stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      windowsHide: true,
    })
    if (options.stdin && child.stdin) {
      // A child that exits early closes its stdin: that is its exit status's story, not an error here.
      child.stdin.on('error', () => undefined)
      options.stdin.on('error', (err) => {
        killTree(child)
        reject(err)
      })
      options.stdin.pipe(child.stdin)
    }
    const stdout: Buffer[] = []
    const stderr: Buffer[] = []
    child.stdout!.on('data', (chunk: Buffer) => stdout.push(chunk))
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk))
    let timedOut = false
    const expire = () => {
      timedOut = true
      killTree(child, options.killGroup ? 'SIGKILL' : 'SIGTERM')
    }
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(expire, options.timeoutMs)
    child.on('error', (err) => {
      if (timer) clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer)
      resolve({
        exitCode: code ?? 1,
        signal,
        ...(timedOut ? { timedOut } : {}),
        stdout: Buffer.concat(stdout).toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
      })
    })
  })
}
