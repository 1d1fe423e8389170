import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'

import { runBundledAction, visibleLog } from '../support/action.js'
import { doubleEnv, workdir } from '../support/deck-double.js'
import { deleteControlPlane, type KonnectStandIn, startKonnect } from '../support/konnect.js'
import { SERVICE_DEFAULTS } from '../support/kong-defaults.js'

/**
 * Konnect's worst days, on the bundled actions against the Konnect stand-in: Konnect failing part-way through a
 * dump leaves the previous backup as it was; a backup's `.konnect.json` that is not what deckhand wrote (not
 * JSON, another format, a folder, far too large, properties Konnect's create request refuses) never creates a
 * control plane it should not, and says what is wrong.
 */

const TOKEN = 'kpat_hostile000000000000000000000000000000000000000'
const SERVICE = {
  id: '7c3e5e2a-1111-4f5c-9c79-000000000001',
  name: 'orders',
  host: 'orders.internal',
  port: 80,
  protocol: 'http',
  ...SERVICE_DEFAULTS,
}

let w: Awaited<ReturnType<typeof workdir>>
let konnect: KonnectStandIn | undefined
/** Set to make Konnect answer deck's control-plane list with 429 from now on. */
let rateLimited = false
beforeEach(async () => {
  w = await workdir()
  rateLimited = false
  konnect = await startKonnect({
    tokens: { [TOKEN]: {} },
    controlPlanes: [
      { name: 'dev', entities: { services: [SERVICE] } },
      {
        name: 'prod',
        labels: { env: 'prod' },
        entities: { services: [{ ...SERVICE, id: SERVICE.id.replace('01', '02') }] },
      },
    ],
    rateLimit: {
      after: 0,
      times: 1_000_000,
      retryAfterSeconds: 0,
      match: (r) => rateLimited && r.path.startsWith('/konnect-api/'),
    },
  })
})
afterEach(async () => {
  await konnect?.stop()
  await w.cleanup()
})

const out = () => join(w.dir, 'konnect')
const env = () => doubleEnv({ log: w.log, konnectDir: konnect!.dir })

function dump() {
  return runBundledAction(
    'dump',
    {
      gateway: 'konnect',
      'konnect-token': TOKEN,
      'konnect-addr': konnect!.url,
      'konnect-control-plane': 'dev\nprod',
      'output-dir': out(),
    },
    { env: env() },
  )
}

function restore() {
  return runBundledAction(
    'restore',
    { gateway: 'konnect', 'konnect-token': TOKEN, 'konnect-addr': konnect!.url, state: out() },
    { env: env() },
  )
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {}
  for (const name of await readdir(dir)) files[name] = await readFile(join(dir, name), 'utf8')
  return files
}

describe('a Konnect dump that fails part-way', () => {
  test("Konnect's rate limit stopping deck leaves the previous backup byte for byte", async () => {
    expect((await dump()).exitCode).toBe(0)
    const before = await snapshot(out())
    rateLimited = true
    const run = await dump()
    expect(run.exitCode).not.toBe(0)
    expect(visibleLog(run.stdout)).toContain('HTTP status 429')
    expect(await snapshot(out())).toEqual(before)
    // No staging folder or temporary file left in the output folder.
    expect((await readdir(out())).sort()).toEqual(Object.keys(before).sort())
  })
})

describe("a backup's .konnect.json that deckhand did not write", () => {
  const cases: [string, (path: string) => Promise<void>, RegExp][] = [
    ['not JSON', (p) => writeFile(p, '{"format": "deckhand-konnect/1", '), /\.konnect\.json.*line 1/],
    [
      'another format',
      (p) => writeFile(p, JSON.stringify({ format: 'other/9', control_planes: [] })),
      /is not a deckhand Konnect record \(format deckhand-konnect\/1\)/,
    ],
    [
      'an unknown cluster type',
      (p) =>
        writeFile(
          p,
          JSON.stringify({
            format: 'deckhand-konnect/1',
            control_planes: [{ name: 'prod', file: 'prod.yaml', cluster_type: 'CLUSTER_TYPE_EVIL' }],
          }),
        ),
      /control_planes\[0\]: unknown cluster_type/,
    ],
    [
      'a folder',
      async (p) => {
        await mkdir(p)
      },
      /\.konnect\.json is not a file/,
    ],
    [
      'far too large',
      (p) =>
        writeFile(
          p,
          `{"format":"deckhand-konnect/1","control_planes":[],"pad":"${'x'.repeat(5 * 2 ** 20)}"}`,
        ),
      /more than any deckhand Konnect record holds/,
    ],
  ]

  test.each(cases)(
    '%s: the lost control plane is not created, and the step says why',
    async (_what, spoil, message) => {
      expect((await dump()).exitCode).toBe(0)
      await deleteControlPlane(konnect!, TOKEN, 'prod')
      const path = join(out(), '.konnect.json')
      await rm(path)
      await spoil(path)
      const run = await restore()
      expect(run.exitCode).not.toBe(0)
      expect(visibleLog(run.stdout)).toMatch(message)
      expect(konnect!.controlPlanes().map((c) => c.name)).toEqual(['dev'])
      expect(konnect!.requests.filter((r) => r.method === 'POST')).toEqual([])
    },
  )

  test('properties Konnect refuses are left out of the create request; the rest is kept', async () => {
    expect((await dump()).exitCode).toBe(0)
    await deleteControlPlane(konnect!, TOKEN, 'prod')
    const path = join(out(), '.konnect.json')
    const record = JSON.parse(await readFile(path, 'utf8')) as { control_planes: Record<string, unknown>[] }
    for (const plane of record.control_planes) Object.assign(plane, { id: 'old-id', owner: 'mallory' })
    await writeFile(path, JSON.stringify(record))
    const run = await restore()
    // The stand-in answers 400 to any property CreateControlPlaneRequest does not have, as its spec says.
    expect(run.exitCode).toBe(0)
    const prod = konnect!.controlPlanes().find((c) => c.name === 'prod')!
    expect(prod.labels).toEqual({ env: 'prod' })
    expect(prod.id).not.toBe('old-id')
  })
})
