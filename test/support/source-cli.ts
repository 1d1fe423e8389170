import { execFile } from 'node:child_process'
import { join } from 'node:path'

import { build } from 'esbuild'

import { ROOT } from './action.js'

/**
 * The CLI bundled from the sources into `dir` (dist/ holds the last release build): for suites that must
 * run the engine as it is now in a process of its own, one that can be killed or raced. Built as
 * script/build.mjs builds dist/cli, minus the shared artifact library, which no such suite uses.
 */
export async function buildSourceCli(dir: string): Promise<string> {
  const outfile = join(dir, 'deckhand-cli.mjs')
  await build({
    entryPoints: [join(ROOT, 'actions', 'cli', 'index.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    external: ['@actions/artifact'],
    banner: {
      js: "import { createRequire as __createRequire } from 'node:module';\nconst require = __createRequire(import.meta.url);",
    },
    logLevel: 'warning',
  })
  return outfile
}

export interface CliRun {
  code: number
  stdout: string
  stderr: string
}

/** Runs a CLI bundle as a user does: `node <cli> ARGS` in `cwd`, with exactly `env`. */
export function runCliBundle(
  cli: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<CliRun> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [cli, ...args],
      { cwd: options.cwd, env: options.env, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? ((err as { code?: number | string }).code ?? 1) : 0
        done({ code: typeof code === 'number' ? code : 1, stdout, stderr })
      },
    )
  })
}
