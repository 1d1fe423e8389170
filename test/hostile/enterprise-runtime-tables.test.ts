import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'

import { JOBS } from '../../actions/jobs.js'
import type { JobContext } from '../../actions/engine/jobs/context.js'
import type { ToolStore } from '../../actions/engine/deck/install.js'
import { loadKongDatabase } from '../../script/kong-db.mjs'
import { type PostgresServer, startPostgres } from '../../script/servers.mjs'

/**
 * A Kong Enterprise database holds runtime tables Kong OSS does not: rate-limiting-advanced's counters and
 * Vitals' statistics. The kong profile leaves their rows out as it does cluster_events' and
 * ratelimiting_metrics', and keeps vitals_locks' seeded row, without which Vitals' cleanup never runs again.
 *
 * The tables are created as Kong Gateway Enterprise's migrations create them (Kong/kong branch FTI-6378,
 * kong/enterprise_edition/db/migrations/enterprise/000_base.lua and 010_2200_to_2211.lua), with a rotated
 * per-second table as kong/vitals/postgres/table_rotater.lua names them.
 */
const ENTERPRISE_SQL = `
CREATE TABLE rl_counters (key text, namespace text, window_start int, window_size int, count int,
  PRIMARY KEY (key, namespace, window_start, window_size));
CREATE TABLE vitals_stats_hours (at integer, l2_hit integer default 0, l2_miss integer default 0,
  plat_min integer, plat_max integer, PRIMARY KEY (at));
CREATE TABLE vitals_stats_seconds (node_id uuid, at integer, l2_hit integer default 0, l2_miss integer default 0,
  plat_min integer, plat_max integer, ulat_min integer, ulat_max integer, requests integer default 0,
  plat_count int default 0, plat_total int default 0, ulat_count int default 0, ulat_total int default 0,
  PRIMARY KEY (node_id, at));
CREATE TABLE vitals_stats_minutes (LIKE vitals_stats_seconds INCLUDING defaults INCLUDING constraints INCLUDING indexes);
CREATE TABLE vitals_stats_days (LIKE vitals_stats_minutes INCLUDING defaults INCLUDING constraints INCLUDING indexes);
CREATE TABLE vitals_stats_seconds_1750000000 (LIKE vitals_stats_seconds INCLUDING defaults INCLUDING constraints INCLUDING indexes);
CREATE TABLE vitals_node_meta (node_id uuid PRIMARY KEY, first_report timestamp, last_report timestamp, hostname text);
CREATE TABLE vitals_code_classes_by_cluster (code_class int, at timestamptz, duration int, count int,
  PRIMARY KEY (code_class, duration, at));
CREATE TABLE vitals_codes_by_route (service_id uuid, route_id uuid, code int, at timestamptz, duration int, count int,
  PRIMARY KEY (route_id, code, duration, at));
CREATE TABLE vitals_codes_by_consumer_route (consumer_id uuid, service_id uuid, route_id uuid, code int,
  at timestamptz, duration int, count int, PRIMARY KEY (consumer_id, route_id, code, duration, at));
CREATE TABLE vitals_code_classes_by_workspace (workspace_id uuid, code_class int, at timestamptz, duration int,
  count int, PRIMARY KEY (workspace_id, code_class, duration, at));
CREATE TABLE vitals_locks (key text, expiry timestamptz, PRIMARY KEY (key));
INSERT INTO vitals_locks (key, expiry) VALUES ('delete_status_codes', NULL);

INSERT INTO rl_counters SELECT 'consumer-' || i, 'rla-ns', 1750000000 + i, 60, i FROM generate_series(1, 50) i;
INSERT INTO vitals_stats_hours (at, l2_hit) SELECT 1750000000 + i * 3600, i FROM generate_series(1, 5) i;
INSERT INTO vitals_stats_minutes (node_id, at, requests)
  SELECT md5('node')::uuid, 1750000000 + i * 60, i FROM generate_series(1, 30) i;
INSERT INTO vitals_stats_days (node_id, at, requests)
  SELECT md5('node')::uuid, 1750000000 + i * 86400, i FROM generate_series(1, 3) i;
INSERT INTO vitals_stats_seconds_1750000000 (node_id, at, requests)
  SELECT md5('node')::uuid, 1750000000 + i, i FROM generate_series(1, 120) i;
INSERT INTO vitals_node_meta VALUES (md5('node')::uuid, now(), now(), 'kong-cp-0');
INSERT INTO vitals_code_classes_by_cluster SELECT c, now(), 60, 10 FROM generate_series(1, 5) c;
INSERT INTO vitals_codes_by_route SELECT md5('s')::uuid, md5('r')::uuid, 200 + c, now(), 60, 3 FROM generate_series(0, 4) c;
INSERT INTO vitals_codes_by_consumer_route
  SELECT md5('c')::uuid, md5('s')::uuid, md5('r')::uuid, 200 + c, now(), 60, 3 FROM generate_series(0, 4) c;
INSERT INTO vitals_code_classes_by_workspace SELECT md5('ws')::uuid, c, now(), 60, 7 FROM generate_series(1, 5) c;
`

/** Whose rows the kong profile leaves out: every Enterprise runtime table but vitals_locks. */
const SKIPPED = [
  'rl_counters',
  'vitals_stats_hours',
  'vitals_stats_minutes',
  'vitals_stats_days',
  'vitals_stats_seconds_1750000000',
  'vitals_node_meta',
  'vitals_code_classes_by_cluster',
  'vitals_codes_by_route',
  'vitals_codes_by_consumer_route',
  'vitals_code_classes_by_workspace',
]

let pg: PostgresServer
let work: string

const logger = { info: () => undefined, warn: () => undefined, debug: () => undefined }
const ctx: JobContext = { logger, store: {} as ToolStore, env: {}, secret: () => undefined }

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'deckhand-ee-tables-'))
  pg = await startPostgres({ user: 'kong', password: 'ee-Pa55' })
  await loadKongDatabase(pg, 'kong', {})
  await pg.psql(ENTERPRISE_SQL, 'kong')
}, 120_000)

afterAll(async () => {
  await pg?.stop()
  await rm(work, { recursive: true, force: true })
})

describe('the kong profile on a Kong Enterprise database', () => {
  it('leaves out the rows of rate-limiting-advanced and Vitals, keeps vitals_locks, and restores verified', async () => {
    const inputs: Record<string, string> = {
      'database-url': pg.url('kong'),
      format: 'custom',
      'output-dir': join(work, 'backups'),
      'upload-artifact': 'false',
    }
    const dumped = await JOBS['db-dump']!((name) => inputs[name], ctx)
    expect(dumped.ok).toBe(true)
    const manifest = JSON.parse(await readFile(dumped.outputs.manifest!, 'utf8')) as {
      dump: { excludedTableData: string[] }
      tables: { table: string; rows: number; data: boolean; checksum?: string }[]
    }
    expect(manifest.dump.excludedTableData).toEqual(expect.arrayContaining(SKIPPED.map((t) => `public.${t}`)))
    expect(manifest.dump.excludedTableData).not.toContain('public.vitals_locks')
    // Runtime state is counted, never checksummed; the lock row is dumped.
    const locks = manifest.tables.find((t) => t.table === 'vitals_locks')!
    expect(locks).toMatchObject({ rows: 1, data: true })
    expect(locks.checksum).toBeUndefined()

    await pg.psql('CREATE DATABASE restored')
    const restoreInputs: Record<string, string> = {
      'database-url': pg.url('restored'),
      input: dumped.outputs.path!,
    }
    const restored = await JOBS['db-restore']!((name) => restoreInputs[name], ctx)
    expect(restored.outputs.verified).toBe('true')
    for (const table of SKIPPED) {
      expect([table, await pg.psql(`SELECT count(*) FROM ${table}`, 'restored')]).toEqual([table, '0'])
    }
    expect(
      await pg.psql("SELECT key || ':' || coalesce(expiry::text, 'null') FROM vitals_locks", 'restored'),
    ).toBe('delete_status_codes:null')
  })
})
