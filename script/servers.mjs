// Throwaway PostgreSQL and Redis servers for the tests, the benchmark and the demo: each server gets a fresh
// temporary directory, a free loopback port and a password, and is gone (process and directory) after stop().
//
// PostgreSQL refuses to run as root. When this process is root (CI containers), initdb and postgres run as the
// `postgres` system user, or `nobody` where there is none, and the temporary directory is handed to that user.
//
// A process that exits without stopping its servers SIGKILLs them from an 'exit' hook (and on SIGINT, SIGTERM
// and SIGHUP). Jest runs test files in a sandbox whose `process` never emits those events, so the test suite
// relies on afterAll hooks and on its global teardown (cleanupLeftovers) instead.
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import fsp from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

/** Name prefixes of the temporary directories under os.tmpdir(). */
export const POSTGRES_DIR_PREFIX = 'deckhand-pg-'
export const REDIS_DIR_PREFIX = 'deckhand-redis-'

const HOST = '127.0.0.1'
const OWNER_FILE = 'owner.pid'
const REDIS_PID_FILE = 'redis.pid'
const START_TIMEOUT_MS = 60_000
const STOP_GRACE_MS = 10_000
const PORT_ATTEMPTS = 5
const SETUP_HINT = 'run script/setup.sh (as root) to install it'

/**
 * @typedef {object} ServerRecord
 * @property {'postgres' | 'redis'} kind
 * @property {string} dir
 * @property {import('node:child_process').ChildProcess | null} child
 * @property {Promise<void> | null} exited
 * @property {Promise<void> | null} stopping
 */

/** @type {Set<ServerRecord>} servers this process started and has not stopped yet */
const running = new Set()

// ---------------------------------------------------------------------------------------------------------------
// Small helpers

/**
 * Runs a command to completion, feeding `input` on stdin.
 * @param {string} command
 * @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, input?: string, cwd?: string, uid?: number, gid?: number }} [options]
 * @returns {Promise<{ code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string }>}
 */
function run(command, args, options = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      uid: options.uid,
      gid: options.gid,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    /** @type {Buffer[]} */
    const out = []
    /** @type {Buffer[]} */
    const err = []
    child.stdout.on('data', (chunk) => out.push(chunk))
    child.stderr.on('data', (chunk) => err.push(chunk))
    // The command may exit before reading all its input (an error stops psql): that is not our error.
    child.stdin.on('error', () => {})
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    )
    child.stdin.end(options.input ?? '')
  })
}

/** @param {number} ms */
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** @param {string} file */
async function isExecutable(file) {
  try {
    await fsp.access(file, fs.constants.X_OK)
    return (await fsp.stat(file)).isFile()
  } catch {
    return false
  }
}

/**
 * The first `name` on PATH, then in the given fallback directories.
 * @param {string} name
 * @param {string[]} [fallbacks]
 */
async function which(name, fallbacks = []) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...fallbacks]
  for (const dir of dirs) {
    const file = path.join(dir, name)
    if (await isExecutable(file)) return file
  }
  return null
}

/** A TCP port that was free on the loopback interface a moment ago. */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** A random password: 24 URL-safe characters. */
const randomPassword = () => randomBytes(18).toString('base64url')

/** The environment without the caller's libpq and redis-cli settings, which must not leak into ours. */
function baseEnv() {
  /** @type {Record<string, string>} */
  const env = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined || key.startsWith('PG') || key.startsWith('REDISCLI_')) continue
    env[key] = value
  }
  return env
}

/** The last lines of a log file, for error messages. */
async function logTail(file, lines = 30) {
  try {
    const text = await fsp.readFile(file, 'utf8')
    return text.trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/**
 * Whether a process exists and has not died; a zombie (dead, not yet reaped) counts as dead.
 * @param {number} pid
 */
function isAlive(pid) {
  try {
    process.kill(pid, 0)
  } catch (error) {
    if (/** @type {NodeJS.ErrnoException} */ (error).code !== 'EPERM') return false
  }
  try {
    // /proc/<pid>/stat: "pid (comm) state …"; comm may hold spaces and parentheses.
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true // no /proc: trust kill(0)
  }
}

/**
 * The unprivileged user to run PostgreSQL as when this process is root, else null.
 * @returns {Promise<{ name: string, uid: number, gid: number } | null>}
 */
async function serverUser() {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null
  const passwd = await fsp.readFile('/etc/passwd', 'utf8').catch(() => '')
  const users = new Map(
    passwd
      .split('\n')
      .map((line) => line.split(':'))
      .filter((fields) => fields.length >= 4)
      .map(([name, , uid, gid]) => [name, { name, uid: Number(uid), gid: Number(gid) }]),
  )
  const user = users.get('postgres') ?? users.get('nobody')
  if (!user)
    throw new Error('PostgreSQL cannot run as root, and there is no postgres or nobody user to run it as')
  return user
}

/**
 * Fails early, and clearly, when other users cannot reach `dir` (a private TMPDIR under /root, say): PostgreSQL
 * would run as one of them.
 * @param {string} dir
 */
async function checkReachable(dir) {
  for (let d = path.dirname(dir); ; d = path.dirname(d)) {
    const { mode } = await fsp.stat(d)
    if ((mode & 0o001) === 0) {
      throw new Error(
        `PostgreSQL runs as an unprivileged user here (this process is root), which cannot enter ${d}; ` +
          'point TMPDIR at a directory others can enter, such as /tmp',
      )
    }
    if (d === path.dirname(d)) return
  }
}

/** Records which process owns a server directory, so that cleanupLeftovers spares live ones. */
async function makeServerDir(prefix) {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), prefix))
  await fsp.writeFile(path.join(dir, OWNER_FILE), `${process.pid}\n`)
  return dir
}

// ---------------------------------------------------------------------------------------------------------------
// Process bookkeeping

let hooked = false

/** SIGKILLs every server still running and removes its directory; synchronous, for 'exit' and signals. */
function killAllSync() {
  for (const record of running) {
    try {
      record.child?.kill('SIGKILL')
    } catch {
      // already gone
    }
    try {
      fs.rmSync(record.dir, { recursive: true, force: true, maxRetries: 3 })
    } catch {
      // cleanupLeftovers gets another chance
    }
  }
  running.clear()
}

function installHooks() {
  if (hooked) return
  hooked = true
  process.on('exit', killAllSync)
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    const onSignal = () => {
      killAllSync()
      process.removeListener(signal, onSignal)
      // Nobody else handles it: die of it, as the process would have without us.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
    }
    process.on(signal, onSignal)
  }
}

/**
 * Tracks a spawned server.
 * @param {ServerRecord} record
 * @param {import('node:child_process').ChildProcess} child
 */
function track(record, child) {
  installHooks()
  // A script that forgets stop() still ends; its 'exit' hook then kills the server.
  child.unref()
  record.child = child
  record.exited = new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve()
    else child.once('exit', () => resolve())
  })
  running.add(record)
}

/** @param {ServerRecord} record */
const hasExited = (record) =>
  !record.child || record.child.exitCode !== null || record.child.signalCode !== null

/**
 * Stops a server: `signal`, then SIGKILL after STOP_GRACE_MS; then removes its directory. Idempotent.
 * @param {ServerRecord} record
 * @param {NodeJS.Signals} signal
 */
function stopRecord(record, signal) {
  record.stopping ??= (async () => {
    const child = record.child
    if (child && record.exited && !hasExited(record)) {
      child.kill(signal)
      /** @type {NodeJS.Timeout | undefined} */
      let timer
      const grace = new Promise((resolve) => (timer = setTimeout(() => resolve('timeout'), STOP_GRACE_MS)))
      const outcome = await Promise.race([record.exited.then(() => 'exited'), grace])
      clearTimeout(timer)
      if (outcome === 'timeout') {
        child.kill('SIGKILL')
        await record.exited
      }
    }
    running.delete(record)
    await fsp.rm(record.dir, { recursive: true, force: true, maxRetries: 5 })
  })()
  return record.stopping
}

/** Stops every server this process started and has not stopped yet. */
export async function stopAll() {
  await Promise.all(
    [...running].map((record) => stopRecord(record, record.kind === 'postgres' ? 'SIGINT' : 'SIGTERM')),
  )
}

// ---------------------------------------------------------------------------------------------------------------
// PostgreSQL

/**
 * The directory holding initdb, postgres and pg_ctl: $DECKHAND_TEST_PG_BIN, else the newest
 * /usr/lib/postgresql/<version>/bin (Debian, Ubuntu), else where initdb or postgres is found on PATH.
 * @returns {Promise<string>}
 */
export async function findPostgresBin() {
  const fromEnv = process.env.DECKHAND_TEST_PG_BIN
  if (fromEnv) {
    if (!(await isExecutable(path.join(fromEnv, 'postgres')))) {
      throw new Error(`DECKHAND_TEST_PG_BIN=${fromEnv} holds no postgres executable`)
    }
    return fromEnv
  }
  const debian = '/usr/lib/postgresql'
  const versions = (await fsp.readdir(debian).catch(() => []))
    .filter((name) => /^\d+(\.\d+)?$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
  for (const version of versions) {
    const bin = path.join(debian, version, 'bin')
    if ((await isExecutable(path.join(bin, 'initdb'))) && (await isExecutable(path.join(bin, 'postgres')))) {
      return bin
    }
  }
  for (const name of ['initdb', 'postgres']) {
    const found = await which(name)
    if (!found) continue
    const bin = path.dirname(await fsp.realpath(found))
    if ((await isExecutable(path.join(bin, 'initdb'))) && (await isExecutable(path.join(bin, 'postgres')))) {
      return bin
    }
  }
  throw new Error(
    `PostgreSQL server binaries (initdb, postgres) not found; ${SETUP_HINT}, or set DECKHAND_TEST_PG_BIN`,
  )
}

/** A client tool from the server's bin directory, else from PATH. */
async function pgTool(binDir, name) {
  const local = path.join(binDir, name)
  if (await isExecutable(local)) return local
  const found = await which(name)
  if (!found) throw new Error(`${name} not found next to the PostgreSQL server or on PATH; ${SETUP_HINT}`)
  return found
}

/**
 * Starts a PostgreSQL server of its own: a fresh cluster in a temporary directory, listening on 127.0.0.1 only,
 * password (SCRAM) authentication for TCP connections.
 * @param {{ user?: string, password?: string }} [options]
 * @returns {Promise<import('./servers.d.mts').PostgresServer>}
 */
export async function startPostgres(options = {}) {
  const binDir = await findPostgresBin()
  const [psqlBin, isReadyBin] = await Promise.all([pgTool(binDir, 'psql'), pgTool(binDir, 'pg_isready')])
  const user = options.user ?? 'deckhand'
  const password = options.password ?? randomPassword()
  const runAs = await serverUser()
  const ids = runAs ? { uid: runAs.uid, gid: runAs.gid } : {}

  const dir = await makeServerDir(POSTGRES_DIR_PREFIX)
  /** @type {ServerRecord} */
  const record = { kind: 'postgres', dir, child: null, exited: null, stopping: null }
  const dataDir = path.join(dir, 'data')
  const socketDir = path.join(dir, 'socket')
  const logFile = path.join(dir, 'postgres.log')
  // The servers' own environment: nothing of the caller's libpq settings, C locale, run from their directory.
  const serverEnv = { ...baseEnv(), LC_ALL: 'C', LANG: 'C', HOME: dir }

  try {
    await fsp.mkdir(socketDir, { mode: 0o700 })
    if (runAs) {
      await checkReachable(dir)
      await fsp.chown(dir, runAs.uid, runAs.gid)
      await fsp.chown(socketDir, runAs.uid, runAs.gid)
    }

    // The password reaches initdb in a file only its user can read, never on a command line.
    const pwFile = path.join(dir, 'pwfile')
    await fsp.writeFile(pwFile, `${password}\n`, { mode: 0o600 })
    if (runAs) await fsp.chown(pwFile, runAs.uid, runAs.gid)
    let init
    try {
      init = await run(
        path.join(binDir, 'initdb'),
        [
          '-D',
          dataDir,
          '-U',
          user,
          `--pwfile=${pwFile}`,
          '--auth-host=scram-sha-256',
          '--auth-local=trust',
          '--no-sync',
          '-E',
          'UTF8',
          '--locale=C',
        ],
        { env: serverEnv, cwd: dir, ...ids },
      )
    } finally {
      await fsp.rm(pwFile, { force: true })
    }
    if (init.code !== 0) {
      throw new Error(
        `initdb failed (exit ${init.code ?? init.signal}):\n${(init.stderr || init.stdout).trim()}`,
      )
    }

    let port = 0
    for (let attempt = 1; ; attempt++) {
      port = await freePort()
      const log = fs.openSync(logFile, 'a')
      let child
      try {
        child = spawn(
          path.join(binDir, 'postgres'),
          [
            '-D',
            dataDir,
            '-p',
            String(port),
            '-c',
            `listen_addresses=${HOST}`,
            '-c',
            `unix_socket_directories=${socketDir}`,
            '-c',
            'unix_socket_permissions=0700',
            '-c',
            'fsync=off',
            '-c',
            'synchronous_commit=off',
            '-c',
            'full_page_writes=off',
            '-c',
            'max_connections=40',
            '-c',
            'timezone=UTC',
            '-c',
            'log_timezone=UTC',
          ],
          { env: serverEnv, cwd: dir, stdio: ['ignore', log, log], ...ids },
        )
      } finally {
        fs.closeSync(log)
      }
      track(record, child)
      const outcome = await waitForPostgres(record, isReadyBin, port, serverEnv)
      if (outcome === 'ready') break
      const tail = await logTail(logFile)
      if (outcome === 'exited' && /could not (bind|create listen)|address already in use/i.test(tail)) {
        if (attempt < PORT_ATTEMPTS) {
          running.delete(record)
          continue
        }
      }
      throw new Error(
        outcome === 'timeout'
          ? `PostgreSQL did not accept connections on ${HOST}:${port} within ${START_TIMEOUT_MS / 1000} s; log:\n${tail}`
          : `PostgreSQL exited while starting; log:\n${tail}`,
      )
    }

    /** @param {string} [database] */
    const env = (database = 'postgres') => ({
      PGHOST: HOST,
      PGPORT: String(port),
      PGUSER: user,
      PGPASSWORD: password,
      PGDATABASE: database,
    })
    /**
     * @param {string[]} args
     * @param {string} database
     * @param {string} [input]
     */
    const runPsql = async (args, database, input) => {
      const result = await run(psqlBin, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', ...args], {
        env: { ...baseEnv(), ...env(database), PGCONNECT_TIMEOUT: '10' },
        input,
      })
      if (result.code !== 0) {
        throw new Error(result.stderr.trim() || `psql exited with ${result.code ?? result.signal}`)
      }
      return result.stdout.trim()
    }

    return {
      host: HOST,
      port,
      user,
      password,
      binDir,
      dir,
      dataDir,
      logFile,
      pid: /** @type {number} */ (record.child?.pid),
      url: (database = 'postgres') =>
        `postgres://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${HOST}:${port}/${encodeURIComponent(database)}`,
      env,
      psql: (sql, database = 'postgres') => runPsql([], database, sql),
      psqlFile: (file, database = 'postgres') => runPsql(['-f', path.resolve(file)], database),
      stop: () => stopRecord(record, 'SIGINT'),
    }
  } catch (error) {
    await stopRecord(record, 'SIGINT').catch(() => {})
    throw error
  }
}

/**
 * Polls pg_isready until the server accepts connections, exits, or START_TIMEOUT_MS passes.
 * @param {ServerRecord} record
 * @param {string} isReadyBin
 * @param {number} port
 * @param {NodeJS.ProcessEnv} env
 * @returns {Promise<'ready' | 'exited' | 'timeout'>}
 */
async function waitForPostgres(record, isReadyBin, port, env) {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (hasExited(record)) return 'exited'
    const { code } = await run(isReadyBin, ['-q', '-h', HOST, '-p', String(port), '-t', '2'], { env })
    if (code === 0) return 'ready'
    if (hasExited(record)) return 'exited'
    await sleep(100)
  }
  return 'timeout'
}

// ---------------------------------------------------------------------------------------------------------------
// Redis

async function redisTool(name) {
  const found = await which(name, ['/usr/bin', '/usr/local/bin'])
  if (!found) throw new Error(`${name} not found; ${SETUP_HINT}`)
  return found
}

/** A value for a redis.conf line, quoted the way Redis reads it. */
const redisQuote = (value) => `"${value.replace(/[\\"]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`

/**
 * Starts a Redis server of its own on 127.0.0.1, with no persistence of its own (`save ''`, no AOF).
 * @param {{ password?: string }} [options]
 * @returns {Promise<import('./servers.d.mts').RedisServer>}
 */
export async function startRedis(options = {}) {
  return startRedisIn(await makeServerDir(REDIS_DIR_PREFIX), options)
}

/**
 * Starts a Redis server whose data directory holds a copy of `rdbFile` as dump.rdb, which it loads at start.
 * @param {string} rdbFile
 * @param {{ password?: string }} [options]
 * @returns {Promise<import('./servers.d.mts').RedisServer>}
 */
export async function startRedisFromRdb(rdbFile, options = {}) {
  const dir = await makeServerDir(REDIS_DIR_PREFIX)
  try {
    await fsp.copyFile(rdbFile, path.join(dir, 'dump.rdb'))
  } catch (error) {
    await fsp.rm(dir, { recursive: true, force: true })
    throw error
  }
  return startRedisIn(dir, options)
}

/**
 * @param {string} dir
 * @param {{ password?: string }} options
 * @returns {Promise<import('./servers.d.mts').RedisServer>}
 */
async function startRedisIn(dir, options) {
  /** @type {ServerRecord} */
  const record = { kind: 'redis', dir, child: null, exited: null, stopping: null }
  const password = options.password
  const logFile = path.join(dir, 'redis.log')
  try {
    const [serverBin, cliBin] = await Promise.all([redisTool('redis-server'), redisTool('redis-cli')])
    // The password goes in a file only we can read, never on a command line (where ps shows it).
    const confFile = path.join(dir, 'redis.conf')
    await fsp.writeFile(
      confFile,
      password === undefined ? '# no password\n' : `requirepass ${redisQuote(password)}\n`,
      { mode: 0o600 },
    )

    let port = 0
    for (let attempt = 1; ; attempt++) {
      port = await freePort()
      const child = spawn(
        serverBin,
        [
          confFile,
          '--bind',
          HOST,
          '--port',
          String(port),
          '--dir',
          dir,
          '--dbfilename',
          'dump.rdb',
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'no',
          '--protected-mode',
          'yes',
          // redis-cli --rdb (a replica's full sync) starts at once, not after the default 5 s wait for more replicas.
          '--repl-diskless-sync-delay',
          '0',
          '--logfile',
          logFile,
        ],
        { env: baseEnv(), cwd: dir, stdio: 'ignore' },
      )
      track(record, child)
      if (child.pid) await fsp.writeFile(path.join(dir, REDIS_PID_FILE), `${child.pid}\n`)
      const outcome = await waitForRedis(record, port)
      if (outcome === 'ready') break
      const tail = await logTail(logFile)
      if (outcome === 'exited' && /address already in use/i.test(tail) && attempt < PORT_ATTEMPTS) {
        running.delete(record)
        continue
      }
      throw new Error(
        outcome === 'timeout'
          ? `Redis did not answer on ${HOST}:${port} within ${START_TIMEOUT_MS / 1000} s; log:\n${tail}`
          : `Redis exited while starting; log:\n${tail}`,
      )
    }

    const auth = password === undefined ? '' : `:${encodeURIComponent(password)}@`
    return {
      host: HOST,
      port,
      password,
      dir,
      rdbFile: path.join(dir, 'dump.rdb'),
      logFile,
      pid: /** @type {number} */ (record.child?.pid),
      url: (db = 0) => `redis://${auth}${HOST}:${port}/${db}`,
      cli: async (args) => {
        const env = baseEnv()
        if (password !== undefined) env.REDISCLI_AUTH = password
        const result = await run(cliBin, ['-h', HOST, '-p', String(port), ...args], { env })
        if (result.code !== 0) {
          throw new Error(
            result.stderr.trim() || result.stdout.trim() || `redis-cli exited with ${result.code}`,
          )
        }
        return result.stdout.trim()
      },
      stop: () => stopRecord(record, 'SIGTERM'),
    }
  } catch (error) {
    await stopRecord(record, 'SIGTERM').catch(() => {})
    throw error
  }
}

/**
 * Sends PING until Redis answers (PONG, or NOAUTH when it wants a password; not LOADING), exits, or times out.
 * @param {ServerRecord} record
 * @param {number} port
 * @returns {Promise<'ready' | 'exited' | 'timeout'>}
 */
async function waitForRedis(record, port) {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    if (hasExited(record)) return 'exited'
    const reply = await new Promise((resolve) => {
      const socket = net.connect({ host: HOST, port })
      let data = ''
      const done = (/** @type {string} */ value) => {
        socket.destroy()
        resolve(value)
      }
      socket.setTimeout(1000, () => done(''))
      socket.on('error', () => done(''))
      socket.on('connect', () => socket.write('PING\r\n'))
      socket.on('data', (chunk) => {
        data += chunk.toString('utf8')
        if (data.includes('\r\n')) done(data)
      })
    })
    if (/^(\+PONG|-NOAUTH)/.test(/** @type {string} */ (reply))) return 'ready'
    await sleep(50)
  }
  return 'timeout'
}

// ---------------------------------------------------------------------------------------------------------------
// Leftovers

/** @param {number} pid */
async function commandLine(pid) {
  try {
    return (await fsp.readFile(`/proc/${pid}/cmdline`, 'utf8')).replace(/\0/g, ' ')
  } catch {
    return null
  }
}

/**
 * Kills the servers of dead processes and removes their directories: what a crashed or killed run left under
 * os.tmpdir(). Directories whose owning process is still alive (another test run, a benchmark) are left alone,
 * except the current process's own. Returns the directories removed.
 * @returns {Promise<string[]>}
 */
export async function cleanupLeftovers() {
  const tmp = os.tmpdir()
  const names = (await fsp.readdir(tmp).catch(() => [])).filter(
    (name) => name.startsWith(POSTGRES_DIR_PREFIX) || name.startsWith(REDIS_DIR_PREFIX),
  )
  /** @type {string[]} */
  const removed = []
  for (const name of names) {
    const dir = path.join(tmp, name)
    const stat = await fsp.lstat(dir).catch(() => null)
    if (!stat?.isDirectory()) continue
    const owner = Number((await fsp.readFile(path.join(dir, OWNER_FILE), 'utf8').catch(() => '')).trim())
    if (owner > 0 ? owner !== process.pid && isAlive(owner) : Date.now() - stat.mtimeMs < 60_000) continue

    const postgres = name.startsWith(POSTGRES_DIR_PREFIX)
    const pidFile = postgres ? path.join(dir, 'data', 'postmaster.pid') : path.join(dir, REDIS_PID_FILE)
    const pid = Number((await fsp.readFile(pidFile, 'utf8').catch(() => '')).split('\n')[0]?.trim())
    if (pid > 0) {
      // Only kill what is still that server (pids are reused): postgres' command line names its data directory.
      const cmdline = await commandLine(pid)
      const ours = postgres ? cmdline?.includes(dir) : cmdline?.includes('redis-server')
      if (ours) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone meanwhile
        }
        for (let i = 0; i < 50 && isAlive(pid); i++) await sleep(20)
      }
    }
    await fsp.rm(dir, { recursive: true, force: true, maxRetries: 5 })
    removed.push(dir)
  }
  return removed
}
