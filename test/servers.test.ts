// The real-server harness itself: throwaway PostgreSQL and Redis servers, and the Kong-shaped database fixture.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import net from 'node:net'
import { networkInterfaces, tmpdir } from 'node:os'
import { join } from 'node:path'

import { KONG_RUNTIME_TABLES, loadKongDatabase } from '../script/kong-db.mjs'
import {
  type PostgresServer,
  type RedisServer,
  startPostgres,
  startRedis,
  startRedisFromRdb,
} from '../script/servers.mjs'

const isRoot = process.getuid?.() === 0

/** Runs a command; resolves with its exit code and output, whatever the code. */
function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** The real uid a process runs as, from /proc. */
async function processUid(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1])
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Connects and sends one line; resolves with the first reply line, or the connection error's code. */
function probe(host: string, port: number, line?: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port })
    let data = ''
    const done = (value: string) => {
      socket.destroy()
      resolve(value)
    }
    socket.setTimeout(2000, () => done('TIMEOUT'))
    socket.on('error', (error: NodeJS.ErrnoException) => done(error.code ?? error.message))
    socket.on('connect', () => (line === undefined ? done('CONNECTED') : socket.write(`${line}\r\n`)))
    socket.on('data', (chunk) => {
      data += chunk.toString()
      if (data.includes('\r\n')) done(data.split('\r\n')[0] ?? '')
    })
  })
}

/** This machine's addresses other than loopback. */
function externalAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .filter((info) => info !== undefined && !info.internal && info.family === 'IPv4')
    .map((info) => info!.address)
}

describe('startPostgres', () => {
  let pg: PostgresServer

  beforeAll(async () => {
    pg = await startPostgres()
  })
  afterAll(async () => {
    await pg?.stop()
  })

  it('runs the server as an unprivileged user when started by root, from its own directory', async () => {
    const uid = await processUid(pg.pid)
    if (isRoot) expect(uid).not.toBe(0)
    else expect(uid).toBe(process.getuid?.())
    expect((await stat(pg.dataDir)).uid).toBe(uid)
    expect(await pg.psql("SELECT current_setting('data_directory')")).toBe(pg.dataDir)
    expect(pg.dir.startsWith(join(tmpdir(), 'deckhand-pg-'))).toBe(true)
  })

  it('listens on 127.0.0.1 only', async () => {
    expect(await pg.psql('SHOW listen_addresses')).toBe('127.0.0.1')
    expect(await probe('127.0.0.1', pg.port)).toBe('CONNECTED')
    for (const address of externalAddresses()) {
      expect(await probe(address, pg.port)).toBe('ECONNREFUSED')
    }
  })

  it('wants the password over TCP: url() carries it, a wrong one is refused', async () => {
    const psql = join(pg.binDir, 'psql')
    const bare = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('PG')))
    const viaUrl = await run(psql, ['-X', '-A', '-t', '-c', 'SELECT current_user', pg.url()], bare)
    expect(viaUrl).toMatchObject({ code: 0, stdout: `${pg.user}\n` })

    const wrong = await run(psql, ['-X', '-c', 'SELECT 1'], {
      ...bare,
      ...pg.env(),
      PGPASSWORD: 'not-the-password',
    })
    expect(wrong.code).not.toBe(0)
    expect(wrong.stderr).toContain('password authentication failed')
  })

  it('reports SQL errors with psql’s message', async () => {
    await expect(pg.psql('SELECT * FROM no_such_table')).rejects.toThrow(
      /relation "no_such_table" does not exist/,
    )
  })

  it('loads a Kong database whose tags trigger keeps the tags table in step', async () => {
    const kong = await loadKongDatabase(pg, 'kong', { services: 7, runtimeRows: 100 })
    expect(kong).toMatchObject({ database: 'kong', tables: 35 })
    const q = (sql: string) => pg.psql(sql, 'kong')

    expect(
      await q(
        "SELECT name FROM workspaces WHERE id = (SELECT ws_id FROM services WHERE name = 'orders-api')",
      ),
    ).toBe('default')
    expect(Number(await q('SELECT count(*) FROM services'))).toBe(7)
    expect(Number(await q('SELECT count(*) FROM routes'))).toBe(7 + 2 * 2)
    // Every tagged entity has its row in tags, and nothing else does.
    const tagged = [
      'services',
      'routes',
      'consumers',
      'plugins',
      'upstreams',
      'targets',
      'certificates',
      'snis',
      'ca_certificates',
      'key_sets',
      'keys',
      'sm_vaults',
      'keyauth_credentials',
      'basicauth_credentials',
      'hmacauth_credentials',
      'jwt_secrets',
      'acls',
      'oauth2_credentials',
    ]
    const entities = tagged.map((table) => `SELECT count(*) FROM ${table}`).join(' UNION ALL ')
    expect(await q('SELECT count(*) FROM tags')).toBe(
      await q(`SELECT sum(count) FROM (${entities}) AS counts`),
    )
    expect(
      await q(
        "SELECT array_to_string(tags, ',') FROM tags WHERE entity_name = 'services' AND tags @> '{pci}'",
      ),
    ).toBe('team-billing,prod,pci')
    await q("UPDATE services SET tags = '{retired}' WHERE name = 'legacy-soap'")
    expect(
      await q("SELECT t.tags FROM tags t JOIN services s ON s.id = t.entity_id WHERE s.name = 'legacy-soap'"),
    ).toBe('{retired}')
    await q("DELETE FROM routes WHERE name = 'legacy-soap'")
    expect(await q("SELECT count(*) FROM tags WHERE entity_name = 'routes'")).toBe(
      await q('SELECT count(*) FROM routes'),
    )

    // The runtime tables exist and hold rows: the seed's, and the 100 generated ones.
    for (const table of KONG_RUNTIME_TABLES)
      expect(Number(await q(`SELECT count(*) FROM ${table}`))).toBeGreaterThan(0)
    const runtime = KONG_RUNTIME_TABLES.map((table) => `SELECT count(*) FROM ${table}`).join(' UNION ALL ')
    expect(Number(await q(`SELECT sum(count) FROM (${runtime}) AS counts`))).toBe(100 + 13)
  })

  it('stop() ends the server, removes its directory, and may be called again', async () => {
    const other = await startPostgres({ user: 'kong', password: 'p@ss word/1' })
    expect(other.url('kong')).toBe(`postgres://kong:p%40ss%20word%2F1@127.0.0.1:${other.port}/kong`)
    expect(await other.psql('SELECT current_user')).toBe('kong')
    await Promise.all([other.stop(), other.stop()])
    await other.stop()
    expect(isAlive(other.pid)).toBe(false)
    expect(existsSync(other.dir)).toBe(false)
    expect(await probe('127.0.0.1', other.port)).toBe('ECONNREFUSED')
  })
})

describe('startRedis', () => {
  const password = 'redis-test-password'
  let redis: RedisServer
  let scratch: string

  beforeAll(async () => {
    redis = await startRedis({ password })
    scratch = await mkdtemp(join(tmpdir(), 'deckhand-servers-test-'))
  })
  afterAll(async () => {
    await redis?.stop()
    if (scratch) await rm(scratch, { recursive: true, force: true })
  })

  it('wants its password', async () => {
    expect(redis.url(2)).toBe(`redis://:${password}@127.0.0.1:${redis.port}/2`)
    expect(await probe('127.0.0.1', redis.port, 'PING')).toMatch(/^-NOAUTH/)
    expect(await redis.cli(['PING'])).toBe('PONG')
    expect(await redis.cli(['CONFIG', 'GET', 'bind'])).toBe('bind\n127.0.0.1')
  })

  it('round-trips an RDB snapshot taken with redis-cli --rdb', async () => {
    await redis.cli(['SET', 'tyk:apikey-1', '{"org_id":"default","quota_max":1000}'])
    await redis.cli(['HSET', 'tyk:policy', 'rate', '100', 'per', '60'])
    await redis.cli(['RPUSH', 'tyk:analytics', 'a', 'b', 'c'])
    await redis.cli(['SADD', 'tyk:orgs', 'default', 'acme'])
    await redis.cli(['SET', 'tyk:session', 'x', 'EX', '3600'])
    const rdb = join(scratch, 'snapshot.rdb')
    await redis.cli(['--rdb', rdb])

    const restored = await startRedisFromRdb(rdb, { password })
    try {
      expect(restored.port).not.toBe(redis.port)
      expect(await restored.cli(['DBSIZE'])).toBe('5')
      expect(await restored.cli(['GET', 'tyk:apikey-1'])).toBe('{"org_id":"default","quota_max":1000}')
      expect(await restored.cli(['HGET', 'tyk:policy', 'per'])).toBe('60')
      expect(await restored.cli(['LRANGE', 'tyk:analytics', '0', '-1'])).toBe('a\nb\nc')
      expect(await restored.cli(['SISMEMBER', 'tyk:orgs', 'acme'])).toBe('1')
      expect(Number(await restored.cli(['TTL', 'tyk:session']))).toBeGreaterThan(3000)
    } finally {
      await restored.stop()
    }
    expect(isAlive(restored.pid)).toBe(false)
    expect(existsSync(restored.dir)).toBe(false)
  })

  it('starts without a password too', async () => {
    const open = await startRedis()
    try {
      expect(open.url()).toBe(`redis://127.0.0.1:${open.port}/0`)
      expect(await probe('127.0.0.1', open.port, 'PING')).toBe('+PONG')
    } finally {
      await open.stop()
      await open.stop()
    }
    expect(existsSync(open.dir)).toBe(false)
  })
})
