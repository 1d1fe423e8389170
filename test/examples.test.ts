// The example workflows run as copied: each opens with the list of what it needs, and that list is checked
// against the workflow itself. The format (one entry per line, wrapped lines indented further):
//
//   # Requires:
//   #   vars.NAME          [(optional)] what it holds
//   #   secrets.NAME       [(optional)] what it holds; NAME may hold a <PLACEHOLDER> for secrets[format(...)]
//   #   runner: self-hosted vars.NAME [(optional)] why this runner must be self-hosted (declares vars.NAME too)
//   #   runner: ubuntu-latest … (on which runners the rest works, and how to choose another)
//   #   permissions: scope: level[, scope: level] (why)
//
// Optional job and step conditions are evaluated with GitHub's expression evaluator (@actions/expressions, the
// package @actions/workflow-parser parses them with).
import { describe, expect, test } from '@jest/globals'
import { data, Evaluator, Lexer, Parser } from '@actions/expressions'
import { truthy } from '@actions/expressions/result'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parse } from 'yaml'

import { ROOT } from './support/action.js'

const PIN_COMMENT =
  '# Pin to an immutable release (@v1.0.0) or a full commit SHA; @v1 follows every 1.x release.'
const HOSTED = /^(ubuntu|windows|macos)-[a-z0-9.-]+$/
const LEVELS = ['none', 'read', 'write'] as const
type Level = (typeof LEVELS)[number]

interface Requirement {
  kind: 'vars' | 'secrets'
  name: string
  optional: boolean
  description: string
  selfHosted: boolean
}

interface Header {
  requirements: Requirement[]
  runnerNotes: string[]
  permissions: Map<string, Level> | undefined
  errors: string[]
}

/** Reads the requirements list that opens a workflow file; errors name the lines it cannot read. */
function parseHeader(text: string): Header {
  const lines = text.split('\n')
  const header: Header = { requirements: [], runnerNotes: [], permissions: undefined, errors: [] }
  if (lines[0] !== '# Requires:') {
    header.errors.push('the file does not open with "# Requires:"')
    return header
  }
  const entries: string[] = []
  for (const line of lines.slice(1)) {
    const entry = /^# {3}(\S.*)$/.exec(line)
    const more = /^# {5,}(\S.*)$/.exec(line)
    if (entry) entries.push(entry[1]!.trim())
    else if (more && entries.length > 0) entries[entries.length - 1] += ` ${more[1]!.trim()}`
    else break
  }
  for (const entry of entries) {
    const variable =
      /^(vars|secrets)\.([A-Z][A-Z0-9_]*(?:<[A-Z]+>[A-Z0-9_]*)?)\s+(\(optional\)\s+)?(\S.*)$/.exec(entry)
    const selfHosted = /^runner: self-hosted vars\.([A-Z][A-Z0-9_]*)\s+(\(optional\)\s+)?(\S.*)$/.exec(entry)
    const runner = /^runner: (?!self-hosted\b)(\S.*)$/.exec(entry)
    const permissions = /^permissions: (\S.*)$/.exec(entry)
    if (variable) {
      header.requirements.push({
        kind: variable[1] as 'vars' | 'secrets',
        name: variable[2]!,
        optional: variable[3] !== undefined,
        description: variable[4]!,
        selfHosted: false,
      })
    } else if (selfHosted) {
      header.requirements.push({
        kind: 'vars',
        name: selfHosted[1]!,
        optional: selfHosted[2] !== undefined,
        description: selfHosted[3]!,
        selfHosted: true,
      })
    } else if (runner) {
      header.runnerNotes.push(runner[1]!)
    } else if (permissions) {
      header.permissions = new Map()
      for (const [, scope, level] of permissions[1]!.matchAll(/([a-z-]+): (none|read|write)\b/g))
        header.permissions.set(scope!, level as Level)
      if (header.permissions.size === 0) header.errors.push(`no scope: level in "${entry}"`)
    } else {
      header.errors.push(`unreadable requirement "${entry}"`)
    }
  }
  return header
}

interface Reference {
  kind: 'vars' | 'secrets'
  name: string
  /** Compared, defaulted or tested for truth: the workflow runs on when it is unset. */
  guarded: boolean
}

/** The expressions of a parsed workflow: every ${{ }} in its strings, and every if: (an expression as is). */
function expressions(node: unknown, key?: string): string[] {
  if (typeof node === 'string') {
    const found = [...node.matchAll(/\$\{\{([\s\S]*?)\}\}/g)].map((m) => m[1]!)
    return key === 'if' && found.length === 0 ? [node] : found
  }
  if (Array.isArray(node)) return node.flatMap((n) => expressions(n))
  if (node && typeof node === 'object') return Object.entries(node).flatMap(([k, v]) => expressions(v, k))
  return []
}

function references(workflow: unknown): { refs: Reference[]; dynamicSecrets: string[] } {
  const refs: Reference[] = []
  const dynamicSecrets: string[] = []
  for (const expression of expressions(workflow)) {
    for (const m of expression.matchAll(
      /(?<![\w.])(vars|secrets)\.([A-Za-z_][A-Za-z0-9_]*)(\s*(?:\|\||&&|[!=]=))?/g,
    )) {
      if (m[1] === 'secrets' && m[2]!.toUpperCase() === 'GITHUB_TOKEN') continue
      refs.push({ kind: m[1] as 'vars' | 'secrets', name: m[2]!, guarded: m[3] !== undefined })
    }
    for (const m of expression.matchAll(/\bsecrets\[\s*format\('([^']*)'/g)) dynamicSecrets.push(m[1]!)
  }
  return { refs, dynamicSecrets }
}

interface Job {
  if?: string
  'runs-on'?: unknown
  needs?: string | string[]
  permissions?: Record<string, Level> | string
  steps?: { if?: string; name?: string; run?: string; uses?: string; with?: Record<string, string> }[]
}

interface Workflow {
  permissions?: Record<string, Level> | string
  jobs: Record<string, Job>
}

type RunsOn = { hosted: true } | { selfHosted: string } | { fixed: string }

function runsOn(value: unknown): RunsOn {
  if (typeof value !== 'string') return { fixed: JSON.stringify(value) }
  if (HOSTED.test(value)) return { hosted: true }
  const expression = /^\$\{\{\s*([\s\S]*?)\s*\}\}$/.exec(value)?.[1]
  if (expression === undefined) return { fixed: value }
  const fallback = /\|\|\s*'([^']*)'$/.exec(expression)?.[1]
  if (fallback !== undefined && HOSTED.test(fallback)) return { hosted: true }
  const variable = /^vars\.([A-Z][A-Z0-9_]*)$/.exec(expression)?.[1]
  return variable ? { selfHosted: variable } : { fixed: value }
}

/** The highest level each scope is granted anywhere in the workflow. */
function grantedPermissions(workflow: Workflow): Map<string, Level> {
  const granted = new Map<string, Level>()
  for (const block of [workflow.permissions, ...Object.values(workflow.jobs).map((j) => j.permissions)]) {
    if (block === undefined) continue
    if (typeof block === 'string') throw new Error(`permissions: ${block} grants every scope: list them`)
    for (const [scope, level] of Object.entries(block))
      if (LEVELS.indexOf(level) > LEVELS.indexOf(granted.get(scope) ?? 'none')) granted.set(scope, level)
  }
  return granted
}

function toPattern(name: string): RegExp {
  return new RegExp(`^${name.replace(/<[A-Z]+>/g, '[A-Za-z0-9_]+')}$`, 'i')
}

interface Situation {
  /** A step's condition: its success() is about the steps before it, which these cases let succeed. */
  step?: boolean
  /** Result of every job the job needs. */
  needs?: Record<string, { result: string; outputs?: Record<string, string> }>
  vars?: Record<string, string>
  env?: Record<string, string>
  github?: Record<string, unknown>
}

/**
 * Whether a job's or a step's if: lets it run, as GitHub decides: without a status function the condition is
 * success() && (condition); success() means every job needed succeeded (for a step: none before it failed).
 */
function runs(condition: string | undefined, situation: Situation): boolean {
  const expression = (condition ?? 'success()').replace(/^\s*\$\{\{([\s\S]*)\}\}\s*$/, '$1')
  const results = Object.values(situation.needs ?? {}).map((n) => n.result)
  const status: Record<string, boolean> = {
    always: true,
    success: situation.step === true || results.every((r) => r === 'success'),
    failure: situation.step !== true && results.some((r) => r === 'failure'),
    cancelled: false,
  }
  const full = /\b(always|success|failure|cancelled)\s*\(/.test(expression)
    ? expression
    : `success() && (${expression})`
  const functions = Object.entries(status).map(([name, value]) => ({
    name,
    minArgs: 0,
    maxArgs: 0,
    call: () => new data.BooleanData(value),
  }))
  const context = {
    github: { event_name: 'schedule', event: {}, ...situation.github },
    needs: situation.needs ?? {},
    vars: situation.vars ?? {},
    env: situation.env ?? {},
    inputs: {},
    steps: {},
  }
  const tree = new Parser(new Lexer(full).lex().tokens, Object.keys(context), functions).parse()
  const revived = JSON.parse(JSON.stringify(context), data.reviver) as data.Dictionary
  return truthy(new Evaluator(tree, revived, new Map(functions.map((f) => [f.name, f]))).evaluate())
}

function needsOf(job: Job): string[] {
  return job.needs === undefined ? [] : typeof job.needs === 'string' ? [job.needs] : job.needs
}

const files = (await readdir(join(ROOT, 'examples'), { recursive: true }))
  .filter((f) => f.endsWith('.yml'))
  .map((f) => join('examples', f))
  .sort()

const examples = await Promise.all(
  files.map(async (file) => {
    const text = await readFile(join(ROOT, file), 'utf8')
    return { file, text, workflow: parse(text) as Workflow, header: parseHeader(text) }
  }),
)
const byFile = new Map(examples.map((e) => [e.file, e]))

describe('the requirements list', () => {
  test('reads entries, wrapped lines, optional marks, self-hosted runners and permissions', () => {
    const header = parseHeader(
      [
        '# Requires:',
        '#   vars.KONG_ADMIN_URL      Admin API address',
        '#                            reachable from the runner',
        '#   secrets.TOKEN_<NAME>     (optional) a token per gateway',
        '#   runner: self-hosted vars.HOST_RUNNER (optional) files live on the host',
        '#   runner: ubuntu-latest works',
        '#   permissions: contents: write, id-token: write (why)',
        '#',
        '#   vars.AFTER_THE_LIST not an entry',
      ].join('\n'),
    )
    expect(header.errors).toEqual([])
    expect(header.requirements).toEqual([
      {
        kind: 'vars',
        name: 'KONG_ADMIN_URL',
        optional: false,
        description: 'Admin API address reachable from the runner',
        selfHosted: false,
      },
      {
        kind: 'secrets',
        name: 'TOKEN_<NAME>',
        optional: true,
        description: 'a token per gateway',
        selfHosted: false,
      },
      {
        kind: 'vars',
        name: 'HOST_RUNNER',
        optional: true,
        description: 'files live on the host',
        selfHosted: true,
      },
    ])
    expect(header.runnerNotes).toEqual(['ubuntu-latest works'])
    expect(Object.fromEntries(header.permissions!)).toEqual({ contents: 'write', 'id-token': 'write' })
  })

  test.each([
    ['no list', '# Kong backup\nname: x\n', /does not open/],
    ['an unknown entry', '# Requires:\n#   env.X something\n', /unreadable requirement "env.X something"/],
    ['a requirement without its reason', '# Requires:\n#   vars.X\n', /unreadable requirement "vars.X"/],
    [
      'a self-hosted runner without its reason',
      '# Requires:\n#   runner: self-hosted vars.X\n',
      /unreadable/,
    ],
  ])('%s is an error', (_, text, message) => {
    expect(parseHeader(text).errors).toEqual([expect.stringMatching(message)])
  })

  test('a skipped optional job is told apart from a failed one', () => {
    const needs = { a: { result: 'success' }, b: { result: 'skipped' } }
    expect(runs('always()', { needs })).toBe(true)
    expect(runs(undefined, { needs })).toBe(false)
    expect(runs("contains(needs.*.result, 'failure')", { needs })).toBe(false)
    expect(runs("vars.X != ''", { vars: {} })).toBe(false)
    expect(runs("vars.X != ''", { vars: { X: 'gateway-host' } })).toBe(true)
  })
})

describe.each(files)('%s', (file) => {
  const { text, workflow, header } = byFile.get(file)!
  const { refs, dynamicSecrets } = references(workflow)
  const declared = (kind: string, name: string) =>
    header.requirements.find((r) => r.kind === kind && r.name.toUpperCase() === name.toUpperCase())

  test('opens with a readable requirements list', () => {
    expect(header.errors).toEqual([])
    expect(header.requirements.length).toBeGreaterThan(0)
    // On which runners it works, even when every job runs on GitHub's.
    expect(header.runnerNotes.length).toBeGreaterThan(0)
  })

  test('every variable and secret it reads is listed, and every one listed is read', () => {
    const unlisted = refs.filter((r) => !declared(r.kind, r.name)).map((r) => `${r.kind}.${r.name}`)
    expect([...new Set(unlisted)]).toEqual([])
    for (const pattern of dynamicSecrets) {
      const name = pattern.replace(/\{\d+\}/g, '<NAME>')
      expect({
        pattern,
        listed: header.requirements.some((r) => r.kind === 'secrets' && r.name === name),
      }).toEqual({
        pattern,
        listed: true,
      })
    }
    const unused = header.requirements
      .filter((r) =>
        r.name.includes('<')
          ? !dynamicSecrets.some((p) => toPattern(r.name).test(p.replace(/\{\d+\}/g, 'X')))
          : !refs.some((ref) => ref.kind === r.kind && ref.name.toUpperCase() === r.name.toUpperCase()),
      )
      .map((r) => `${r.kind}.${r.name}`)
    expect(unused).toEqual([])
  })

  test('what it can run without is marked optional', () => {
    const names = new Set(refs.map((r) => `${r.kind}.${r.name}`))
    const onlyGuarded = [...names].filter((name) =>
      refs.filter((r) => `${r.kind}.${r.name}` === name).every((r) => r.guarded),
    )
    const unmarked = onlyGuarded.filter((name) => {
      const [kind, variable] = name.split('.') as [string, string]
      return declared(kind, variable)?.optional === false
    })
    expect(unmarked).toEqual([])
  })

  test('runs on GitHub-hosted runners, or on a self-hosted one its list names with the reason', () => {
    for (const [id, job] of Object.entries(workflow.jobs)) {
      const where = runsOn(job['runs-on'])
      // A fixed self-hosted label queues the job for ever where no such runner exists.
      expect({ job: id, fixed: 'fixed' in where ? where.fixed : undefined }).toEqual({
        job: id,
        fixed: undefined,
      })
      if (!('selfHosted' in where)) continue
      const requirement = declared('vars', where.selfHosted)
      expect({ job: id, runner: where.selfHosted, listed: requirement?.selfHosted === true }).toEqual({
        job: id,
        runner: where.selfHosted,
        listed: true,
      })
      // Without the variable the job is skipped, never queued.
      const vars = { [where.selfHosted]: 'x' }
      expect({ job: id, unset: runs(job.if, { vars: {} }), set: runs(job.if, { vars }) }).toEqual({
        job: id,
        unset: false,
        set: true,
      })
      if (requirement?.optional) continue
      // A runner it cannot do without: a job on GitHub's runners fails the run, naming the variable.
      const reporter = Object.values(workflow.jobs).find(
        (other) =>
          runs(other.if, { vars: {} }) &&
          (other.steps ?? []).some((s) => s.run?.includes(where.selfHosted) && /exit 1/.test(s.run)),
      )
      expect({ job: id, runner: where.selfHosted, reportedWhenUnset: reporter !== undefined }).toEqual({
        job: id,
        runner: where.selfHosted,
        reportedWhenUnset: true,
      })
    }
    for (const requirement of header.requirements.filter((r) => r.selfHosted)) {
      const used = Object.values(workflow.jobs).some((job) => {
        const where = runsOn(job['runs-on'])
        return 'selfHosted' in where && where.selfHosted === requirement.name
      })
      expect({ runner: requirement.name, used }).toEqual({ runner: requirement.name, used: true })
    }
  })

  test('a job that needs an optional one still runs when that one is skipped', () => {
    for (const [id, job] of Object.entries(workflow.jobs)) {
      for (const need of needsOf(job)) {
        if (workflow.jobs[need]?.if === undefined) continue
        // A job that uses what the other produced is skipped with it; one that only reports must run.
        const dependent =
          JSON.stringify(job).includes(`needs.${need}.outputs`) && !job.if?.includes('always()')
        if (dependent) continue
        const needs = Object.fromEntries(
          needsOf(job).map((n) => [n, { result: n === need ? 'skipped' : 'success' }]),
        )
        expect({ job: id, skipped: need, runs: runs(job.if, { needs }) }).toEqual({
          job: id,
          skipped: need,
          runs: true,
        })
      }
    }
  })

  test('lists exactly the permissions it grants', () => {
    expect(header.permissions).toBeDefined()
    expect(Object.fromEntries(header.permissions!)).toEqual(Object.fromEntries(grantedPermissions(workflow)))
    // Every job's token is limited: by the workflow's permissions or by its own.
    for (const [id, job] of Object.entries(workflow.jobs))
      expect({ job: id, limited: (workflow.permissions ?? job.permissions) !== undefined }).toEqual({
        job: id,
        limited: true,
      })
  })

  test('pins deckhand to an immutable release or commit, and says why once', () => {
    const uses = [...text.matchAll(/uses:\s*(deckhand\/deckhand\S*)/g)].map((m) => m[1]!)
    expect(uses.length).toBeGreaterThan(0)
    for (const ref of uses) expect(ref).toMatch(/@(v\d+\.\d+\.\d+|[0-9a-f]{40})$/)
    expect(text.split('\n').filter((line) => line.trim() === PIN_COMMENT)).toHaveLength(1)
  })
})

describe('nightly-backup.yml, where to start', () => {
  const { workflow } = byFile.get(join('examples', 'nightly-backup.yml'))!
  const summary = workflow.jobs.summary!
  const failStep = summary.steps!.find((s) => s.run?.includes('exit 1'))!
  const needs = (results: Record<string, string>) =>
    Object.fromEntries(needsOf(summary).map((n) => [n, { result: results[n] ?? 'success' }]))

  test('the summary waits for every backup job', () => {
    expect(needsOf(summary).sort()).toEqual(['database', 'files', 'restore-drill', 'state'])
  })

  test.each([
    ['everything ran', {}, false],
    ['no host runner and no database', { files: 'skipped', 'restore-drill': 'skipped' }, false],
    ['the dump failed', { state: 'failure' }, true],
    ['the database dump failed', { database: 'failure', 'restore-drill': 'skipped' }, true],
    ['the restore drill failed', { 'restore-drill': 'failure' }, true],
    ['a configured host backup failed', { files: 'failure' }, true],
    ['a job was cancelled', { database: 'cancelled' }, true],
  ])('when %s, the summary runs and fails the night: %s', (_, results, fails) => {
    expect(runs(summary.if, { needs: needs(results) })).toBe(true)
    expect(runs(failStep.if, { needs: needs(results), step: true })).toBe(fails)
  })

  test('the host files job runs only where vars.KONG_HOST_RUNNER names a runner', () => {
    expect(runs(workflow.jobs.files!.if, { vars: {} })).toBe(false)
    expect(runs(workflow.jobs.files!.if, { vars: { KONG_HOST_RUNNER: 'kong-gateway' } })).toBe(true)
  })

  test('the database is dumped and drilled only when the secret is set', () => {
    const database = workflow.jobs.database! as Job & { env: Record<string, string> }
    // Secrets cannot decide a job's if: the job maps whether it is set to its env, and its steps read that.
    expect(database.env.HAS_DATABASE).toBe("${{ secrets.KONG_DATABASE_URL != '' }}")
    const dump = database.steps!.find((s) => s.uses?.includes('/db-dump@'))!
    expect(runs(dump.if, { env: { HAS_DATABASE: 'false' }, step: true })).toBe(false)
    expect(runs(dump.if, { env: { HAS_DATABASE: 'true' }, step: true })).toBe(true)
    const drill = workflow.jobs['restore-drill']!
    expect(runs(drill.if, { needs: { database: { result: 'success', outputs: { artifact: '' } } } })).toBe(
      false,
    )
    expect(
      runs(drill.if, { needs: { database: { result: 'success', outputs: { artifact: 'kong-db-1-1' } } } }),
    ).toBe(true)
  })
})

describe('fleet-backup.yml', () => {
  const { workflow } = byFile.get(join('examples', 'fleet-backup.yml'))!
  const job = workflow.jobs.gateway! as Job & {
    strategy: { 'fail-fast': boolean; 'max-parallel': number; matrix: { gateway: string } }
    concurrency: { group: string }
  }

  test('one job per gateway of vars.KONG_GATEWAYS, none stopping the others, a few at a time', () => {
    expect(job.strategy.matrix.gateway).toBe('${{ fromJSON(vars.KONG_GATEWAYS) }}')
    expect(job.strategy['fail-fast']).toBe(false)
    expect(job.strategy['max-parallel']).toBeGreaterThan(0)
    expect(job.concurrency.group).toContain('${{ matrix.gateway.name }}')
  })

  test('each gateway is dumped into gateways/<name>/ with its own token, and committed on its own', () => {
    const dump = job.steps!.find((s) => s.uses?.includes('/dump@'))!
    const commit = job.steps!.find((s) => s.uses?.includes('/commit@'))!
    expect(dump.with!['output-dir']).toBe('gateways/${{ matrix.gateway.name }}')
    expect(dump.with!['kong-admin-token']).toBe(
      "${{ secrets[format('KONG_ADMIN_TOKEN_{0}', matrix.gateway.name)] }}",
    )
    expect(commit.with!.path).toBe(dump.with!['output-dir'])
  })
})
