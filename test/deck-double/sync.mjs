// `deck gateway diff|sync|apply` and the legacy `deck diff|sync`: Kong/deck cmd/common.go syncMain,
// syncContent and performDiff (v1.65.1), with GDR's Syncer.Solve and Run (pkg/diff/diff.go, v1.40.3 as deck
// v1.64.0 bundles it) run against the fixture as one deterministic schedule of deck's workers (runEvents).

import {
  confirm,
  fetchKongVersion,
  kongClient,
  legacyNotice,
  workspaceExists,
  wrapHttp,
} from './commands.mjs'
import { errArray, getContent } from './content.mjs'
import { diffText, maskEnvVarValues } from './diffout.mjs'
import { toGoJSONIndent } from './encode.mjs'
import { applyEvent, KongRefusal, nestWorkspace, saveWorkspace } from './fixture.mjs'
import { flagValue } from './flags.mjs'
import { httpError, HttpFailure } from './gateway.mjs'
import { DeckError, goList } from './gostr.mjs'
import { readAllStdin } from './io.mjs'
import { consoleName, KIND_TYPES, kongPlain, kongStruct } from './kong.mjs'
import { computeEvents, currentState, emptyModel, targetState } from './reconcile.mjs'
import {
  inKonnectMode,
  KONNECT_KONG_VERSION,
  konnectVisible,
  openControlPlane,
  readControlPlane,
  syncControlPlaneName,
  writeEvent,
} from './konnect.mjs'
import { flattenWorkspace, selectEntities } from './state.mjs'
import { buildState } from './validate.mjs'
import { atLeast } from './versions.mjs'

const GREEN = '32'
const RED = '31'
const YELLOW = '33'
const BLUE_BG = '44'
const GREEN_BOLD = '32;1'
const YELLOW_BOLD = '33;1'

const UPGRADE_MESSAGE =
  'Please upgrade your configuration to account for 3.0\n' +
  'breaking changes using the following command:\n\n' +
  'deck convert --from kong-gateway-2.x --to kong-gateway-3.x\n\n' +
  'This command performs the following changes:\n' +
  '  - upgrade the `_format_version` value to `3.0`\n' +
  "  - add the `~` prefix to all routes' paths containing a regex-pattern\n\n" +
  'These changes may not be correct or exhaustive enough.\n' +
  'It is strongly recommended to perform a manual audit\n' +
  'of the updated configuration file before applying\n' +
  'the configuration in production. Incorrect changes will result in\n' +
  'unintended traffic routing by Kong Gateway.\n\n' +
  'For more information about this and related changes,\n' +
  'please visit: https://docs.konghq.com/deck/latest/3.0-upgrade\n\n'

const BASIC_AUTH_WARNING =
  "Warning: import/export of basic-authcredentials using decK doesn't work due to hashing of passwords in Kong."

const DIAGNOSTIC_DEFAULTS = {
  'route-regex-path-format': 'warning',
  'rla-consumer-groups-deprecated': 'error',
  'oidc-missing-required-config': 'error',
}

const OP_NAMES = { create: 'Create', update: 'Update', delete: 'Delete' }

// GDR pkg/diff/diff.go (v1.40.3, deck v1.64.0): eventBuffer, the capacity of the event queue, and the
// attempts defaultBackOff allows (backoff.WithMaxRetries(…, 4): one and four retries).
const EVENT_BUFFER = 10
const MAX_ATTEMPTS = 5

/**
 * GDR's Syncer.Run (pkg/diff/diff.go, v1.40.3 as deck v1.64.0 bundles it), run as one schedule its
 * goroutines can take, made deterministic. `parallelism` workers take events off a queue of
 * EVENT_BUFFER; the producer queues a stage's events, then waits until all of them finished. Here each
 * stage runs in rounds of `parallelism` events handled together (in order, against the fixture).
 *
 * The first failed event stops the run (Run closes stopChan), and deck then reports its events thus:
 * - the rest of the round were in flight: they finish, succeed or fail (more errors), and are listed;
 * - each worker still running takes one more event off the queue, sees the stop and returns (eventLoop):
 *   those events are listed nowhere;
 * - the producer, blocked on the full queue or moving to the next stage, picks the stop over the queue
 *   (Go's select may take either when both are ready; this schedule always takes the stop): that one
 *   event goes to dropped_* first (queueEvent), then what is left in the queue (Solve drains eventChan);
 * - every other event, later in the stage or of a later stage, was never generated: listed nowhere.
 * `handle(event)` returns true when the event failed. Returns the dropped events, in deck's order.
 */
function runEvents(events, parallelism, handle) {
  const stages = []
  for (const event of events) {
    const last = stages[stages.length - 1]
    if (last && last[0].stage === event.stage) last.push(event)
    else stages.push([event])
  }
  for (let s = 0; s < stages.length; s++) {
    const stage = stages[s]
    for (let start = 0; start < stage.length; start += parallelism) {
      const round = stage.slice(start, start + parallelism)
      let failed = 0
      for (const event of round) if (handle(event)) failed++
      if (failed === 0) continue
      const rest = stage.slice(start + round.length)
      const queued = rest.slice(0, EVENT_BUFFER)
      const taken = Math.min(round.length - failed, queued.length)
      const blocked = rest.length > EVENT_BUFFER ? rest[EVENT_BUFFER] : stages[s + 1]?.[0]
      const dropped = blocked ? [blocked] : []
      for (const event of queued.slice(taken)) dropped.push(event)
      return dropped
    }
  }
  return []
}

// fatih/color printing as deck's cprint package does it; --silence-events sets cprint.DisableOutput.
class Printer {
  constructor(ctx, silent) {
    this.ctx = ctx
    this.silent = silent
  }

  paint(code, text) {
    return this.ctx.rootConfig?.color ? `\x1b[${code}m${text}\x1b[0m` : text
  }

  // cprint.*Println: the operands joined by spaces, then a newline.
  println(code, ...parts) {
    if (!this.silent) this.ctx.out(this.paint(code, parts.join(' ')) + '\n')
  }

  printf(code, text) {
    if (!this.silent) this.ctx.out(this.paint(code, text))
  }

  // cprint.UpdatePrintlnStdErr
  warn(text) {
    if (!this.silent) this.ctx.err(this.paint(YELLOW, text) + '\n')
  }

  // color.PrintfFunc directly: not silenced.
  always(code, text) {
    this.ctx.out(this.paint(code, text))
  }
}

function parseDiagnostics(value) {
  return String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

function parseKongVersion(text) {
  const m = /^(\d+)\.(\d+)/.exec(String(text))
  if (!m) throw new DeckError('parsing Kong version: unknown Kong version')
  return [Number(m[1]), Number(m[2])]
}

// determineSelectorTag: _info.select_tags and --select-tag must agree when both are given.
function selectorTags(info, flagTags) {
  const fileTags = [...new Set(info?.select_tags ?? [])]
  if (fileTags.length === 0) return flagTags
  if (flagTags.length > 0) {
    const a = [...flagTags].sort()
    const b = [...fileTags].sort()
    if (a.length !== b.length || a.some((t, i) => t !== b[i])) {
      throw new DeckError(
        `tags specified in the state file (${goList(b)}) and via --select-tags flag (${goList(a)}) are different.\n` +
          '\t\t\t\t\tdecK expects tags to be specified in either via flag or via state file.\n' +
          '\t\t\t\t\tIn case both are specified, they must match',
      )
    }
    return b
  }
  return fileTags
}

function notEmulated(what) {
  return new DeckError(`deck double: ${what} is not emulated for diff, sync and apply`)
}

// The JSON of one change: EntityState{name, kind, body: map[string]any{"old", "new"}}.
function changeTree(name, kind, body) {
  return new Map([
    ['name', name],
    ['kind', kind],
    ['body', body],
  ])
}

function bodyTree(event, dry) {
  const type = KIND_TYPES[event.kind]
  const side = (obj) => {
    if (!obj) return null
    const tree = kongStruct(type, obj)
    // Diff mode returns the objects with their timestamps zeroed out.
    if (dry) {
      tree.delete('created_at')
      tree.delete('updated_at')
    }
    return tree
  }
  return new Map([
    ['new', side(event.obj)],
    ['old', event.op === 'update' ? side(event.old) : null],
  ])
}

/** sync, diff and apply (ApplyTypePartial: no deletes). Returns the exit code. */
export function runReconcile(ctx) {
  legacyNotice(ctx)
  const { cmd, parsed, version, env } = ctx
  let gateway = ctx.gateway
  const mode = cmd.kind
  const dry = mode === 'diff'
  const partialApply = mode === 'apply'
  // apply binds --json-output to sync's variable and never reads its own: it always prints text.
  const json = mode !== 'apply' && Boolean(flagValue(parsed, 'json-output'))
  const silent = Boolean(flagValue(parsed, 'silence-events'))
  const noMask = Boolean(flagValue(parsed, 'no-mask-deck-env-vars-value'))
  const mask = (text) => (noMask ? text : maskEnvVarValues(text, env))
  const p = new Printer(ctx, silent)
  const report = { creating: [], updating: [], deleting: [], dropped: [], warnings: [], errors: [] }

  let files
  if (cmd.variant === 'legacy') {
    const state = flagValue(parsed, 'state')
    files = Array.isArray(state) ? state : [state]
  } else files = parsed.positional.length ? parsed.positional : ['-']
  const content = getContent(files, env, readAllStdin)
  const info = content._info ?? {}

  const lookupTags = info.default_lookup_tags
  const skipConsumers = Boolean(flagValue(parsed, 'skip-consumers'))
  if (
    skipConsumers &&
    lookupTags &&
    ((lookupTags.consumers ?? null) !== null || (lookupTags.consumer_groups ?? null) !== null)
  ) {
    throw new DeckError(
      'cannot use --skip-consumers with default lookup tags for consumers or consumer groups',
    )
  }
  if (skipConsumers) {
    content.consumers = []
    content.consumer_groups = []
    content.plugins = (content.plugins ?? []).filter((pl) => !pl.consumer && !pl.consumer_group)
  }
  const skipCaCerts = Boolean(flagValue(parsed, 'skip-ca-certificates'))
  if (skipCaCerts) content.ca_certificates = []
  const skipHash =
    Boolean(flagValue(parsed, 'skip-hash-for-basic-auth')) || info.skip_hash_for_basic_auth === true

  // getWorkspaceName
  const wsFlag = flagValue(parsed, 'workspace') ?? ''
  let workspace = content._workspace ?? ''
  if (wsFlag !== '' && wsFlag !== workspace) {
    const warning = `Workspace '${wsFlag}' specified via --workspace flag is different from workspace '${workspace}' found in state file(s).`
    if (json) report.warnings.push(warning)
    else p.printf(RED, `Warning: ${warning}\n`)
    workspace = wsFlag
  }

  let konnect = null
  if (inKonnectMode(ctx.rootConfig, content)) {
    if (workspace !== '' && workspace !== 'default') {
      throw new DeckError('deck double: workspaces in Konnect mode are not emulated')
    }
    workspace = ''
    konnect = openControlPlane(ctx, syncControlPlaneName(ctx.rootConfig, content))
  } else if (skipHash) {
    throw new DeckError('skip-hash-for-basic-auth functionality can be used with Konnect only')
  }

  const client = konnect ? null : kongClient(ctx)
  const kongVersion = konnect
    ? KONNECT_KONG_VERSION
    : wrapHttp('reading Kong version: ', () => fetchKongVersion(ctx, workspace))
  const parsedKong = parseKongVersion(kongVersion)
  if (parsedKong[0] >= 3 && content._format_version !== '3.0') {
    throw new DeckError(
      `cannot apply '${content._format_version || '1.1'}' config format version to Kong version 3.0 or above.\n` +
        UPGRADE_MESSAGE,
    )
  }
  const exists = konnect !== null || workspaceExists(ctx, workspace)

  if (flagValue(parsed, 'consumer-group-policy-overrides') || info.consumer_group_policy_overrides) {
    throw notEmulated('--consumer-group-policy-overrides')
  }
  if (flagValue(parsed, 'include-plugin-definitions') || info.include_plugin_definitions) {
    throw notEmulated('--include-plugin-definitions')
  }
  if (flagValue(parsed, 'rbac-resources-only')) throw notEmulated('--rbac-resources-only')
  const selectTags = selectorTags(info, flagValue(parsed, 'select-tag') ?? [])
  if (lookupTags) throw notEmulated('_info.default_lookup_tags')

  const skipGroupMembers = Boolean(flagValue(parsed, 'skip-consumers-with-consumer-groups'))
  if (skipGroupMembers) {
    if ((content.consumers ?? []).some((c) => c.groups !== undefined && c.groups !== null)) {
      throw new DeckError('can not use --skip-consumers-with-consumer-groups while adding consumers.groups')
    }
    if (selectTags.length === 0) {
      p.always(
        YELLOW_BOLD,
        '--skip-consumers-with-consumer-groups flag is added, but no select tags are specified.\n' +
          'This can lead to unintended changes.\n\n',
      )
      if (!flagValue(parsed, 'yes') && !confirm(ctx, '> Do you wish to continue? ')) return 0
    }
  }

  // The current state, or an empty one (and a new workspace) when the workspace does not exist.
  const wsName = workspace || 'default'
  let raw
  let current
  let dirty = false
  if (exists) {
    if (konnect) {
      raw = wrapHttp('services: ', () => readControlPlane(ctx, konnect, flattenWorkspace))
      gateway = konnect.gateway
    } else {
      const fixtureContent = wrapHttp('services: ', () => {
        const wsContent = client.workspaceContent(workspace)
        if (!(wsName in gateway.workspaces)) throw new HttpFailure(httpError(404, 'Not found'), 404)
        return wsContent
      })
      raw = flattenWorkspace(fixtureContent)
    }
    const selected = selectEntities(konnect ? konnectVisible(raw) : raw, {
      selectTags,
      skipConsumers,
      skipCaCertificates: skipCaCerts,
      skipConsumersWithConsumerGroups: skipGroupMembers,
    })
    current = currentState(selected, (w) => p.warn(w))
  } else {
    raw = flattenWorkspace({})
    current = emptyModel()
    if (json) report.creating.push(changeTree(workspace, 'workspace', null))
    else p.println(GREEN, 'Creating workspace', workspace)
    if (!dry) {
      wrapHttp('', () => client.createWorkspace(workspace))
      saveWorkspace(gateway, workspace, {})
    }
  }

  // The target state: file.Get, checkForRBACResources, checkForPluginDefinitions, state.Get.
  if (content._transform === false) throw new DeckError('_transform: false is not supported')
  if (!partialApply) buildState(structuredClone(content), false)
  if ((content.cloned_plugins ?? []).length || (content.custom_plugins ?? []).length) {
    throw new DeckError(
      'state file(s) contains plugin definitions. Please use --include-plugin-definitions flag to manage these resources',
    )
  }
  for (const key of ['rbac_roles', 'filter_chains', 'custom_entities', 'licenses', 'service_packages']) {
    if ((content[key] ?? []).length) throw notEmulated(`${key} in state files`)
  }
  const alwaysError = parseDiagnostics(flagValue(parsed, 'warnings-as-errors'))
  const alwaysWarning = parseDiagnostics(flagValue(parsed, 'errors-as-warnings'))
  const diagnostic = (code, message) => {
    const severity = alwaysError.includes(code)
      ? 'error'
      : alwaysWarning.includes(code)
        ? 'warning'
        : DIAGNOSTIC_DEFAULTS[code]
    if (severity === 'warning') return p.warn(message)
    if (DIAGNOSTIC_DEFAULTS[code] === 'warning')
      throw new DeckError(`building state: warning (${code}): ${message}`)
    throw new DeckError(`building state: ${message}`)
  }
  const target = targetState(content, current, {
    selectTags,
    kongVersion: parsedKong,
    partialApply,
    skipCaCerts,
    pluginConfigs: content._plugin_configs,
    fileDefaults: info.defaults,
    diagnostic,
    // GDR >= 1.36 (deck 1.59.0) rejects openid-connect plugins without config.cache_tokens_salt. Kong
    // generates that field, so real dumps (and the fixtures) carry it.
    oidcCheck: atLeast(version, '1.59.0'),
  })

  // performDiff / Solve
  const events = computeEvents(current, target, { noDeletes: partialApply })
  if (target['basic-auth'].length || (!partialApply && current['basic-auth'].length))
    p.warn(BASIC_AUTH_WARNING)
  const stats = { create: 0, update: 0, delete: 0 }
  const rejects = Array.isArray(gateway.reject) ? gateway.reject : []
  const failures = []
  // The anonymous function Solve hands to Run (GDR pkg/diff/diff.go): it lists the event (JSON) or prints
  // it (text) before it sends the request, on every attempt.
  const list = (event, name) => {
    const bucket = { create: 'creating', update: 'updating', delete: 'deleting' }[event.op]
    if (json) report[bucket].push(changeTree(name, event.kind, bodyTree(event, dry)))
    else if (event.op === 'update') {
      const type = KIND_TYPES[event.kind]
      const text = mask(diffText(kongPlain(type, event.old), kongPlain(type, event.obj)))
      p.println(YELLOW, 'updating', event.kind, name, text)
    } else p.println(event.op === 'create' ? GREEN : RED, bucket, event.kind, name)
  }
  // handleEvent: backoff.Retry with defaultBackOff, WithMaxRetries(…, 4): an HTTP 500 is tried again up to
  // four times, any other failure is permanent. The waits (about 1, 3, 9 and 27 s) are not slept here.
  // Returns the error deck reports for the event (crud.ActionError), or null once Kong accepted it.
  const handle = (event) => {
    const name = consoleName(event.kind, event.obj)
    const rule = rejects.find(
      (r) =>
        r &&
        r.kind === event.kind &&
        r.name === name &&
        (!r.op || r.op === event.op) &&
        (!r.workspace || r.workspace === wsName),
    )
    for (let attempt = 1; ; attempt++) {
      list(event, name)
      if (dry) break
      let status = 0
      let reason
      if (rule && (rule.times === undefined || attempt <= Number(rule.times))) {
        status = Number(rule.status ?? 400)
        reason = httpError(status, String(rule.message ?? ''))
      } else {
        // Konnect mode: the write goes to the stand-in first; the fixture changes only once it is accepted.
        reason = konnect ? writeEvent(konnect, event, kongPlain(KIND_TYPES[event.kind], event.obj)) : null
        if (!reason) {
          try {
            applyEvent(raw, event)
            dirty = true
          } catch (err) {
            if (!(err instanceof KongRefusal)) throw err
            reason = err.message
          }
        }
      }
      if (!reason) break
      if (status !== 500 || attempt === MAX_ATTEMPTS) {
        return `while processing event: ${OP_NAMES[event.op]} ${event.kind} ${name} failed: ${reason}`
      }
    }
    // recordOp: counted once, when the event succeeded.
    stats[event.op]++
    return null
  }
  // Run's workers, one schedule of them: see runEvents.
  const dropped = runEvents(events, Number(flagValue(parsed, 'parallelism') ?? 10), (event) => {
    const failure = handle(event)
    if (failure) failures.push(failure)
    return failure !== null
  })
  for (const event of dropped) report.dropped.push(event)
  const failure = failures.length > 0 ? failures : null
  for (const event of report.dropped) {
    if (json) continue
    const name = consoleName(event.kind, event.obj)
    if (event.op === 'create') p.println(GREEN, 'Dropped creation', event.kind, name)
    else if (event.op === 'update') p.println(YELLOW, 'Dropped update', event.kind, name)
    else p.println(RED, 'Dropped deletion', event.kind, name)
  }
  if (dirty) saveWorkspace(gateway, wsName, nestWorkspace(raw))
  const total = stats.create + stats.update + stats.delete
  if (!json) {
    p.always(GREEN_BOLD, 'Summary:\n')
    p.always(GREEN_BOLD, `  Created: ${stats.create}\n`)
    p.always(GREEN_BOLD, `  Updated: ${stats.update}\n`)
    p.always(GREEN_BOLD, `  Deleted: ${stats.delete}\n`)
  }
  if (failure) {
    if (json) for (const f of failure) report.errors.push(f)
    else throw new DeckError(errArray(failure))
  }
  if (dry && flagValue(parsed, 'non-zero-exit-code') && total > 0) return 2
  if (json) {
    const dropped = (op) =>
      report.dropped
        .filter((e) => e.op === op)
        .map((e) => changeTree(consoleName(e.kind, e.obj), e.kind, bodyTree(e, dry)))
    const changes = new Map([
      ['creating', report.creating],
      ['updating', report.updating],
      ['deleting', report.deleting],
    ])
    for (const [key, op] of [
      ['dropped_creations', 'create'],
      ['dropped_updates', 'update'],
      ['dropped_deletions', 'delete'],
    ]) {
      const list = dropped(op)
      if (list.length) changes.set(key, list)
    }
    const tree = new Map([
      ['changes', changes],
      [
        'summary',
        new Map([
          ['creating', stats.create],
          ['updating', stats.update],
          ['deleting', stats.delete],
          ['total', total],
        ]),
      ],
      ['warnings', report.warnings],
      ['errors', report.errors],
    ])
    // cprint.BluePrintLn(json + "\n")
    if (!silent) ctx.out(p.paint(BLUE_BG, mask(toGoJSONIndent(tree, '\t')) + '\n') + '\n')
  }
  return 0
}
