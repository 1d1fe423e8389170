import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { parse } from 'yaml'

import { runBundledAction } from '../support/action.js'
import { copyFixture, doubleEnv, type GatewayFixture } from '../support/deck-double.js'

/**
 * A workspace whose name has a dot (Kong allows `team.v2`): deck writes its dump without `.json`, as it
 * adds the extension only to a name without one. It is dumped like any other, and its backup is never
 * taken for a workspace that is gone.
 */

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-ws-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

describe('workspace names with dots', () => {
  test('team.v2 is dumped into team.v2.yaml, and a second dump keeps it', async () => {
    const fixture = await copyFixture('enterprise.yaml', dir, (f: GatewayFixture) => {
      const workspaces = f.workspaces as Record<string, unknown>
      workspaces['team.v2'] = {
        services: [
          {
            id: '3f2c1b0a-9d8e-4f7a-8b6c-5d4e3f2a1b0c',
            name: 'ledger-v2',
            host: 'ledger.internal',
            port: 8443,
            protocol: 'https',
          },
        ],
      }
    })
    const env = doubleEnv({ gateway: fixture, log: join(dir, 'calls.jsonl') })
    const out = join(dir, 'kong')
    const inputs = {
      'kong-addr': 'http://127.0.0.1:8001',
      'kong-admin-token': 'kong-admin-s3cret',
      'all-workspaces': 'true',
      'output-dir': out,
    }
    const first = await runBundledAction('dump', inputs, { env })
    expect(first.exitCode).toBe(0)
    expect(first.outputs.workspaces!.split('\n')).toContain('team.v2')
    const state = parse(await readFile(join(out, 'team.v2.yaml'), 'utf8')) as {
      _workspace: string
      services: { name: string }[]
    }
    expect(state._workspace).toBe('team.v2')
    expect(state.services.map((s) => s.name)).toEqual(['ledger-v2'])

    const second = await runBundledAction('dump', inputs, { env })
    expect(second.exitCode).toBe(0)
    expect(second.stdout).not.toMatch(/Removed team\.v2/)
    expect(await readdir(out)).toContain('team.v2.yaml')
    expect(second.outputs.changed).toBe('false')
  })
})
