// The drift-commit part of `npm run bench`: the commit action on a drifted dump of a large gateway, against
// plain `git add` + `git commit` + `git push` of the same files, on the same local remote, in the same run.
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { exec as execIn } from './bench-db.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Bench',
  GIT_AUTHOR_EMAIL: 'bench@example.com',
  GIT_COMMITTER_NAME: 'Bench',
  GIT_COMMITTER_EMAIL: 'bench@example.com',
}

/** A program (git, the action) with the benchmark's git identity. */
function exec(program, args, options = {}) {
  return execIn(program, args, { ...GIT_ENV, ...options.env }, options.cwd)
}

/** Writes a dump the way the dump command lays it out: the workspace file, required-env.txt, SHA256SUMS last. */
async function writeDump(dir, processed) {
  await mkdir(dir, { recursive: true })
  const names = [...new Set(processed.redactions.map((r) => r.name))].sort()
  const files = new Map([
    ['default.yaml', processed.yaml],
    [
      'required-env.txt',
      names.length === 0 ? '' : `# Set these environment variables.\n${names.join('\n')}\n`,
    ],
  ])
  for (const [name, text] of files) await writeFile(join(dir, name), text)
  const sums = [...files.keys()]
    .sort()
    .map((name) => `${createHash('sha256').update(files.get(name)).digest('hex')}  ${name}\n`)
    .join('')
  await writeFile(join(dir, 'SHA256SUMS'), sums)
}

/** The same gateway after a day of changes made behind git's back: 1 % of services edited, 50 added, 50 gone. */
function drift(doc) {
  const next = structuredClone(doc)
  next.services.forEach((service, i) => {
    if (i % 100 === 0) service.retries = 3
  })
  next.services.splice(1, 50)
  for (let i = 0; i < 50; i++) next.services.push({ name: `new-${i}`, host: `new-${i}.internal`, port: 8080 })
  return next
}

/**
 * @param {{ runs: number, generate: (total: number) => any, processDeckOutput: Function, entities?: number }} options
 */
export async function benchCommit({ runs, generate, processDeckOutput, entities = 20_000 }) {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-bench-commit-'))
  try {
    const remote = join(dir, 'remote.git')
    await exec('git', ['init', '-q', '--bare', '--initial-branch=main', remote])
    const doc = generate(entities)
    const dump = (state) =>
      processDeckOutput(JSON.stringify(state), { workspace: 'default', redact: true, source: 'bench' })
    const before = dump(doc)
    const after = dump(drift(doc))
    const total = Object.values(after.counts).reduce((a, b) => a + b, 0)

    const seed = join(dir, 'seed')
    await exec('git', ['clone', '-q', remote, seed])
    await writeDump(join(seed, 'kong'), before)
    await exec('git', ['add', '--all'], { cwd: seed })
    await exec('git', ['commit', '-q', '-m', 'seed'], { cwd: seed })
    await exec('git', ['push', '-q', 'origin', 'HEAD:main'], { cwd: seed })
    const seedCommit = (await exec('git', ['rev-parse', 'HEAD'], { cwd: seed })).trim()

    let clones = 0
    /** A fresh runner with the drifted dump written, and the remote back at the seed. */
    const prepare = async () => {
      await exec('git', ['update-ref', 'refs/heads/main', seedCommit], { cwd: remote })
      const clone = join(dir, `runner-${++clones}`)
      await exec('git', ['clone', '-q', '--depth=1', `file://${remote}`, clone])
      await writeDump(join(clone, 'kong'), after)
      return clone
    }
    const time = async (fn) => {
      let min = Infinity
      let last
      for (let i = 0; i < runs; i++) {
        const clone = await prepare()
        const t = performance.now()
        last = await fn(clone)
        min = Math.min(min, performance.now() - t)
      }
      return { ms: min, last }
    }

    const action = await time(async (clone) => {
      const output = join(dir, `output-${clones}`)
      await writeFile(output, '')
      await exec(process.execPath, [join(root, 'dist', 'commit', 'index.js')], {
        cwd: clone,
        env: { INPUT_PATH: 'kong', GITHUB_OUTPUT: output, RUNNER_TEMP: dir, GITHUB_REF: 'refs/heads/main' },
      })
      return output
    })
    const raw = await time(async (clone) => {
      await exec('git', ['add', '--all', 'kong'], { cwd: clone })
      await exec('git', ['commit', '-q', '-m', 'drift'], { cwd: clone })
      await exec('git', ['push', '-q', 'origin', 'HEAD:main'], { cwd: clone })
    })
    // The action's own count of what drifted, from its last run's outputs.
    const outputs = await readFile(action.last, 'utf8')
    const count = (name) => new RegExp(`^${name}<<(\\S+)\\n(\\d+)\\n\\1$`, 'm').exec(outputs)?.[2] ?? '?'
    const changes = `${count('added')} added, ${count('changed-entities')} changed, ${count('removed')} removed`

    return [
      `Repository: a local bare remote and shallow clones, a dump of ${total.toLocaleString('en')} entities ` +
        `(${(after.yaml.length / 2 ** 20).toFixed(1)} MiB of YAML); the drift: ${changes} entities; best of ${runs} runs.`,
      '',
      '| measurement | deckhand | floor | ratio |',
      '|---|---|---|---|',
      `| commit action: secret scan + fetch + merge + entity drift report + commit + push, start-up included | ${(action.ms / 1000).toFixed(2)} s | ${(raw.ms / 1000).toFixed(2)} s (git add + commit + push) | ${(action.ms / raw.ms).toFixed(2)}x |`,
    ]
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
