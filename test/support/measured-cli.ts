import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { CLI } from './action.js'

/**
 * The bundled CLI with a memory probe: a temporary folder holding a preload that reports the process's peak
 * resident memory when it exits, into the file RSS_REPORT names.
 */
export async function measuredCli(): Promise<{ dir: string; cli: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-cli-'))
  await writeFile(
    join(dir, 'rss.mjs'),
    // VmHWM, the peak of this process's own address space: getrusage's maxRSS survives execve on Linux, so a child
    // of a large test worker would report the worker's size instead of its own.
    "import { readFileSync, writeFileSync } from 'node:fs'\n" +
      "const peak = () => { try { return Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024 } catch { return process.resourceUsage().maxRSS * 1024 } }\n" +
      "process.on('exit', () => { if (process.env.RSS_REPORT) writeFileSync(process.env.RSS_REPORT, String(peak())) })\n",
  )
  return { dir, cli: CLI, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

export interface MeasuredRun {
  code: number | null
  stdout: string
  stderr: string
  /** Peak resident memory in bytes: the process's own count, or what the watchdog last saw. */
  peakRss: number
  /** Killed by the watchdog for using more than capBytes. */
  overCap: boolean
  ms: number
}

function rssOf(pid: number): Promise<number> {
  return readFile(`/proc/${pid}/status`, 'utf8').then(
    (text) => Number(/VmRSS:\s+(\d+) kB/.exec(text)?.[1] ?? 0) * 1024,
    () => 0,
  )
}

/**
 * Runs the CLI with exactly `env`, watching its memory: a process over capBytes is killed at once (a
 * regression must fail the test, not the machine running it).
 */
export async function runMeasured(
  bundle: { dir: string; cli: string },
  args: readonly string[],
  options: { env: Record<string, string>; cwd?: string; capBytes: number },
): Promise<MeasuredRun> {
  const report = join(bundle.dir, `rss-${process.hrtime.bigint()}`)
  const started = Date.now()
  const child = spawn(process.execPath, ['--import', join(bundle.dir, 'rss.mjs'), bundle.cli, ...args], {
    env: { ...options.env, RSS_REPORT: report },
    cwd: options.cwd,
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  let seen = 0
  let overCap = false
  const watch = setInterval(() => {
    void rssOf(child.pid!).then((rss) => {
      seen = Math.max(seen, rss)
      if (rss > options.capBytes && !overCap) {
        overCap = true
        child.kill('SIGKILL')
      }
    })
  }, 50)
  const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)))
  clearInterval(watch)
  const reported = Number(await readFile(report, 'utf8').catch(() => '0'))
  await rm(report, { force: true })
  return { code, stdout, stderr, peakRss: Math.max(reported, seen), overCap, ms: Date.now() - started }
}

/** What a user must never see for an error deckhand anticipates: a stack trace or the last-resort wording. */
export function expectCleanFailure(run: { code: number | null; stderr: string }): void {
  if (run.code !== 1 || /unexpected error|\n\s+at /.test(run.stderr))
    throw new Error(`expected a clean failure (exit 1, no stack trace), got exit ${run.code}:\n${run.stderr}`)
}
