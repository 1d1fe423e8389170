// npm run demo [-- --out DIR]: the whole story on this machine, running the bundled CLI as a user does.
// 1 declarative backup of a sample two-workspace gateway (deck stand-in), secrets redacted into an age bundle;
// 2 drift commits into a throwaway git repository; 3 validate, plan and restore into an empty gateway;
// 4 a PostgreSQL db-dump, DROP DATABASE and db-restore. Everything is kept in one folder (default demo-output/);
// no network. Needs age, git and PostgreSQL (script/setup.sh); stops every server it started.
import { execFile } from 'node:child_process'
import { constants } from 'node:fs'
import { access, chmod, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { delimiter, dirname, isAbsolute, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

import { stringify } from 'yaml'

import { drift, emptyGateway, sampleGateway } from './demo/gateway.mjs'
import { loadKongDatabase } from './kong-db.mjs'
import { findPostgresBin, startPostgres, stopAll } from './servers.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const cli = join(root, 'dist/cli/index.js')
const DECK_DOUBLE = join(root, 'test/deck-double/deck')
const DOUBLE_RELEASE = '1.65.1'
const MARKER = '.deckhand-demo'
// Sized so that the whole demo stays under a minute on two busy cores (it runs in CI before the tests).
const CONFIG_ENTITIES = Number(process.env.DEMO_CONFIG_ENTITIES ?? 2_000)
const RUNTIME_ROWS = Number(process.env.DEMO_RUNTIME_ROWS ?? 50_000)
const LIVE_ADDR = 'http://127.0.0.1:8001'
const FRESH_ADDR = 'http://127.0.0.1:8002'

/**
 * The entity kinds deck dumps, as Kong's tables: what the demo calls configuration entities everywhere
 * (workspaces, tags, tokens, sessions and runtime rows are not configuration).
 */
const ENTITY_TABLES = [
  'services',
  'routes',
  'plugins',
  'consumers',
  'keyauth_credentials',
  'basicauth_credentials',
  'hmacauth_credentials',
  'jwt_secrets',
  'oauth2_credentials',
  'acls',
  'certificates',
  'snis',
  'ca_certificates',
  'upstreams',
  'targets',
  'key_sets',
  'keys',
  'sm_vaults',
  'filter_chains',
]
const ENTITY_COUNT_SQL = `SELECT ${ENTITY_TABLES.map((t) => `(SELECT count(*) FROM ${t})`).join(' + ')}`

class DemoError extends Error {}

const { values: options } = parseArgs({
  options: { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
})
if (options.help) {
  console.log('Usage: node script/demo.mjs [--out DIR]   (default DIR: demo-output/ in the repository)')
  process.exit(0)
}
const out = resolve(options.out ?? join(root, 'demo-output'))
const paths = {
  key: join(out, 'age/key.txt'),
  live: join(out, 'gateway/live.yaml'),
  fresh: join(out, 'gateway/restored.yaml'),
  origin: join(out, 'origin.git'),
  repo: join(out, 'config'),
  firstBackup: join(out, 'restore/first-backup'),
  check: join(out, 'restore/check'),
  plan: join(out, 'restore/plan.json'),
  db: join(out, 'db-backups'),
}

const say = (text = '') => process.stdout.write(`${text}\n`)
const started = performance.now()
let actStarted = started
const act = (n, title) => {
  if (n > 1) say(`   (act ${n - 1}: ${secs(performance.now() - actStarted)})`)
  actStarted = performance.now()
  say(`\n== Act ${n}: ${title}`)
}
const step = (text) => say(`-- ${text}`)
const indent = (text) => text.replace(/\s+$/, '').replace(/^/gm, '   ')
const n = (value) => Number(value).toLocaleString('en-US')
const secs = (ms) => `${(ms / 1000).toFixed(2)} s`
/** A path as the reader would type it: relative when under the current directory. */
const shown = (path) => {
  const rel = relative(process.cwd(), path)
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel
}
const quote = (arg) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`)

/** Programs running now, stopped on Ctrl-C. */
const children = new Set()

/** Runs a program; rejects with its stderr when it fails. */
function run(command, args, { cwd, env, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(
      command,
      args,
      { cwd, env: env ?? process.env, maxBuffer: 64 << 20, encoding: 'buffer' },
      (err, stdout, stderr) => {
        children.delete(child)
        if (err) {
          const detail = stderr.toString('utf8').trim() || err.message
          reject(
            new DemoError(
              `${command} ${args[0]} failed (exit ${err.code ?? err.signal}):\n${indent(detail)}`,
            ),
          )
        } else resolve({ stdout, stderr: stderr.toString('utf8') })
      },
    )
    children.add(child)
    child.stdin.on('error', () => {})
    child.stdin.end(input ?? '')
  })
}

/** Whether `name` is an executable on PATH. */
async function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    if (
      await access(join(dir, name), constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return true
  }
  return false
}

async function checkPrerequisites() {
  const missing = []
  for (const tool of ['age', 'age-keygen', 'git', 'pg_dump', 'pg_restore']) {
    if (!(await onPath(tool))) missing.push(tool)
  }
  if (
    !(await findPostgresBin().then(
      () => true,
      () => false,
    ))
  )
    missing.push('PostgreSQL server (initdb, pg_ctl)')
  if (
    !(await access(cli).then(
      () => true,
      () => false,
    ))
  ) {
    throw new DemoError(`${shown(cli)} is missing: run npm run build first`)
  }
  if (missing.length > 0) {
    throw new DemoError(`missing: ${missing.join(', ')}. Run script/setup.sh (as root) to install them.`)
  }
}

/**
 * Makes `out` the demo's own empty folder: created here, or emptied when an earlier run marked it as the demo's.
 * A folder holding anything else is refused and left as it is.
 */
async function prepareOutput() {
  const entries = await readdir(out).catch((err) => {
    if (err.code === 'ENOENT') return null
    throw err
  })
  if (entries !== null && entries.length > 0) {
    if (!entries.includes(MARKER)) {
      throw new DemoError(
        `${out} exists and was not made by the demo (no ${MARKER} in it): refusing to touch it. ` +
          'Remove it yourself or choose another folder with --out DIR.',
      )
    }
    for (const entry of entries) await rm(join(out, entry), { recursive: true, force: true })
  }
  await mkdir(out, { recursive: true })
  await writeFile(
    join(out, MARKER),
    'Written by script/demo.mjs (npm run demo): everything in this folder is replaced on the next run.\n',
  )
}

/** The environment of the CLI and of git: the caller's, without settings of theirs that would change the story. */
function childEnv(live, extra = {}) {
  const env = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (name.startsWith('GIT_')) continue
    if (!live && name.startsWith('DECKHAND_')) continue
    env[name] = value
  }
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    ...extra,
  }
}

function git(args, cwd = out) {
  return run('git', args, { cwd, env: childEnv(true) }).then(({ stdout }) => stdout.toString('utf8'))
}

/**
 * deckhand commits on top of the remote and never moves the checkout; its files already hold what was committed,
 * so the branch is moved to the remote's tip without touching them.
 */
async function catchUp() {
  await git(['fetch', '--quiet', 'origin'], paths.repo)
  await git(['reset', '--quiet', 'origin/main'], paths.repo)
}

async function writeYaml(file, doc) {
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, stringify(doc), { mode: 0o600 })
  await chmod(file, 0o600)
}

/** A throwaway PostgreSQL holding a Kong database of the configured size. */
async function prepareDatabase() {
  const pg = await startPostgres({ user: 'kong' })
  const loaded = await loadKongDatabase(pg, 'kong', {
    configEntities: CONFIG_ENTITIES,
    runtimeRows: RUNTIME_ROWS,
  })
  return { pg, loaded, entitiesBefore: Number(await pg.psql(ENTITY_COUNT_SQL, 'kong')) }
}

async function main() {
  await checkPrerequisites()
  await prepareOutput()
  // The database of act 4 is started and loaded while the declarative acts run.
  const database = prepareDatabase()
  database.catch(() => {}) // awaited in act 4; a failure before then is reported by the act that failed
  const live = Boolean(process.env.DECKHAND_KONG_ADDR) && (await onPath('deck'))
  const kongAddr = live ? process.env.DECKHAND_KONG_ADDR : LIVE_ADDR
  const deckArgs = live ? [] : ['--deck-path', DECK_DOUBLE]
  const liveEnv = live ? {} : { DECK_DOUBLE_GATEWAY: paths.live }

  /** Runs the deckhand CLI as a user would and prints its report; returns its outputs. */
  async function deckhand(args, { cwd = out, env = {}, allowFailure = false } = {}) {
    say(`   $ deckhand ${args.map((arg) => quote(arg.startsWith('/') ? shown(arg) : arg)).join(' ')}`)
    const started = performance.now()
    const result = await run(process.execPath, [cli, ...args, '--json'], {
      cwd,
      env: childEnv(live, env),
    }).catch((err) => {
      if (allowFailure) return null
      throw err
    })
    if (!result) return null
    if (result.stderr.trim()) say(indent(result.stderr))
    return { ...JSON.parse(result.stdout.toString('utf8')), ms: performance.now() - started }
  }

  say(`Output folder: ${out}`)
  say(
    live
      ? `deck: deck from PATH, against the gateway at ${kongAddr} (DECKHAND_KONG_ADDR); the demo only reads it`
      : `deck: deckhand's deck stand-in (follows deck v${DOUBLE_RELEASE}), serving a sample gateway`,
  )
  say(
    'Configuration entities: what deck dumps (services, routes, plugins, consumers, credentials, certificates,\n' +
      'SNIs, ...; nested ones included), never workspaces, tags or runtime rows.',
  )

  // ---------------------------------------------------------------------------------------------------------
  act(1, 'Declarative backup (deckhand dump, secrets redacted into an age bundle)')
  let gateway
  if (!live) {
    gateway = sampleGateway(LIVE_ADDR)
    await writeYaml(paths.live, gateway)
    say(`   sample gateway: ${shown(paths.live)} (its secrets made up just now)`)
  }
  await mkdir(dirname(paths.key), { recursive: true })
  await run('age-keygen', ['-o', paths.key])
  const recipient = (await run('age-keygen', ['-y', paths.key])).stdout.toString('utf8').trim()
  say(`   age key: ${shown(paths.key)} (recipient ${recipient})`)

  await git(['init', '--quiet', '--bare', '--initial-branch=main', paths.origin])
  await git(['clone', '--quiet', paths.origin, paths.repo])
  const kongDir = join(paths.repo, 'kong')
  const dumpArgs = [
    'dump',
    ...deckArgs,
    '--kong-addr',
    kongAddr,
    '--all-workspaces',
    '--output-dir',
    kongDir,
    '--age-recipients',
    recipient,
  ]
  const first = await deckhand(dumpArgs, { env: liveEnv })
  const byRule = Object.entries(JSON.parse(first['secrets-by-rule']))
    .filter(([, count]) => count > 0)
    .map(([rule, count]) => `${count} by ${rule}`)
  say(`   files written (${shown(kongDir)}):`)
  for (const file of (await readdir(kongDir)).sort()) say(`     ${file}`)
  say(
    `   ${first['entity-count']} configuration entities in workspaces ${first.workspaces.split('\n').join(', ')}`,
  )
  say(`   ${first['secrets-redacted']} secret values redacted (${byRule.join(', ') || 'none'})`)
  say(`   required-env.txt names them:`)
  say(indent(first['required-env']).replace(/^ {3}/gm, '     '))
  const opened = await run('age', ['-d', '-i', paths.key, first['secrets-bundle']])
  const bundleNames = Object.keys(JSON.parse(opened.stdout.toString('utf8')).variables)
  say(
    `   age -d -i ${shown(paths.key)} ${shown(first['secrets-bundle'])} opens it: ${bundleNames.length} variables`,
  )
  for (const name of bundleNames) say(`     ${name}`)

  // ---------------------------------------------------------------------------------------------------------
  act(2, 'Drift commit (deckhand commit into a git repository)')
  say(`   repository ${shown(paths.repo)}, its remote ${shown(paths.origin)}`)
  const author = ['--author-name', 'deckhand demo', '--author-email', 'demo@deckhand.invalid']
  const firstCommit = await deckhand(['commit', '--path', 'kong', ...author], { cwd: paths.repo })
  await catchUp()
  say(`   first backup committed: ${firstCommit['commit-sha'].slice(0, 12)}`)

  if (!live) {
    step('someone changes the gateway through the Admin API:')
    for (const change of drift(gateway)) say(`     ${change}`)
    await writeYaml(paths.live, gateway)
  } else step('a real gateway is only read: the second dump commits whatever drifted meanwhile')
  const second = await deckhand(dumpArgs, { env: liveEnv })
  const drifted = await deckhand(['commit', '--path', 'kong', ...author], { cwd: paths.repo })
  await catchUp()
  if (drifted.changed === 'true') {
    say('   the drift commit (git log -1 --format=%B --stat):')
    say(indent(await git(['log', '-1', '--format=%B', '--stat'], paths.repo)).replace(/^ {3}/gm, '     '))
  } else say('   nothing drifted: no commit')

  // ---------------------------------------------------------------------------------------------------------
  act(3, 'Restore (validate, plan, sync into an empty gateway)')
  // The identity goes through the environment, as in CI: options are visible in the process list.
  const identity = { DECKHAND_AGE_IDENTITY: paths.key }
  const valid = await deckhand(['validate', '--state', kongDir, ...deckArgs], { env: identity })
  say(
    `   valid: ${valid.valid}, ${valid.problems} problem(s), ${valid['plaintext-secrets']} secret(s) in plain text`,
  )

  step('rolling the drift back: the first backup, planned against the changed gateway')
  await mkdir(paths.firstBackup, { recursive: true })
  const archive = await run('git', ['archive', '--format=tar', 'HEAD~1', 'kong'], {
    cwd: paths.repo,
    env: childEnv(true),
  })
  await run('tar', ['-x', '-C', paths.firstBackup], { input: archive.stdout })
  const firstDir = join(paths.firstBackup, 'kong')
  const plan = await deckhand(
    ['diff', '--state', firstDir, ...deckArgs, '--kong-addr', kongAddr, '--plan-file', paths.plan],
    { env: { ...liveEnv, ...identity } },
  )
  const planSummary = `${plan.creating} to create, ${plan.updating} to update, ${plan.deleting} to delete`
  say(`   plan: ${planSummary}`)
  const mark = { create: '+', update: '~', delete: '-' }
  for (const target of JSON.parse(await readFile(paths.plan, 'utf8')).targets) {
    for (const change of target.changes) {
      const fields = (change.fields ?? []).map((f) => `; ${f.path}: ${f.old} → ${f.new}`).join('')
      say(
        `     ${mark[change.action] ?? change.action} ${target.workspace}: ${change.kind} ${change.name}${fields}`,
      )
    }
  }
  say(`   plan file (secrets masked): ${shown(paths.plan)}`)

  let restored = null
  if (!live) {
    step('disaster: a freshly installed gateway; the latest backup synced into it')
    await writeYaml(paths.fresh, emptyGateway(FRESH_ADDR))
    const freshEnv = { DECK_DOUBLE_GATEWAY: paths.fresh }
    const sync = await deckhand(['sync', '--state', kongDir, ...deckArgs, '--kong-addr', FRESH_ADDR], {
      env: { ...freshEnv, ...identity },
    })
    say(`   applied: ${sync.applied}`)
    step('proof: the restored gateway dumped again, compared with the backup')
    restored = await deckhand(
      ['dump', ...deckArgs, '--kong-addr', FRESH_ADDR, '--all-workspaces', '--output-dir', paths.check],
      { env: freshEnv },
    )
    const same = restored.digest === second.digest
    say(
      `   ${restored['entity-count']} configuration entities restored (backup: ${second['entity-count']}); ` +
        `digest ${same ? 'identical' : 'DIFFERENT'}`,
    )
    if (!same || restored['entity-count'] !== second['entity-count']) {
      throw new DemoError('the restored gateway differs from the backup')
    }
  }

  // ---------------------------------------------------------------------------------------------------------
  act(4, 'Database backup and restore (db-dump, DROP DATABASE, db-restore --create)')
  const { pg, loaded, entitiesBefore } = await database
  say(`   throwaway PostgreSQL on 127.0.0.1:${pg.port}`)
  say(
    `   Kong database: ${n(entitiesBefore)} configuration entities, ${n(loaded.rows)} rows in ${loaded.tables} tables ` +
      `(DEMO_CONFIG_ENTITIES=${CONFIG_ENTITIES}, DEMO_RUNTIME_ROWS=${RUNTIME_ROWS})`,
  )
  const dbEnv = (db) => ({ DECKHAND_DATABASE_URL: pg.url(db) })
  const dump = await deckhand(['db-dump', '--output-dir', paths.db], { env: dbEnv('kong') })
  step('the disaster: DROP DATABASE kong')
  await pg.psql('DROP DATABASE kong WITH (FORCE)')
  const restore = await deckhand(['db-restore', '--input', dump.path, '--create'], { env: dbEnv('postgres') })
  const entitiesAfter = Number(await pg.psql(ENTITY_COUNT_SQL, 'kong'))
  const dbOk = restore.verified === 'true' && entitiesAfter === entitiesBefore
  say(
    `   verified: ${restore.verified}; ${n(restore.rows)} rows in ${restore.tables} tables checked against the ` +
      `manifest; ${n(entitiesAfter)} configuration entities after (before: ${n(entitiesBefore)})`,
  )
  await stopAll()
  if (!dbOk) throw new DemoError('the restored database differs from the one backed up')

  // ---------------------------------------------------------------------------------------------------------
  say(`   (act 4: ${secs(performance.now() - actStarted)})`)
  say('\n== Report')
  const rows = [
    [
      'deck',
      live ? `deck from PATH, gateway ${kongAddr}` : `deck stand-in (deck v${DOUBLE_RELEASE} behaviour)`,
    ],
    [
      'backup',
      `${first['entity-count']} configuration entities, ${first['secrets-redacted']} secrets redacted into secrets.age`,
    ],
    [
      'drift',
      drifted.changed === 'true'
        ? `${drifted.added} added, ${drifted['changed-entities']} changed, ${drifted.removed} removed; ` +
          `${second['entity-count']} configuration entities now`
        : 'none',
    ],
    [
      'restore',
      restored
        ? `${restored['entity-count']} configuration entities synced into an empty gateway, identical`
        : `planned only: ${planSummary}`,
    ],
    [
      'database',
      `${n(entitiesAfter)} configuration entities restored and verified (${n(restore.rows)} rows checked); ` +
        `db-dump ${secs(dump.ms)}, db-restore ${secs(restore.ms)}`,
    ],
  ]
  for (const [key, value] of rows) say(`   ${key.padEnd(10)} ${value}`)
  say('\n   Where everything is:')
  const where = [
    ['dumped files', shown(kongDir), `ls ${shown(kongDir)}`],
    ['drift commits', shown(paths.repo), `git -C ${shown(paths.repo)} log --stat`],
    [
      'secret bundle',
      shown(first['secrets-bundle']),
      `node ${shown(cli)} secrets list --bundle ${shown(first['secrets-bundle'])} --age-identity-file ${shown(paths.key)}`,
    ],
    ['restore plan', shown(paths.plan), `cat ${shown(paths.plan)}`],
    ['database backup', shown(dump.path), `cat ${shown(join(dump.path, 'manifest.json'))}`],
  ]
  if (!live)
    where.splice(1, 0, ['sample gateway', shown(paths.live), `cat ${shown(paths.live)}  (holds its secrets)`])
  for (const [what, path, command] of where)
    say(`   ${what.padEnd(16)} ${path}\n   ${''.padEnd(16)} $ ${command}`)
}

let interrupted = false
const interrupt = (signal) => {
  if (interrupted) return
  interrupted = true
  console.error(`\ndemo interrupted (${signal}): stopping its servers`)
  for (const child of children) child.kill('SIGTERM')
  stopAll().finally(() => process.exit(130))
}
process.once('SIGINT', interrupt)
process.once('SIGTERM', interrupt)
try {
  await main()
  say(`\nresult: backed up, committed, restored and verified in ${secs(performance.now() - started)}`)
} catch (err) {
  process.exitCode = 1
  console.error(`\ndemo failed: ${err instanceof DemoError ? err.message : (err?.stack ?? err)}`)
} finally {
  await stopAll()
}
