// The large-file part of `npm run bench`: `validate` (every local check and the plaintext-secret scan; deck
// itself stubbed out) and `deckhand redact` on a state file of about 50 MB, as YAML and as JSON, each in a
// fresh process that reports its own peak memory, against the parse of the same text in the same kind of
// process: JSON.parse for JSON, the `yaml` package's parse for YAML.
import { spawn } from 'node:child_process'
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const MIB = 2 ** 20

/**
 * What one child does with the file: its time (the operation alone, the file already read for the
 * floors) and its peak resident memory, which includes the text and Node itself.
 */
const CHILD = `
import { readFileSync } from 'node:fs'
const [engineFile, mode, file] = process.argv.slice(2)
const engine = await import(engineFile)
let ms
if (mode === 'json-parse' || mode === 'yaml-parse') {
  const text = readFileSync(file, 'utf8')
  const t = performance.now()
  if (mode === 'json-parse') JSON.parse(text)
  else engine.parseYaml(text)
  ms = performance.now() - t
} else if (mode === 'validate') {
  const deck = { deck: { features: { gatewayCommands: true } }, run: async () => ({ stdout: '', stderr: '' }) }
  const logger = { info() {}, warn() {}, debug() {} }
  const t = performance.now()
  const result = await engine.validate({ state: [file], deck, logger, env: {}, scanSecrets: true })
  ms = performance.now() - t
  if (!result.valid) throw new Error('the generated file does not validate: ' + JSON.stringify(result.problems[0]))
  process.stderr.write(\`validate: \${result.secrets.length} plaintext secrets\\n\`)
} else {
  const write = process.stdout.write.bind(process.stdout)
  process.stdout.write = () => true
  const t = performance.now()
  const code = await engine.main(['redact', file])
  ms = performance.now() - t
  process.stdout.write = write
  if (code !== 0) throw new Error('redact failed')
}
// VmHWM, this process's own peak (getrusage's maxRSS survives execve and would include the bench's).
console.log(JSON.stringify({ ms, peak: Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024 }))
`

/** Runs a child script: the JSON of its last line of output, or `{ failed }` with how it ended. */
export function run(script, args, nodeArgs = []) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (err += d))
    p.on('error', reject)
    p.on('close', (code, signal) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split('\n').at(-1)))
        : resolve({ failed: `${signal ?? `exit ${code}`}: ${err.trim().split('\n').at(-1) ?? ''}` }),
    )
  })
}

/** A generated gateway's text of about `bytes`: entities scaled from a small sample of the same shape. */
function sized(generate, write, bytes) {
  const sample = 10_000
  const perEntity = write(generate(sample)).length / sample
  return write(generate(Math.round(bytes / perEntity)))
}

/**
 * @param {{ engineFile: string, generate: (total: number) => any, toYaml: (doc: any) => string, runs: number, mb: number }} options
 */
export async function benchState({ engineFile, generate, toYaml, runs, mb }) {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-bench-state-'))
  try {
    const script = join(dir, 'child.mjs')
    await writeFile(script, CHILD)
    const lines = [
      `A generated gateway (services with routes and a rate-limiting plugin each, consumers with key-auth credentials and ACLs), secrets in plain text; each figure from a fresh process (${runs} run(s) for JSON, best time; one for YAML), peak memory as the process reports it (text and Node included).`,
      '',
      '| measurement | time | peak memory | floor: parse of the same text | ratio | target |',
      '|---|---|---|---|---|---|',
    ]
    for (const format of ['json', 'yaml']) {
      const text = sized(
        generate,
        format === 'json' ? (doc) => JSON.stringify(doc, null, 2) : toYaml,
        mb * 1_000_000,
      )
      const file = join(dir, `state.${format}`)
      await writeFile(file, text)
      const size = `${(text.length / MIB).toFixed(0)} MiB`
      const times = format === 'json' ? runs : 1
      const best = async (mode, nodeArgs) => {
        let result
        for (let i = 0; i < times; i++) {
          const r = await run(
            script,
            [engineFile, mode, mode === 'redact' ? join(dir, 'copy') : file],
            nodeArgs,
          )
          if (r.failed) return r
          if (!result || r.ms < result.ms) result = { ms: r.ms, peak: Math.max(r.peak, result?.peak ?? 0) }
          else result.peak = Math.max(result.peak, r.peak)
          if (mode === 'redact') await copyFile(file, join(dir, 'copy'))
        }
        return result
      }
      // The yaml package needs several GiB for a whole file this size: its floor gets a larger heap.
      const floor = await best(`${format}-parse`, format === 'yaml' ? ['--max-old-space-size=8192'] : [])
      const floorText = floor.failed
        ? `failed (${floor.failed})`
        : `${fmt(floor.ms)} (${format === 'json' ? 'JSON.parse' : 'yaml parse'}; ${floor.peak.toFixed(0)} MiB)`
      await copyFile(file, join(dir, 'copy'))
      for (const mode of ['validate', 'redact']) {
        const r = await best(mode)
        const what =
          mode === 'validate'
            ? `validate of a ${size} ${format.toUpperCase()} state file (local checks and secret scan)`
            : `redact of the same file (\`deckhand redact\`: read, normalize, redact, write YAML)`
        lines.push(
          r.failed
            ? `| ${what} | failed (${r.failed}) | | ${floorText} | | |`
            : `| ${what} | ${fmt(r.ms)} | ${r.peak.toFixed(0)} MiB | ${floorText} | ${floor.failed ? '' : `${(r.ms / floor.ms).toFixed(2)}x`} | at most 5x, under 1,024 MiB |`,
        )
      }
    }
    return lines
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function fmt(ms) {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`
}
