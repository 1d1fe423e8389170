// The Convert phase of an LTS upgrade, run against the deck double's `file convert` (Kong/deck convert/*.go).
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { DeckRunner } from '../actions/engine/deck/runner.js'
import { deckFeatures } from '../actions/engine/deck/version.js'
import type { Logger } from '../actions/engine/log.js'
import { convertState, planConversion } from '../actions/engine/upgrade/convert.js'
import { DOUBLE_DIR } from './support/deck-double.js'

const logged: string[] = []
const logger: Logger = {
  info: (m) => logged.push(m),
  warn: (m) => logged.push(m),
  debug: (m) => logged.push(m),
}
const runner = (version = '1.65.1') =>
  new DeckRunner({ path: join(DOUBLE_DIR, 'deck'), features: deckFeatures(version) }, undefined, logger)

let work: string
let runnerTemp: string | undefined

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'upgrade-convert-'))
  runnerTemp = process.env.RUNNER_TEMP
  // Private temporaries go here, so the test can see that none is left behind.
  process.env.RUNNER_TEMP = join(work, 'runner-temp')
})
afterAll(async () => {
  if (runnerTemp === undefined) delete process.env.RUNNER_TEMP
  else process.env.RUNNER_TEMP = runnerTemp
  await rm(work, { recursive: true, force: true })
})

const KONG_28 = `_format_version: "1.1"
services:
- name: catalog
  host: catalog.internal
  port: 80
  protocol: http
  routes:
  - name: item
    paths:
    - /items/(?<id>\\d+)
    - /items
  plugins:
  - name: ip-restriction
    config:
      blacklist:
      - 203.0.113.9
`

const REDIS_PLUGIN = `plugins:
- name: rate-limiting-advanced
  config:
    namespace: catalog
    limit: [100]
    window_size: [60]
    redis:
      cluster_addresses:
      - redis-a:6379
`

describe('planConversion', () => {
  it('chains the LTS hops between two lines', () => {
    expect(planConversion(deckFeatures('1.65.1'), '2.8', '3.14')).toEqual([
      { from: '2.8', to: '3.4' },
      { from: '3.4', to: '3.10' },
      { from: '3.10', to: '3.14' },
    ])
  })

  it('refuses a chain the deck in use cannot convert, naming the pairs it converts', () => {
    expect(() => planConversion(deckFeatures('1.50.0'), '2.8', '3.10')).toThrow(
      'deck 1.50.0 cannot convert 3.4 → 3.10 (needed for 2.8 → 3.10); it converts 2.8 → 3.4. Set deck-version to 1.56.0 or newer',
    )
    expect(() => planConversion(deckFeatures('1.46.0'), '2.8', '3.4')).toThrow(
      'it converts no Kong LTS pair (deck 1.47.0 added 2.8 → 3.4)',
    )
    expect(() => planConversion(deckFeatures('1.65.1'), '3.10', '3.4')).toThrow(/later LTS line only/)
    expect(() => planConversion(deckFeatures('1.65.1'), '3.0', '3.4')).toThrow(
      /Kong LTS lines are 2\.8, 3\.4, 3\.10, 3\.14/,
    )
  })
})

describe('convertState', () => {
  it('converts a 2.8 file to 3.4 with the changes deck makes, and reports them per entity', async () => {
    const input = join(work, 'kong-28.yaml')
    const output = join(work, 'out', 'kong-34.yaml')
    await writeFile(input, KONG_28)
    const report = await convertState({ runner: runner(), logger, from: '2.8', to: '3.4', input, output })

    expect(await readFile(output, 'utf8')).toBe(`_format_version: "3.0"
services:
- host: catalog.internal
  name: catalog
  plugins:
  - config:
      deny:
      - 203.0.113.9
    name: ip-restriction
  port: 80
  protocol: http
  routes:
  - name: item
    paths:
    - ~/items/(?<id>\\d+)
    - /items
`)
    expect((await stat(output)).mode & 0o777).toBe(0o600)
    expect(await readFile(input, 'utf8')).toBe(KONG_28)

    expect(report.hops).toHaveLength(1)
    const [hop] = report.hops
    expect(hop?.unchanged).toBe(false)
    expect(hop?.drift.entities.map((e) => [e.action, e.kind, e.name])).toEqual([
      ['changed', 'route', 'service catalog / route item'],
      ['changed', 'plugin', 'service catalog / plugin ip-restriction'],
    ])
    expect(hop?.warnings).toEqual([
      `From the '${input}' config file,`,
      "1 unsupported routes' paths format with Kong version 3.0",
      'or above were detected. Some of these routes are (not an exhaustive list):',
      'item',
      'Kong gateway versions 3.0 and above require that regular expressions',
      "start with a '~' character to distinguish from simple prefix match.",
      "In order to make these paths compatible with 3.x, a '~' prefix has been added.",
      `From the '${input}' config file,`,
      "the _format_version field has been migrated from '1.1' to '3.0'.",
      'Automatically converted legacy configuration field "blacklist" to the new field "deny" in plugin ip-restriction',
      'These automatic changes may not be correct or exhaustive enough, please',
      'perform a manual audit of the config file.',
      'For related information, please visit:',
      'https://docs.konghq.com/deck/latest/3.0-upgrade',
    ])
    expect(logged.join('\n')).not.toContain('203.0.113.9')
  })

  it('chains 2.8 → 3.4 → 3.10, each hop with its own changes and warnings', async () => {
    const input = join(work, 'chain-28.yaml')
    const output = join(work, 'chain-310.yaml')
    await writeFile(input, KONG_28 + REDIS_PLUGIN)
    const report = await convertState({ runner: runner(), logger, from: '2.8', to: '3.10', input, output })

    expect(report.hops.map((h) => `${h.from}>${h.to}`)).toEqual(['2.8>3.4', '3.4>3.10'])
    const [first, second] = report.hops
    expect(first?.drift.entities.map((e) => e.name)).toEqual([
      'service catalog / route item',
      'service catalog / plugin ip-restriction',
    ])
    expect(second?.drift.entities.map((e) => [e.action, e.name])).toEqual([
      ['changed', 'plugin rate-limiting-advanced'],
    ])
    expect(second?.warnings).toContain(
      'Automatically converted legacy configuration field "redis.cluster_addresses" to the new field "redis.cluster_nodes" in plugin rate-limiting-advanced',
    )
    expect(second?.warnings).toContain('https://docs.konghq.com/deck/latest/3.10-upgrade')
    const out = await readFile(output, 'utf8')
    expect(out).toContain('    redis:\n      cluster_nodes:\n      - redis-a:6379\n')
    expect(out).toContain('    - ~/items/(?<id>\\d+)\n')
    expect(out).toMatch(/^_format_version: "3.0"\n/)
  })

  it('a 3.4 → 3.10 hop without anything to convert is reported as unchanged', async () => {
    const input = join(work, 'plain-34.yaml')
    await writeFile(input, '_format_version: "3.0"\nservices:\n- name: a\n  host: a.internal\n')
    const report = await convertState({
      runner: runner(),
      logger,
      from: '3.4',
      to: '3.10',
      input,
      output: join(work, 'plain-310.yaml'),
    })
    expect(report.hops.map((h) => h.unchanged)).toEqual([true])
  })

  it('refuses a pair the deck in use does not convert before running it', async () => {
    const input = join(work, 'refused.yaml')
    const output = join(work, 'refused-out.yaml')
    await writeFile(input, KONG_28)
    await expect(
      convertState({ runner: runner('1.50.0'), logger, from: '2.8', to: '3.10', input, output }),
    ).rejects.toThrow('deck 1.50.0 cannot convert 3.4 → 3.10')
    await expect(stat(output)).rejects.toThrow(/ENOENT/)
  })

  it('a deck failure mid-chain leaves no output, no temporary file and the input untouched', async () => {
    const input = join(work, 'conflict-28.yaml')
    const output = join(work, 'conflict-310.yaml')
    // 2.8 → 3.4 passes; 3.4 → 3.10 finds both the legacy and the new Redis field set and refuses.
    const text = KONG_28 + REDIS_PLUGIN + '      cluster_nodes:\n      - redis-b:6379\n'
    await writeFile(input, text)
    await expect(
      convertState({ runner: runner(), logger, from: '2.8', to: '3.10', input, output }),
    ).rejects.toThrow(
      `Converting 2.8 → 3.10 failed at 3.4 → 3.10; nothing was written to ${output}: ` +
        'deck file convert failed (exit 1): converting file: conflicting fields: both legacy field "redis.cluster_addresses" and new field "redis.cluster_nodes" have values in plugin rate-limiting-advanced',
    )
    await expect(stat(output)).rejects.toThrow(/ENOENT/)
    expect(await readFile(input, 'utf8')).toBe(text)
    expect(await readdir(join(work, 'runner-temp'))).toEqual([])
    expect((await readdir(work)).filter((f) => f.startsWith('.'))).toEqual([])
  })
})

describe('deck releases whose conversion of a hop is broken or lossy', () => {
  const PRE_FUNCTION_28 = `_format_version: "1.1"
plugins:
- name: pre-function
  config:
    access:
    - return kong.response.exit(403)
    functions: []
`
  const SSL_310 = `_format_version: "3.0"
plugins:
- name: rate-limiting
  config:
    minute: 10
    redis:
      host: redis.internal
`
  // The double behaves as the release deckhand was told it runs.
  async function convertWith(version: string, from: string, to: string, text: string) {
    const input = join(work, `defect-${version}-${from}.yaml`)
    const output = join(work, `defect-${version}-${to}.yaml`)
    await writeFile(input, text)
    await writeFile(output, 'previous\n')
    process.env.DECK_DOUBLE_VERSION = version
    try {
      const report = await convertState({ runner: runner(version), logger, from, to, input, output })
      return { report, output: await readFile(output, 'utf8') }
    } finally {
      delete process.env.DECK_DOUBLE_VERSION
    }
  }

  it('refuses 2.8 → 3.4 with deck 1.47.0–1.50.x, naming both defects, and leaves the output untouched', async () => {
    await expect(convertWith('1.50.0', '2.8', '3.4', PRE_FUNCTION_28)).rejects.toThrow(
      "deck 1.50.0 cannot be trusted with 2.8 → 3.4: 2.8 → 3.4 needs deck 1.51.0 or newer because deck 1.47.0–1.50.x read their 2.8 → 3.4 lint rules from convert/rulesets/ relative to the working directory, so outside deck's source tree the conversion fails with 'error reading ruleset file' and writes nothing; " +
        '2.8 → 3.4 needs deck 1.58.0 or newer because deck before 1.58.0 replaces a plugin field with its legacy one',
    )
    expect(await readFile(join(work, 'defect-1.50.0-3.4.yaml'), 'utf8')).toBe('previous\n')
  })

  it('refuses 2.8 → 3.4 with deck before 1.58.0, which drops the code of pre-functions; 1.58.0 converts', async () => {
    await expect(convertWith('1.57.3', '2.8', '3.10', PRE_FUNCTION_28)).rejects.toThrow(
      /^deck 1\.57\.3 cannot be trusted with 2\.8 → 3\.10: 2\.8 → 3\.4 needs deck 1\.58\.0 or newer because .* silently dropped\. Set deck-version to 1\.58\.0 or newer \(default 1\.65\.1\); nothing was converted\.$/,
    )
    expect(await readFile(join(work, 'defect-1.57.3-3.10.yaml'), 'utf8')).toBe('previous\n')
    const { output } = await convertWith('1.58.0', '2.8', '3.4', PRE_FUNCTION_28)
    expect(output).toContain('    access:\n    - return kong.response.exit(403)\n')
  })

  it('refuses 3.10 → 3.14 with deck 1.56.0–1.57.2, which writes a top-level ssl_verify; 1.57.3 converts', async () => {
    await expect(convertWith('1.57.2', '3.10', '3.14', SSL_310)).rejects.toThrow(
      '3.10 → 3.14 needs deck 1.57.3 or newer because deck 1.56.0–1.57.2 write `ssl_verify: false` at the top of the config of 42 plugins',
    )
    expect(await readFile(join(work, 'defect-1.57.2-3.14.yaml'), 'utf8')).toBe('previous\n')
    const { output } = await convertWith('1.57.3', '3.10', '3.14', SSL_310)
    expect(output).toContain('    redis:\n      host: redis.internal\n      ssl_verify: false\n')
  })
})
