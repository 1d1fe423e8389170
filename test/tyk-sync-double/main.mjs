// Entry point of the tyk-sync double: main.go and cobra's Execute (errors, usage, exit codes), then the Run
// functions of cmd/dump.go, cmd/sync.go, cmd/update.go, cmd/publish.go and cmd/version.go of tyk-sync 1.5.0.

import { appendFileSync, writeFileSync, writeSync } from 'node:fs'
import { posix } from 'node:path'

import {
  GoError,
  GoPanic,
  Client,
  DashboardPublisher,
  MockPublisher,
  getAPIID,
  isOAS,
  readFolder,
} from './client.mjs'
import { Dashboard } from './dashboard.mjs'
import { CommandLineError, COMMANDS, parseCommandLine, usageText } from './flags.mjs'
import { marshalIndent } from './gojson.mjs'

export const VERSION = '1.5.0'

function writeAll(fd, text) {
  const buf = Buffer.from(text)
  let off = 0
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off, buf.length - off)
    } catch (err) {
      if (err.code !== 'EAGAIN') throw err
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 2)
    }
  }
}

/** One line per invocation: the command line, the directory, and whether the secret variables were set. */
function logCall(argv, env) {
  if (!env.TYK_SYNC_DOUBLE_LOG) return
  const line = {
    argv,
    cwd: process.cwd(),
    secretEnv: {
      TYKGIT_DB_SECRET: Boolean(env.TYKGIT_DB_SECRET),
      TYKGIT_GW_SECRET: Boolean(env.TYKGIT_GW_SECRET),
    },
  }
  appendFileSync(env.TYK_SYNC_DOUBLE_LOG, JSON.stringify(line) + '\n')
}

const SHORT = {
  dump: 'Export API configurations from Tyk Dashboard to local files',
  sync: 'Synchronise API configurations from version control or file system to Tyk Gateway or Dashboard',
  update: 'Update existing API configurations in Tyk Gateway or Dashboard',
  publish: 'Publish new API configurations to Tyk Gateway or Dashboard',
  version: 'Print version information',
  examples: 'Show a list of all available Tyk examples',
  help: 'Help about any command',
}

function helpText(path) {
  const head =
    path.length === 0
      ? 'Tyk Sync lets you store API definitions, security policies, and API templates as files in version control system (VCS) \nor file system and synchronise changes to Tyk, promoting a consistent and automated approach to managing API configurations.'
      : (SHORT[path[0]] ?? '')
  return `${head}\n\n${usageText(path)}`
}

/** Runs one invocation; returns the exit status. */
export function main(argv, env = process.env) {
  const out = (s) => writeAll(1, s)
  const err = (s) => writeAll(2, s)
  logCall(argv, env)
  let parsed
  try {
    parsed = parseCommandLine(argv)
  } catch (e) {
    if (!(e instanceof CommandLineError)) throw e
    // cobra prints the error (and the usage) on stderr, then main.go prints the error again on stdout.
    err(`Error: ${e.message}\n`)
    if (e.usage) err(usageText(e.command ?? []) + '\n')
    else err("Run 'tyk-sync --help' for usage.\n")
    out(`${e.message}\n`)
    return 1
  }
  for (const w of parsed.warnings) err(`${w}\n`)
  const [command, sub] = parsed.path
  if (parsed.values.help) {
    out(helpText(parsed.path))
    return 0
  }
  try {
    switch (command) {
      case undefined:
        return 0
      case 'help': {
        const topic = parsed.positional.filter((a) => COMMANDS[a])
        out(helpText(topic.slice(0, 1)))
        return 0
      }
      case 'version':
        out(`v${VERSION}\n`)
        return 0
      case 'examples':
        err(
          `tyk-sync double: examples${sub ? ` ${sub}` : ''} is not emulated (it reads the tyk-examples repository on GitHub)\n`,
        )
        return 1
      case 'dump':
        dump(parsed.values, env, out)
        return 0
      default:
        return publishCommand(command, parsed, env, out, err)
    }
  } catch (e) {
    if (e instanceof GoPanic) {
      err(`panic: ${e.message}\n\ngoroutine 1 [running]:\nmain.main()\n`)
      return 2
    }
    throw e
  }
}

// cmd/dump.go: every failure is printed and the command returns, so tyk-sync exits 0.
function dump(values, env, out) {
  const dashboard = values.dashboard
  if (dashboard === '') {
    out('Dump requires a dashboard URL to be set\n')
    return
  }
  const secret = values.secret !== '' ? values.secret : (env.TYKGIT_DB_SECRET ?? '')
  if (secret === '') {
    out('Please set TYKGIT_DB_SECRET, or set the --secret flag, to your dashboard user secret\n')
    return
  }
  out(`Extracting APIs, Policies, and Templates from ${dashboard}\n`)
  const server = new Dashboard(env)
  const [c, clientError] = Client.open(server, dashboard, secret, '', out)
  if (clientError) out(`${clientError.message}\n`)

  const print = (e) => {
    if (!(e instanceof GoError)) throw e
    out(`${e.message}\n`)
  }
  const wantedPolicies = values.policies
  const wantedAPIs = values.apis
  const wantedOASAPIs = values['oas-apis']
  const wantedAssets = values.templates
  let policies = []
  let apis = wantedAPIs.map((id) => ({ api_definition: { api_id: id } }))
  apis.push(
    ...wantedOASAPIs.map((id) => ({
      api_definition: { api_id: id, is_oas: true },
      oas: { 'x-tyk-api-gateway': { info: { id } } },
    })),
  )
  let assets = wantedAssets.map((id) => ({ id }))
  for (const id of wantedPolicies) {
    if (!/^[0-9a-fA-F]{24}$/.test(id)) {
      out(`Invalid selected policy ID: ${id}.\n`)
      return
    }
    policies.push({ _id: id.toLowerCase(), id })
  }

  if (wantedAPIs.length === 0 && wantedPolicies.length === 0 && wantedAssets.length === 0) {
    out('> Fetching policies \n')
    try {
      policies = c.fetchPolicies()
    } catch (e) {
      return print(e)
    }
    out('> Fetching APIs\n')
    let apisError
    let listed
    try {
      listed = c.fetchAPIs()
    } catch (e) {
      if (!(e instanceof GoError)) throw e
      apisError = e
    }
    // dump.go tests the client's error here, not the fetch's.
    if (clientError) {
      out(`${apisError ? apisError.message : '<nil>'}\n`)
      return
    }
    if (apisError) throw new GoPanic('runtime error: invalid memory address or nil pointer dereference')
    apis = listed
    out('> Fetching templates \n')
    try {
      assets = c.fetchAssets()
    } catch (e) {
      if (!(e instanceof GoError)) throw e
      assets = []
    }
  }

  const classic = apis.filter((a) => !isOAS(a))
  const oasApis = apis.filter((a) => isOAS(a))
  if (wantedPolicies.length > 0) out('--> Fetching and cleaning policy objects\n')
  else if (policies.length > 0) out('--> Cleaning policy objects\n')
  const cleanPolicies = []
  for (const p of policies) {
    let cp
    try {
      cp = c.fetchPolicy(p._id)
    } catch (e) {
      return print(e)
    }
    if (cp.id === '') cp.id = cp._id
    cleanPolicies.push(cp)
  }
  out(`--> Fetched ${cleanPolicies.length} Policies\n`)

  if (wantedAPIs.length > 0) {
    out(`--> Identified ${classic.length} APIs\n--> Fetching and cleaning APIs objects\n`)
    for (let i = 0; i < classic.length; i++) {
      try {
        classic[i] = c.fetchAPI(classic[i].api_definition.api_id)
      } catch (e) {
        return print(e)
      }
    }
  }
  if (wantedOASAPIs.length > 0) {
    out(`--> Identified ${wantedOASAPIs.length} OAS APIs\n`)
    for (const api of oasApis) {
      try {
        const id = getAPIID(api)
        api.oas = c.fetchOASAPI(id)
        api.categories = c.fetchOASCategory(id)
      } catch (e) {
        return print(e)
      }
    }
  }
  out(`--> Fetched ${classic.length} Classic APIs\n--> Fetched ${oasApis.length} OAS APIs\n`)
  out(`--> Fetched ${assets.length} Templates\n`)
  if (wantedAssets.length > 0) {
    out(
      `> Fetching Asset(s)\n--> Fetching and cleaning Assets objects\n--> Identified ${assets.length} Assets\n`,
    )
    for (let i = 0; i < assets.length; i++) {
      try {
        assets[i] = c.fetchAsset(assets[i].id)
      } catch (e) {
        return print(e)
      }
    }
  }

  const dir = values.target
  const write = (name, value) => {
    const p = posix.join(dir, name)
    try {
      writeFileSync(p, typeof value === 'string' ? value : marshalIndent(value), { mode: 0o644 })
      return true
    } catch (e) {
      const why =
        e.code === 'ENOENT'
          ? 'no such file or directory'
          : e.code === 'EACCES'
            ? 'permission denied'
            : e.message
      out(`Error writing file: open ${p}: ${why}\n`)
      return false
    }
  }
  const apiFiles = []
  for (const api of classic) {
    const { oas: _oas, ...rest } = api
    const name = `api-${api.api_definition?.api_id ?? ''}.json`
    if (!write(name, wrapper(rest))) return
    apiFiles.push(name)
  }
  const assetFiles = []
  for (const asset of assets) {
    const name = `asset-${asset.id}.json`
    if (!write(name, asset)) return
    assetFiles.push(name)
  }
  const oasFiles = []
  for (const api of oasApis) {
    const { api_definition: _def, ...rest } = api
    const name = `oas-${getAPIID(api)}.json`
    if (!write(name, wrapper(rest))) return
    oasFiles.push(name)
  }
  const policyFiles = []
  for (const pol of cleanPolicies) {
    if (pol.id === '') pol.id = pol._id
    const name = `policy-${pol.id}.json`
    if (!write(name, pol)) return
    policyFiles.push(name)
  }
  // tyk-vcs/spec.go: empty lists are left out (omitempty); APIInfo's oas struct never is.
  const spec = { type: 'apidef' }
  const files = [...apiFiles, ...oasFiles].map((file) => ({ file, oas: {} }))
  if (files.length > 0) spec.files = files
  if (policyFiles.length > 0) spec.policies = policyFiles.map((file) => ({ file }))
  if (assetFiles.length > 0) spec.assets = assetFiles.map((file) => ({ file }))
  out(`> Creating spec file in: ${posix.join(dir, '.tyk.json')}\n`)
  if (!write('.tyk.json', spec)) return
  out('Done.\n')
}

/** A DBApiDefinition as json.Marshal writes it. */
function wrapper(api) {
  const out = {}
  if (api.api_definition) out.api_definition = api.api_definition
  if (api.oas) out.oas = api.oas
  if ((api.categories ?? []).length > 0) out.categories = api.categories
  out.hook_references = api.hook_references ?? null
  out.is_site = api.is_site ?? false
  out.sort_by = api.sort_by ?? 0
  out.user_group_owners = api.user_group_owners ?? null
  out.user_owners = api.user_owners ?? null
  return out
}

// cmd/argchecker.go
function verifyArguments(use, values) {
  if (values.gateway === '' && values.dashboard === '')
    return `${use} requires either gateway or dashboard target to be set`
  if (values.gateway !== '' && values.dashboard !== '') {
    return `${use} requires either gateway or dashboard target to be set, not both`
  }
  if (values.path !== '' && values.branch !== 'refs/heads/master')
    return `${use} requires either files or branch to be set, not both`
  return undefined
}

// cmd/shared.go getPublisher
function getPublisher(values, env, out) {
  if (values.test) return new MockPublisher(out)
  if (values.dashboard !== '') {
    const secret = values.secret !== '' ? values.secret : (env.TYKGIT_DB_SECRET ?? '')
    if (secret === '')
      throw new GoError(
        'Please set TYKGIT_DB_SECRET, or set the --secret flag, to your dashboard user secret',
      )
    return new DashboardPublisher(
      new Dashboard(env),
      {
        secret,
        hostname: values.dashboard,
        orgOverride: values.org ?? '',
        allowUnsafeOAS: values['allow-unsafe-oas'],
      },
      out,
    )
  }
  if (values.gateway !== '') {
    const secret = values.secret !== '' ? values.secret : (env.TYKGIT_GW_SECRET ?? '')
    if (secret === '')
      throw new GoError(
        'Please set TYKGIT_GW_SECRET, or set the --secret flag, to your dashboard user secret',
      )
    throw new GoError('tyk-sync double: the Gateway publisher (-g) is not emulated')
  }
  throw new GoError('Publisher target not defined!')
}

// cmd/shared.go doGetData: the -p folder, or a git repository (not emulated), then the selection flags.
function getData(parsed, out) {
  const { values, positional } = parsed
  if (values.path === '') {
    if (positional.length === 0) throw new GoError('must specify repo address to pull from as first argument')
    throw new GoError('tyk-sync double: reading a git repository is not emulated, use -p')
  }
  let { defs, pols, assets } = readFolder(values.path, out)
  const wantedAPIs = values.apis ?? []
  const wantedPolicies = values.policies ?? []
  const wantedAssets = values.templates ?? []
  const wantedOASAPIs = values['oas-apis'] ?? []
  if (wantedAPIs.length + wantedPolicies.length + wantedAssets.length + wantedOASAPIs.length === 0) {
    return { defs, pols, assets }
  }
  const filteredAPIs = []
  for (const id of wantedAPIs) filteredAPIs.push(...defs.filter((d) => getAPIID(d) === id))
  if (wantedOASAPIs.length > 0) {
    out(`--> Identified ${wantedOASAPIs.length} OAS APIs\n`)
    const byId = new Map(defs.map((d) => [getAPIID(d), d]))
    for (const id of wantedOASAPIs) if (byId.has(id)) filteredAPIs.push(byId.get(id))
  }
  const wantedPol = new Set(wantedPolicies)
  const wantedAsset = new Set(wantedAssets)
  return {
    defs: filteredAPIs,
    pols: wantedPolicies.length > 0 ? pols.filter((p) => wantedPol.has(p.id) || wantedPol.has(p._id)) : [],
    assets: wantedAssets.length > 0 ? assets.filter((a) => wantedAsset.has(a.id)) : [],
  }
}

// cmd/sync.go, cmd/update.go, cmd/publish.go: errors print "Error: " and the error (Println adds a space) and exit 1.
function publishCommand(command, parsed, env, out) {
  const problem = verifyArguments(command, parsed.values)
  if (problem) {
    out(`${problem}\n`)
    return 1
  }
  const isGateway = parsed.values.gateway !== '' && !parsed.values.test
  try {
    const { defs, pols, assets } = getData(parsed, out)
    const publisher = getPublisher(parsed.values, env, out)
    out(`Using publisher: ${publisher.name()}\n`)
    if (command === 'sync') {
      if (pols.length > 0 && !isGateway) {
        out('Processing Policies...\n')
        publisher.syncPolicies(pols)
      }
      out('Processing APIs...\n')
      publisher.syncAPIs(defs)
      out('Processing Assets...\n')
      publisher.syncAssets(assets)
      return 0
    }
    const step = (what, fn) => {
      try {
        fn()
      } catch (e) {
        if (!(e instanceof GoError)) throw e
        out(`--> Status: FAIL, Error:${e.message}\nFailed to publish ${what}\n`)
        throw e
      }
    }
    const create = command === 'publish'
    step('APIs', () => (create ? publisher.createAPIs(defs) : publisher.updateAPIs(defs)))
    step('Assets', () => (create ? publisher.createAssets(assets) : publisher.updateAssets(assets)))
    step('Policies', () => (create ? publisher.createPolicies(pols) : publisher.updatePolicies(pols)))
    out('Done\n')
    return 0
  } catch (e) {
    if (!(e instanceof GoError)) throw e
    out(`Error:  ${e.message}\n`)
    return 1
  }
}
