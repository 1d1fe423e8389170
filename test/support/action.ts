import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

export const ROOT = resolve(import.meta.dirname ?? new URL('.', import.meta.url).pathname, '..', '..')

/** What the runner shows of a step's stdout: workflow commands that register masks are consumed, not shown. */
export function visibleLog(stdout: string): string {
  return stdout
    .split('\n')
    .filter((line) => !line.startsWith('::add-mask::'))
    .join('\n')
}

/** Values the step asked the runner to mask. */
export function maskedValues(stdout: string): string[] {
  return stdout
    .split('\n')
    .filter((line) => line.startsWith('::add-mask::'))
    .map((line) => line.slice('::add-mask::'.length))
}

export interface ActionRun {
  exitCode: number
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
}

/** Reads GITHUB_OUTPUT as the runner does: `name=value` lines and `name<<DELIM … DELIM` blocks. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    if (heredoc) {
      const value: string[] = []
      for (i++; i < lines.length && lines[i] !== heredoc[2]; i++) value.push(lines[i]!)
      outputs[heredoc[1]!] = value.join('\n')
    } else if (line.includes('=')) {
      outputs[line.slice(0, line.indexOf('='))] = line.slice(line.indexOf('=') + 1)
    }
  }
  return outputs
}

/**
 * Runs a bundled action (dist/<name>/index.js) in a child process the way the runner does: inputs as
 * INPUT_<NAME> variables, outputs through the GITHUB_OUTPUT file, the summary through GITHUB_STEP_SUMMARY.
 */
export async function runBundledAction(
  name: string,
  inputs: Record<string, string>,
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<ActionRun> {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-runner-'))
  try {
    const outputFile = join(dir, 'output')
    const summaryFile = join(dir, 'summary')
    await writeFile(outputFile, '')
    await writeFile(summaryFile, '')
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir,
      GITHUB_ACTIONS: 'true',
      GITHUB_OUTPUT: outputFile,
      GITHUB_STEP_SUMMARY: summaryFile,
      RUNNER_TEMP: join(dir, 'temp'),
      RUNNER_TOOL_CACHE: join(dir, 'tool-cache'),
      ...options.env,
    }
    for (const [key, value] of Object.entries(inputs))
      env[`INPUT_${key.replace(/ /g, '_').toUpperCase()}`] = value
    const { exitCode, stdout, stderr } = await new Promise<{
      exitCode: number
      stdout: string
      stderr: string
    }>((done) => {
      execFile(
        process.execPath,
        [join(ROOT, 'dist', name, 'index.js')],
        { env, cwd: options.cwd ?? dir },
        (err, stdout, stderr) =>
          done({ exitCode: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      )
    })
    return {
      exitCode,
      stdout,
      stderr,
      outputs: parseOutputFile(await readFile(outputFile, 'utf8')),
      summary: await readFile(summaryFile, 'utf8'),
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/**
 * Runs bundled actions in one working directory (read when each runs: suites set it in beforeAll) and keeps
 * everything each printed, so that a suite can check at its end that no secret ever showed.
 */
export function recordingRunner(cwd: () => string): {
  action: (name: string, inputs: Record<string, string>, env?: Record<string, string>) => Promise<ActionRun>
  captured: string[]
} {
  const captured: string[] = []
  const action = async (name: string, inputs: Record<string, string>, env: Record<string, string> = {}) => {
    const run = await runBundledAction(name, inputs, { cwd: cwd(), env })
    captured.push(run.stdout, run.stderr, run.summary, JSON.stringify(run.outputs))
    return run
  }
  return { action, captured }
}

/** The bundled CLI, as users run it (rebuilt with every source change; a check fails on a stale one). */
export const CLI = join(ROOT, 'dist/cli/index.js')

/** What a program printed and how it ended: its exit code, 1 when it was killed or could not start. */
export interface ProgramRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs a program with exactly `env` and collects what it printed; never rejects. */
export function runProgram(
  command: string,
  args: readonly string[],
  options: { env: Record<string, string>; cwd?: string },
): Promise<ProgramRun> {
  return new Promise((done) => {
    execFile(
      command,
      args,
      { env: options.env, cwd: options.cwd, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = (err as { code?: unknown } | null)?.code
        done({ code: err ? (typeof code === 'number' ? code : 1) : 0, stdout, stderr })
      },
    )
  })
}

/** Runs the bundled CLI as a user does: `node dist/cli/index.js ARGS`, with exactly `env` (HOME set). */
export function runCli(
  args: readonly string[],
  options: { env: Record<string, string>; cwd?: string },
): Promise<ProgramRun> {
  return runProgram(process.execPath, [CLI, ...args], options)
}
