import { describe, expect, test } from '@jest/globals'

import {
  convertArgs,
  dumpArgs,
  globalArgs,
  reconcileArgs,
  validateArgs,
} from '../actions/engine/deck/commands.js'
import { deckFeatures } from '../actions/engine/deck/version.js'
import { checkDeckArgv } from './deck-double/flags.mjs'

// Releases around every feature boundary deckhand cares about (legacy tree, gateway tree, token flag).
const VERSIONS = ['1.20.0', '1.27.0', '1.28.0', '1.28.1', '1.40.0', '1.50.0', '1.63.0', '1.64.0', '1.65.1']

const GLOBALS = [
  {},
  { kongAddr: 'https://kong:8444', tlsSkipVerify: true, timeoutSeconds: 30 },
  {
    kongAddr: 'http://127.0.0.1:8001',
    caCertFile: '/tmp/ca.pem',
    tlsServerName: 'kong.internal',
    configFile: '/tmp/deck.yaml',
  },
]

/** Every combination of the options each builder takes. */
function* dumpCases() {
  for (const allWorkspaces of [false, true])
    for (const workspace of [undefined, 'team-a'])
      for (const selectTags of [[], ['a', 'b']])
        for (const skipConsumers of [false, true])
          for (const withId of [false, true]) {
            if (allWorkspaces && workspace) continue // refused by deckhand before deck runs
            yield {
              allWorkspaces,
              workspace,
              selectTags,
              skipConsumers,
              withId,
              outputFile: allWorkspaces ? undefined : '/tmp/out.json',
            }
          }
}

function* validateCases() {
  for (const online of [false, true])
    for (const workspace of [undefined, 'team-a'])
      for (const parallelism of [undefined, 4])
        for (const files of [['a.yaml'], ['a.yaml', 'dir']]) yield { online, workspace, parallelism, files }
}

function* reconcileCases() {
  for (const mode of ['diff', 'sync'] as const)
    for (const workspace of [undefined, 'team-a'])
      for (const selectTags of [[], ['a', 'b']])
        for (const skipConsumers of [false, true])
          for (const parallelism of [undefined, 4])
            for (const files of [['a.yaml'], ['a.yaml', 'dir']])
              yield { mode, workspace, selectTags, skipConsumers, parallelism, files }
}

// --json-output came with deck 1.24.0: diff and sync need it.
const JSON_VERSIONS = VERSIONS.filter((v) => v !== '1.20.0')

describe('every argv deckhand builds is one real deck accepts', () => {
  test.each(VERSIONS)('deck %s: dump', (version) => {
    const features = deckFeatures(version)
    for (const cmd of dumpCases())
      for (const g of GLOBALS) {
        const argv = [...dumpArgs(features, cmd), ...globalArgs(g)]
        expect({ argv, error: checkDeckArgv(argv, version) }).toEqual({ argv, error: null })
      }
  })

  test.each(VERSIONS)('deck %s: validate', (version) => {
    const features = deckFeatures(version)
    for (const cmd of validateCases())
      for (const g of GLOBALS) {
        const argv = [...validateArgs(features, cmd), ...globalArgs(g)]
        expect({ argv, error: checkDeckArgv(argv, version) }).toEqual({ argv, error: null })
      }
  })

  test.each(JSON_VERSIONS)('deck %s: diff and sync', (version) => {
    const features = deckFeatures(version)
    for (const cmd of reconcileCases())
      for (const g of GLOBALS) {
        const argv = [...reconcileArgs(features, cmd), ...globalArgs(g)]
        expect(argv).toContain('--json-output')
        expect(argv).not.toContain('--non-zero-exit-code')
        expect(argv).not.toContain('--silence-events')
        expect({ argv, error: checkDeckArgv(argv, version) }).toEqual({ argv, error: null })
      }
  })

  test.each(['1.47.0', '1.51.0', '1.55.2', '1.56.0', '1.65.1'])('deck %s: file convert', (version) => {
    const features = deckFeatures(version)
    expect(features.convertPairs.length).toBeGreaterThan(0)
    for (const { from, to } of features.convertPairs)
      for (const outputFile of ['/tmp/out.yaml', '/tmp/out.json']) {
        const argv = convertArgs(features, { from, to, inputFiles: ['/tmp/in.yaml'], outputFile })
        expect({ argv, error: checkDeckArgv(argv, version) }).toEqual({ argv, error: null })
      }
  })

  test('file convert pairs follow the release that added them', () => {
    const pairs = (v: string) => deckFeatures(v).convertPairs.map((p) => `${p.from}>${p.to}`)
    expect(pairs('1.46.3')).toEqual([])
    expect(pairs('1.47.0')).toEqual(['2.8>3.4'])
    expect(pairs('1.55.2')).toEqual(['2.8>3.4', '3.4>3.10'])
    expect(pairs('1.65.1')).toEqual(['2.8>3.4', '3.4>3.10', '3.10>3.14'])
    // A pair the release lacks is refused before deck runs, naming what it converts; deck itself refuses it too.
    expect(() =>
      convertArgs(deckFeatures('1.50.0'), {
        from: '3.4',
        to: '3.10',
        inputFiles: ['a.yaml'],
        outputFile: 'b.yaml',
      }),
    ).toThrow('deck 1.50.0 cannot convert Kong 3.4 files to 3.10; it converts 2.8 → 3.4')
    expect(checkDeckArgv(['file', 'convert', '--from', '3.4', '--to', '3.10'], '1.50.0')).toMatch(
      /invalid value '3.4'/,
    )
    expect(() =>
      convertArgs(deckFeatures('1.65.1'), {
        from: '2.8',
        to: '3.4',
        inputFiles: ['a', 'b'],
        outputFile: 'c.yaml',
      }),
    ).toThrow(/one input file/)
  })

  test('diff and sync refuse a deck without JSON output, naming the way out', () => {
    expect(() => reconcileArgs(deckFeatures('1.23.0'), { mode: 'diff', files: ['a.yaml'] })).toThrow(
      /1\.24\.0.*deck-version/,
    )
  })

  test('the flag check is not a rubber stamp', () => {
    expect(checkDeckArgv(['gateway', 'dump', '--no-such-flag'], '1.65.1')).toMatch(
      /unknown flag: --no-such-flag/,
    )
    expect(checkDeckArgv(['gateway', 'dump', '--kong-admin-token', 'x'], '1.63.0')).toMatch(/unknown flag/)
    expect(checkDeckArgv(['gateway', 'sync', '--non-zero-exit-code'], '1.65.1')).toMatch(/unknown flag/)
    expect(checkDeckArgv(['gateway', 'dump', '--all-workspaces', '--output-file', 'x'], '1.65.1')).toMatch(
      /all-workspaces/,
    )
  })

  test('deck older than deckhand supports is refused with the way out', () => {
    expect(() => deckFeatures('1.19.0')).toThrow(/too old.*1\.20\.0 or newer.*deck-version/)
  })
})
