// The LTS-upgrade part of `npm run bench`: the engine's own work in an upgrade of the benchmark's gateway from
// Kong 2.8 to 3.14, deck left out (it is another program): the freeze check and Y's verification (two states
// read from disk and compared entity by entity) and the convert phase's drift report, hop by hop. Each figure
// comes from a fresh process that reports its own peak memory, against JSON.parse + JSON.stringify of the same
// states' deck JSON in the same kind of process.
// Alone: `node script/bench-upgrade.mjs` (BENCH_ENTITIES applies, as in the whole bench); BENCH_UPGRADE=0 leaves
// it out of `npm run bench`.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify } from 'yaml'

import { bundleEngine } from './bench-bundle.mjs'
import { generate } from './bench-gateway.mjs'
import { run } from './bench-state.mjs'

const MIB = 2 ** 20

/** The upgrade's modules, bundled as the actions bundle them. */
function loadUpgradeEngine(dir) {
  return bundleEngine(join(dir, 'upgrade-engine.mjs'), {
    './actions/engine/drift/compare.ts': 'compareStateFiles',
    './actions/engine/upgrade/dumps.ts': 'entityDifferences, readStateFiles',
    './actions/engine/upgrade/convert.ts': 'convertState',
    './actions/engine/deck/version.ts': 'deckFeatures',
    './actions/engine/state/pipeline.ts': 'processDeckOutput',
  })
}

/**
 * One child: `floor` parses and stringifies JSON files, `compare` reads two state files as the upgrade does
 * (readStateFiles, one folder each: they compare by name) and compares them, `convert` runs the convert phase
 * with deck's runs replaced by writing the hop's prepared output, their time taken out.
 */
const CHILD = `
import { readFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
const [engineFile, mode, ...files] = process.argv.slice(2)
const engine = await import(engineFile)
let ms
let differences = 0
if (mode === 'floor') {
  const texts = files.map((f) => readFileSync(f, 'utf8'))
  const t = performance.now()
  for (const text of texts) JSON.stringify(JSON.parse(text))
  ms = performance.now() - t
} else if (mode === 'compare') {
  const t = performance.now()
  const drift = engine.compareStateFiles(await engine.readStateFiles([files[0]]), await engine.readStateFiles([files[1]]))
  differences = engine.entityDifferences(drift).length
  ms = performance.now() - t
} else {
  const [input, output, ...hops] = files
  const outputs = hops.map((f) => readFileSync(f, 'utf8'))
  let deckMs = 0
  let hop = 0
  const runner = {
    deck: { features: engine.deckFeatures('1.65.1') },
    run: async (argv) => {
      const t = performance.now()
      await writeFile(argv[argv.indexOf('--output-file') + 1], outputs[hop++])
      deckMs += performance.now() - t
      return { stdout: '', stderr: '' }
    },
  }
  const logger = { info() {}, warn() {}, debug() {} }
  const t = performance.now()
  const report = await engine.convertState({ runner, logger, from: '2.8', to: '3.14', input, output })
  ms = performance.now() - t - deckMs
  differences = report.hops.reduce((n, h) => n + h.drift.entities.length, 0)
}
// VmHWM, this process's own peak (getrusage's maxRSS survives execve and would include the bench's).
console.log(JSON.stringify({ ms, differences, peak: Number(/VmHWM:\\s+(\\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) / 1024 }))
`

/**
 * The gateway as each LTS line holds it, after what deck's convert changes (Kong/deck convert/convert.go):
 * on 2.8, 1 % of services have a route with a regex path, a rate-limiting-advanced plugin with Redis cluster
 * addresses and an HTTPS upstream; 2.8 → 3.4 puts `~` before the regex paths, 3.4 → 3.10 moves the plugins'
 * redis.cluster_addresses to redis.cluster_nodes, 3.10 → 3.14 spells out tls_verify: false on those services.
 */
function lines(total) {
  const kong28 = generate(total)
  kong28._format_version = '1.1'
  kong28.services.forEach((service, i) => {
    if (i % 100 !== 0) return
    service.protocol = 'https'
    service.port = 8443
    service.routes[0].paths = [`/api/${i}/orders/\\d+`]
    service.plugins = [
      {
        name: 'rate-limiting-advanced',
        enabled: true,
        protocols: ['http', 'https'],
        config: {
          limit: [100],
          window_size: [60],
          strategy: 'redis',
          redis: { cluster_addresses: ['redis-1:6379', 'redis-2:6379'], timeout: 2000 },
        },
      },
    ]
  })
  const kong34 = structuredClone(kong28)
  kong34._format_version = '3.0'
  const kong310 = structuredClone(kong34)
  const kong314 = structuredClone(kong310)
  kong34.services.forEach((service, i) => {
    if (i % 100 !== 0) return
    service.routes[0].paths = service.routes[0].paths.map((p) => `~${p}`)
    kong310.services[i].routes[0].paths = service.routes[0].paths
    kong314.services[i].routes[0].paths = service.routes[0].paths
    for (const later of [kong310, kong314]) {
      const redis = later.services[i].plugins[0].config.redis
      redis.cluster_nodes = redis.cluster_addresses.map((a) => ({ ip: a.split(':')[0], port: 6379 }))
      delete redis.cluster_addresses
    }
    kong314.services[i].tls_verify = false
  })
  return { 2.8: kong28, 3.4: kong34, '3.10': kong310, 3.14: kong314 }
}

/**
 * @param {{ runs: number, entities?: number }} options
 */
export async function benchUpgrade({ runs, entities = Number(process.env.BENCH_ENTITIES ?? 100_000) }) {
  const dir = await mkdtemp(join(tmpdir(), 'deckhand-bench-upgrade-'))
  try {
    const engineFile = await loadUpgradeEngine(dir)
    const { processDeckOutput } = await import(engineFile)
    const script = join(dir, 'child.mjs')
    await writeFile(script, CHILD)
    const states = lines(entities)
    // deck's JSON of each line (the floors), X's dumps as dump writes them (deckhand's YAML, secrets kept),
    // and deck's converted files, in a YAML writer's layout rather than deckhand's.
    const file = async (folder, text) => {
      await mkdir(join(dir, folder), { recursive: true })
      await writeFile(join(dir, folder, 'default.yaml'), text)
      return join(dir, folder, 'default.yaml')
    }
    const json = {}
    for (const [line, doc] of Object.entries(states)) {
      json[line] = join(dir, `${line}.json`)
      await writeFile(json[line], JSON.stringify(doc, null, 2))
    }
    const dumpOf = (doc) =>
      processDeckOutput(JSON.stringify(doc), { workspace: 'default', redact: false, source: 'bench' }).yaml
    const recorded = dumpOf(states['2.8'])
    const xBefore = await file('x-before', recorded)
    const xFreeze = await file('x-freeze', recorded)
    const xWritten = await file('x-written', dumpOf(states['3.14']))
    const yAfter = await file('y-after', dumpOf(states['3.14']))
    const hops = []
    for (const line of ['3.4', '3.10', '3.14']) hops.push(await file(`hop-${line}`, stringify(states[line])))
    const converted = hops.at(-1)
    const jsonFile = async (folder, doc) => {
      await mkdir(join(dir, folder), { recursive: true })
      await writeFile(join(dir, folder, 'default.json'), JSON.stringify(doc, null, 2))
      return join(dir, folder, 'default.json')
    }
    const jsonConverted = await jsonFile('converted-json', states['3.14'])
    // Y's dump as JSON: deckhand's normalised form (sorted keys), so the text differs as it does in YAML.
    const jsonY = await jsonFile('y-json', JSON.parse(JSON.stringify(sortKeys(states['3.14']))))

    // A YAML state this size takes the yaml package tens of seconds to read: those figures are of one run.
    const best = async (args, times = runs) => {
      let result
      for (let i = 0; i < times; i++) {
        const r = await run(script, [engineFile, ...args])
        if (r.failed) return r
        result = !result || r.ms < result.ms ? { ...r, peak: Math.max(r.peak, result?.peak ?? 0) } : result
        result.peak = Math.max(result.peak, r.peak)
      }
      return result
    }
    const pairFloor = await best(['floor', json['2.8'], json['2.8']])
    const chainFloor = await best([
      'floor',
      ...[
        ['2.8', '3.4'],
        ['3.4', '3.10'],
        ['3.10', '3.14'],
      ]
        .flat()
        .map((line) => json[line]),
    ])
    const rows = [
      [
        "freeze check, nobody wrote to X: X's dump at the start and at the end, the same text, read + compared",
        await best(['compare', xBefore, xFreeze]),
        pairFloor,
      ],
      [
        "verify Y: Y's dump against X's converted state, the same entities in another layout, read + compared",
        await best(['compare', converted, yAfter], 1),
        pairFloor,
      ],
      [
        'the same with both states as JSON files (a rolling upgrade may convert JSON): no YAML to read',
        await best(['compare', jsonConverted, jsonY]),
        pairFloor,
      ],
      [
        "freeze check, X changed: X's 2.8 dump against its 3.14 conversion (1 % of routes, plugins and services differ), read + compared",
        await best(['compare', xBefore, xWritten], 1),
        pairFloor,
      ],
      [
        "convert phase, 2.8 → 3.14 in three hops: each hop's output read and compared with its input, the result written (deck's runs left out)",
        await best(['convert', xBefore, join(dir, 'converted', 'default.yaml'), ...hops], 1),
        chainFloor,
      ],
    ]
    const size = () => (Buffer.byteLength(JSON.stringify(states['2.8'], null, 2)) / MIB).toFixed(0)
    return [
      `The benchmark's gateway (${entities.toLocaleString('en')} entities, ${size()} MiB of deck JSON) as an upgrade from Kong 2.8 to 3.14 finds it: ` +
        "1 % of services with a regex route path, a rate-limiting-advanced plugin with Redis cluster addresses and an HTTPS upstream, the entities each of deck's three hops rewrites. " +
        "X's dumps are YAML as dump writes them; deck's converted files YAML in another writer's layout. " +
        `Each figure from a fresh process (best of ${runs}, one run where YAML is read; peak memory the highest, text and Node included); the floor parses and stringifies the same states' deck JSON in the same kind of process.`,
      '',
      '| measurement | time | peak memory | entity differences | floor: JSON.parse + JSON.stringify | ratio | peak against the floor |',
      '|---|---|---|---|---|---|---|',
      ...rows.map(([what, r, floor]) =>
        r.failed
          ? `| ${what} | failed (${r.failed}) | | | | | |`
          : `| ${what} | ${fmt(r.ms)} | ${r.peak.toFixed(0)} MiB | ${r.differences.toLocaleString('en')} | ${fmt(floor.ms)} (${floor === chainFloor ? 'three pairs' : 'both states'}; ${floor.peak.toFixed(0)} MiB) | ${(r.ms / floor.ms).toFixed(2)}x | ${(r.peak / floor.peak).toFixed(2)}x |`,
      ),
      '',
      "Y's configuration tables against X's database backup (row counts, compareWithManifest without checksums) are not measured here: the db-restore row of the database section runs the same comparison, with checksums, on every table.",
    ]
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys(value[key])]),
  )
}

function fmt(ms) {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(0)} ms`
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const line of await benchUpgrade({ runs: 3 })) console.log(line)
}
