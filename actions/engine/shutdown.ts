import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { rmSync } from 'node:fs'
import { constants } from 'node:os'

/**
 * What a stop must undo. A run that is interrupted (SIGINT from a terminal or a cancelled workflow,
 * SIGTERM from a CI timeout, SIGHUP from a closed session) must not leave behind what only the run
 * should have seen: the pgpass file, deck's config file with header values, extracted backups with
 * private keys; nor programs still writing to a database (pg_restore, psql) or to the gateway (deck).
 *
 * Every child deckhand starts leads its own process group (so a stop reaches what the child started
 * in turn, and a terminal's Ctrl-C reaches deckhand alone, which then decides), and every temporary
 * path that may hold a secret is registered here. On a signal: the groups get SIGTERM, then SIGKILL
 * after a grace period; the paths are removed; then the signal is raised again so the exit status
 * says how the run ended. A second signal skips the grace period.
 *
 * SIGKILL cannot be caught: a killed deckhand leaves its children and temporary folders (private,
 * 0700, in the runner's temporary folder, which the runner removes after the job).
 */

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const
type StopSignal = (typeof STOP_SIGNALS)[number]

/** How long children get to exit after SIGTERM before they are killed. */
const GRACE_MS = 3000

const children = new Set<ChildProcess>()
const paths = new Set<string>()
let installed = false
let stopping: { signal: StopSignal; finish: () => void } | undefined

/**
 * Starts a program in its own process group, tracked until it exits. Use it instead of `spawn` for
 * every child, so that a stop reaches it.
 */
export function spawnTracked(program: string, args: readonly string[], options: SpawnOptions): ChildProcess {
  install()
  const child = spawn(program, [...args], { ...options, detached: true })
  if (child.pid !== undefined) {
    children.add(child)
    child.once('exit', () => {
      children.delete(child)
      if (stopping && children.size === 0) stopping.finish()
    })
  }
  return child
}

/**
 * Sends a signal to a child's whole process group (what the child started goes too), or to the child
 * alone when it has no group of its own.
 */
export function killTree(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return
  try {
    process.kill(-child.pid, signal)
  } catch {
    child.kill(signal)
  }
}

/** Registers a path removed on a stop (and on exit); returns the function that unregisters it. */
export function removeOnStop(path: string): () => void {
  install()
  paths.add(path)
  return () => {
    paths.delete(path)
  }
}

/** Unregisters a path that is no longer deckhand's to remove (a staged file renamed into place). */
export function forgetOnStop(path: string): void {
  paths.delete(path)
}

function removePaths(): number {
  let removed = 0
  for (const path of paths) {
    try {
      rmSync(path, { recursive: true, force: true })
      removed++
    } catch {
      // Best effort: a stop must not fail on one path; the rest still go.
    }
  }
  paths.clear()
  return removed
}

function install(): void {
  if (installed) return
  installed = true
  for (const signal of STOP_SIGNALS) process.on(signal, onSignal)
  // An exit that skipped a cleanup (process.exit in a last-resort handler) still removes the paths.
  process.on('exit', removePaths)
}

function onSignal(signal: StopSignal): void {
  if (stopping) {
    // A second signal: no more waiting.
    for (const child of children) killTree(child, 'SIGKILL')
    stopping.finish()
    return
  }
  let done = false
  const finish = (): void => {
    if (done) return
    done = true
    clearTimeout(timer)
    for (const child of children) killTree(child, 'SIGKILL')
    const removed = removePaths()
    process.stderr.write(
      `deckhand: stopped by ${signal}; ${removed} temporary path${removed === 1 ? '' : 's'} removed\n`,
    )
    for (const s of STOP_SIGNALS) process.removeListener(s, onSignal)
    // Raise the signal again so the exit status says how the run ended; when someone else also
    // listens for it, the default action would not run, so exit with the conventional status.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    else process.exit(128 + constants.signals[signal])
  }
  const timer = setTimeout(finish, GRACE_MS)
  stopping = { signal, finish }
  for (const child of children) killTree(child, 'SIGTERM')
  if (children.size === 0) finish()
}
