// npm run bench [-- --write-readme]: the figures go to docs/benchmark.md, a headline to the README
// Measures deckhand against floors taken in the same run, because these figures are only comparable as
// ratios on a shared, noisy machine. Not part of the tests.
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

import { benchCommit } from './bench-commit.mjs'
import { bundleEngine } from './bench-bundle.mjs'
import { benchDatabase } from './bench-db.mjs'
import { generate } from './bench-gateway.mjs'
import { benchState } from './bench-state.mjs'
import { benchUpgrade } from './bench-upgrade.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const ENTITIES = Number(process.env.BENCH_ENTITIES ?? 100_000)
const CHANGES = Number(process.env.BENCH_CHANGES ?? 30_000)
const RUNS = 3

/** Replaces what lies between `<!-- bench -->` and `<!-- /bench -->` in a file of the repository. */
async function writeBlock(path, text) {
  const file = join(root, path)
  const content = await readFile(file, 'utf8')
  const start = '<!-- bench -->'
  const end = '<!-- /bench -->'
  const from = content.indexOf(start)
  const to = content.indexOf(end)
  if (from < 0 || to < from) throw new Error(`${path} lacks the ${start} … ${end} markers`)
  await writeFile(file, `${content.slice(0, from + start.length)}\n${text}\n${content.slice(to)}`)
  console.log(`${path} updated`)
}

/** The engine's pipeline, bundled so the benchmark runs the same code the actions ship. */
function loadEngine(dir) {
  return bundleEngine(join(dir, 'engine.mjs'), {
    './actions/engine/state/pipeline.ts': 'processDeckOutput',
    './actions/engine/state/digest.ts': 'digestFiles',
    './actions/engine/plan/deck-output.ts': 'parseDeckJson',
    './actions/engine/plan/model.ts': 'PlanMasker, targetPlan',
    './actions/engine/plan/report.ts': 'planTable',
    './actions/github/summary.ts': 'renderSummary',
    './actions/engine/state/yaml.ts': 'toYaml',
    './actions/engine/validate.ts': 'validate',
    './actions/cli/main.ts': 'main',
    yaml: 'parse as parseYaml',
  })
}

/**
 * What \`deck gateway diff --json-output\` prints for a large change: a third creations (services with
 * a secret in a plugin), a third updates (plugin settings and a password), a third deletions (consumers'
 * key-auth credentials), bodies in full as deck prints them, tab-indented.
 */
function generatePlan(total) {
  const svc = (i) => ({ id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, name: `svc-${i}` })
  const creating = []
  const updating = []
  const deleting = []
  for (let i = 0; i < total / 3; i++) {
    creating.push({
      name: `svc-${i}`,
      kind: 'service',
      body: {
        new: {
          ...svc(i),
          host: `svc-${i}.internal`,
          port: 8080,
          protocol: 'http',
          retries: 5,
          tags: ['prod'],
        },
        old: null,
      },
    })
    const plugin = (minute, password) => ({
      config: { minute, policy: 'redis', redis: { host: 'redis', password, port: 6379 } },
      enabled: true,
      id: `10000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
      name: 'rate-limiting',
      protocols: ['http', 'https'],
      service: svc(i),
    })
    updating.push({
      name: `rate-limiting for service svc-${i}`,
      kind: 'plugin',
      body: { new: plugin(20, `pw-new-${i}`), old: { ...plugin(10, `pw-old-${i}`), created_at: 1700000000 } },
    })
    deleting.push({
      name: `${String(i).padStart(5, '0').slice(-5)} for consumer user-${i}`,
      kind: 'key-auth',
      body: {
        new: { consumer: { id: `c-${i}`, username: `user-${i}` }, id: `k-${i}`, key: `key-${i}-${i * 7919}` },
        old: null,
      },
    })
  }
  const summary = { creating: creating.length, updating: updating.length, deleting: deleting.length }
  summary.total = summary.creating + summary.updating + summary.deleting
  return JSON.stringify(
    { changes: { creating, updating, deleting }, summary, warnings: [], errors: [] },
    null,
    '\t',
  )
}

function best(fn) {
  let min = Infinity
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now()
    fn()
    min = Math.min(min, performance.now() - t)
  }
  return min
}

/**
 * The best times of a floor and of the measured work, taken in turns, so that both see the same heap
 * and the same load from whatever else the machine runs.
 */
function bestOfPair(floorFn, fn, runs = 2 * RUNS) {
  let floor = Infinity
  let time = Infinity
  for (let i = 0; i < runs; i++) {
    let t = performance.now()
    floorFn()
    floor = Math.min(floor, performance.now() - t)
    t = performance.now()
    fn()
    time = Math.min(time, performance.now() - t)
  }
  return { floor, time }
}

/** Runs a Node script in a child and returns its stdout and peak RSS (MiB). */
function child(script, args = []) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.on('error', reject)
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${script} exited ${code}`))))
  })
}

/** Time from spawning a process until its first byte of output, best of several runs. */
async function firstOutputMs(args, env) {
  let min = Infinity
  for (let i = 0; i < 5; i++) {
    const t = performance.now()
    await new Promise((resolve) => {
      const p = spawn(process.execPath, args, {
        env: { PATH: process.env.PATH, ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let done = false
      const first = () => {
        if (!done) {
          done = true
          min = Math.min(min, performance.now() - t)
        }
      }
      p.stdout.once('data', first)
      p.stderr.once('data', first)
      p.on('close', () => {
        first()
        resolve()
      })
    })
  }
  return min
}

const dir = await mkdtemp(join(tmpdir(), 'deckhand-bench-'))
try {
  const engineFile = await loadEngine(dir)
  const { processDeckOutput, digestFiles } = await import(engineFile)
  /** The dump pipeline (normalize, redact, YAML, digest) on one generated gateway, against its JSON floor. */
  const measurePipeline = (doc) => {
    const json = JSON.stringify(doc, null, 2)
    let entities = 0
    let redacted = 0
    const { floor, time } = bestOfPair(
      () => JSON.stringify(JSON.parse(json)),
      () => {
        const result = processDeckOutput(json, { workspace: 'default', redact: true, source: 'bench' })
        digestFiles(new Map([['default.yaml', result.yaml]]))
        entities = Object.values(result.counts).reduce((a, b) => a + b, 0)
        redacted = result.redactions.length
      },
    )
    return { json, floor, time, entities, redacted }
  }
  const plain = measurePipeline(generate(ENTITIES))
  const mixed = measurePipeline(generate(ENTITIES, { mixed: true }))
  const { json, floor, time: pipeline, entities, redacted } = plain
  const jsonFile = join(dir, 'dump.json')
  await writeFile(jsonFile, json)

  // A plan: deck's JSON in, masked plan, changed fields and the job summary out.
  const { parseDeckJson, PlanMasker, targetPlan, planTable, renderSummary } = await import(engineFile)
  const planJson = generatePlan(CHANGES)
  const planFloor = best(() => JSON.stringify(JSON.parse(planJson)))
  let planned = 0
  const planTime = best(() => {
    const target = { workspace: 'default', selectTags: [], files: ['kong/default.yaml'] }
    const plan = targetPlan(parseDeckJson(planJson, 'gateway diff'), target, new PlanMasker())
    renderSummary({ title: 'deckhand diff', lines: [], tables: [planTable(plan)], annotations: [] })
    JSON.stringify(plan)
    planned = plan.changes.length
  })

  // Peak memory of the pipeline alone, in a fresh process.
  const memScript = join(dir, 'mem.mjs')
  await writeFile(
    memScript,
    `import { readFileSync } from 'node:fs'
import { processDeckOutput, digestFiles } from ${JSON.stringify(engineFile)}
// VmHWM, this process's own peak (getrusage's maxRSS survives execve and would include the bench's).
const hwm = () => Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1])
const before = hwm()
const r = processDeckOutput(readFileSync(${JSON.stringify(jsonFile)}, 'utf8'), { workspace: 'default', redact: true, source: 'bench' })
digestFiles(new Map([['default.yaml', r.yaml]]))
console.log(JSON.stringify({ before: before / 1024, peak: hwm() / 1024 }))`,
  )
  const mem = JSON.parse(await child(memScript))

  const bareNode = await firstOutputMs(['-e', 'console.log(1)'], {})
  const action = await firstOutputMs([join(root, 'dist/validate/index.js')], {
    INPUT_STATE: join(dir, 'missing'),
    RUNNER_TEMP: dir,
    RUNNER_TOOL_CACHE: dir,
  })

  const bundles = []
  // dist/pulumi is compiled, not bundled: it is the component's modules, not an action.
  for (const name of (await readdir(join(root, 'dist'))).filter((name) => name !== 'pulumi').sort()) {
    bundles.push(`${name} ${((await stat(join(root, 'dist', name, 'index.js'))).size / 1024).toFixed(0)} KiB`)
  }

  const lines = [
    `Machine: ${process.platform}/${process.arch}, Node.js ${process.version}; best of ${RUNS} runs (the dump pipelines: of ${2 * RUNS}, taken in turns with their floor).`,
    '',
    '| measurement | deckhand | floor | ratio | target |',
    '|---|---|---|---|---|',
    `| dump pipeline on ${entities.toLocaleString('en')} entities (${(json.length / 2 ** 20).toFixed(0)} MiB of deck JSON, ${redacted.toLocaleString('en')} secrets): normalize + redact + YAML + digest | ${pipeline.toFixed(0)} ms | ${floor.toFixed(0)} ms (JSON.parse + JSON.stringify) | ${(pipeline / floor).toFixed(2)}x | at most 3x |`,
    `| the same on a gateway of mixed plugins (${mixed.redacted.toLocaleString('en')} secrets: schema paths, header maps and lines, values Kong encrypts) | ${mixed.time.toFixed(0)} ms | ${mixed.floor.toFixed(0)} ms | ${(mixed.time / mixed.floor).toFixed(2)}x | |`,
    `| peak memory of that pipeline (fresh process) | ${mem.peak.toFixed(0)} MiB | ${mem.before.toFixed(0)} MiB (process at start) | | under 1,024 MiB |`,
    `| plan of ${planned.toLocaleString('en')} changes (${(planJson.length / 2 ** 20).toFixed(0)} MiB of deck JSON): parse + mask + changed fields + summary + plan file | ${planTime.toFixed(0)} ms | ${planFloor.toFixed(0)} ms (JSON.parse + JSON.stringify) | ${(planTime / planFloor).toFixed(2)}x | at most 4x |`,
    `| cold start of dist/validate to its first log line | ${action.toFixed(0)} ms | ${bareNode.toFixed(0)} ms (node -e) | ${(action / bareNode).toFixed(2)}x | |`,
    '',
    `Bundle sizes: ${bundles.join(', ')}.`,
  ]
  lines.push('', '### Drift commits', '')
  for (const line of await benchCommit({ runs: RUNS, generate, processDeckOutput })) lines.push(line)
  if (process.env.BENCH_LARGE !== '0') {
    const mb = Number(process.env.BENCH_LARGE_MB ?? 50)
    console.log(`Large state files: validate and redact of ${mb} MB, as JSON and as YAML (several minutes)…`)
    const { toYaml } = await import(engineFile)
    lines.push('', '### Large state files', '')
    for (const line of await benchState({ engineFile, generate, toYaml, runs: RUNS, mb })) lines.push(line)
  }
  if (process.env.BENCH_UPGRADE !== '0') {
    console.log(
      'LTS upgrade: the freeze check, verification and convert phase on the same gateway (several minutes)…',
    )
    lines.push('', '### LTS upgrades', '')
    for (const line of await benchUpgrade({ runs: RUNS, entities: ENTITIES })) lines.push(line)
  }
  if (process.env.BENCH_DB !== '0') {
    console.log('Database benchmark: loading the database (about a minute)…')
    lines.push('', '### Database backups', '')
    for (const line of await benchDatabase({ runs: RUNS })) lines.push(line)
  }
  const text = lines.join('\n')
  console.log(text)

  if (process.argv.includes('--write-readme')) {
    const headline =
      `A dump of ${entities.toLocaleString('en')} entities (${(json.length / 2 ** 20).toFixed(0)} MiB of deck JSON) takes ${pipeline.toFixed(0)} ms and ${mem.peak.toFixed(0)} MiB, ` +
      `${(pipeline / floor).toFixed(2)}x a bare \`JSON.parse\` + \`JSON.stringify\` of it; a plan of ${planned.toLocaleString('en')} changes ${planTime.toFixed(0)} ms ` +
      `(${(planTime / planFloor).toFixed(2)}x). Every figure, and how it is measured: [docs/benchmark.md](docs/benchmark.md).`
    await writeBlock('docs/benchmark.md', text)
    await writeBlock('README.md', headline)
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
