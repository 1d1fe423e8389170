import { scrub } from '../scrub.js'
import { isObject, type Json, type JsonObject } from '../state/entities.js'
import type { SecretRules } from '../secrets/rules.js'
import { MASK, maskEntity } from '../state/redact.js'
import type { DeckChange, DeckJsonOutput } from './deck-output.js'
import { changedPaths, type FieldChange, fieldChanges } from './fields.js'

export type Action = 'create' | 'update' | 'delete'

/** One entity deck creates, updates or deletes, with every secret masked. */
export interface PlannedChange {
  action: Action
  /** deck's kind, e.g. `service`, `plugin`, `key-auth`. */
  kind: string
  /** deck's name for it, e.g. `rate-limiting for service billing-api` (a key-auth key is masked). */
  name: string
  /** Updates: the fields that change (at most MAX_FIELDS of them). */
  fields?: FieldChange[]
  /** Updates: how many fields change in all. */
  fieldCount?: number
  /** The entity before (updates) and after (creates, updates) or as it goes (deletes), masked. */
  old?: Json
  new?: Json
}

/** Identifies a change within one target's plan and its sync: action, kind and (masked) name. */
export function changeKey(change: PlannedChange): string {
  return `${change.action}\u0000${change.kind}\u0000${change.name}`
}

export interface Counts {
  creating: number
  updating: number
  deleting: number
  total: number
}

/** One deck run's worth of plan: one workspace, one set of select tags, the files that make it up. */
export interface TargetPlan {
  /** The workspace as the files or the workspace input name it; empty for the default workspace. */
  workspace: string
  /** Konnect: the control plane planned against. */
  controlPlane?: string
  selectTags: string[]
  files: string[]
  counts: Counts
  changes: PlannedChange[]
  warnings: string[]
  /** Errors deck reported while planning (e.g. reading plugin schemas): the plan is incomplete. */
  errors: string[]
  /** What reports call a target that is not a Kong workspace (`Tyk`); absent for Kong. */
  label?: string
}

/** What one `deck gateway sync` did with a target. */
export interface SyncOutcome {
  /** Changes Kong accepted. */
  applied: PlannedChange[]
  /** Changes Kong refused, with deck's error. */
  failed: { change: PlannedChange; error: string }[]
  /** Changes deck never sent because an earlier one failed. */
  dropped: PlannedChange[]
  /**
   * Planned changes deck reported neither as attempted nor as dropped: after a failure stops a run, deck
   * forgets events a worker took off its queue and events it never generated. Never counted as applied.
   */
  notAttempted: PlannedChange[]
  /** Errors that name no planned entity (a lost connection, a timeout). */
  otherErrors: string[]
  warnings: string[]
  counts: Counts
}

/** Masks secrets in deck's output and scrubs them from its free text. */
export class PlanMasker {
  /** Secret values found in bodies, plus those the caller knows (tokens, DECK_ values). */
  private readonly secrets = new Set<string>()
  /** The secrets longest first (a secret may contain another), kept until one is added. */
  private sorted: string[] | undefined

  constructor(
    known: Iterable<string> = [],
    /** Schema facts for masking; default: the bundled catalogue. */
    private readonly rules?: SecretRules,
  ) {
    for (const value of known) this.add(value)
  }

  private add(value: string): void {
    // Short values would scrub ordinary words out of messages; the bodies are masked structurally anyway.
    if (value.trim().length < 6 || this.secrets.has(value.trim())) return
    this.secrets.add(value.trim())
    this.sorted = undefined
  }

  /**
   * A change of deck's output, masked: bodies structurally, names by kind. The bodies are masked in
   * place (they come fresh from parsing deck's output), after the changed fields were found on them.
   */
  change(action: Action, change: DeckChange): PlannedChange {
    const old = isObject(change.body?.old) ? change.body.old : undefined
    const now = isObject(change.body?.new) ? change.body.new : undefined
    const paths = action === 'update' ? changedPaths(old, now) : undefined
    const found = new Set<string>()
    if (old) maskEntity(old, COLLECTION_OF_KIND[change.kind], found, this.rules)
    if (now) maskEntity(now, COLLECTION_OF_KIND[change.kind], found, this.rules)
    for (const value of found) this.add(value)
    const planned: PlannedChange = { action, kind: change.kind, name: maskName(change.kind, change.name) }
    if (paths) {
      planned.fields = fieldChanges(paths, old, now)
      planned.fieldCount = paths.length
    }
    if (old) planned.old = old
    if (now) planned.new = now
    return planned
  }

  /**
   * Free text (deck's warnings and errors, Kong's messages) with every known secret replaced. Call after
   * the changes went through {@link change}: Kong's errors can echo a value from a body. Names need no
   * scrubbing: deck builds them from identities, and the one secret identity (a key-auth key) is masked
   * by kind.
   */
  text(value: string): string {
    this.sorted ??= [...this.secrets].sort((a, b) => b.length - a.length)
    return scrub(value, this.sorted)
  }
}

/** deck's entity kinds (GDR pkg/types) and the file collection whose secret rules apply to them. */
export const COLLECTION_OF_KIND: Readonly<Record<string, string>> = {
  service: 'services',
  route: 'routes',
  plugin: 'plugins',
  'consumer-group-plugin': 'plugins',
  consumer: 'consumers',
  'consumer-group': 'consumer_groups',
  'key-auth': 'keyauth_credentials',
  'basic-auth': 'basicauth_credentials',
  'hmac-auth': 'hmacauth_credentials',
  'jwt-auth': 'jwt_secrets',
  'oauth2-cred': 'oauth2_credentials',
  'acl-group': 'acls',
  'mtls-auth': 'mtls_auth_credentials',
  upstream: 'upstreams',
  target: 'targets',
  certificate: 'certificates',
  sni: 'snis',
  'ca-certificate': 'ca_certificates',
  vault: 'vaults',
  partial: 'partials',
  key: 'keys',
  'key-set': 'key_sets',
  'filter-chain': 'filter_chains',
  'rbac-role': 'rbac_roles',
  license: 'licenses',
}

/**
 * deck names a key-auth credential by the last five characters of its key (GDR state.KeyAuth.Console):
 * part of a secret, so it goes. What follows (` for consumer alice`) stays.
 */
export function maskName(kind: string, name: string): string {
  if (kind !== 'key-auth') return name
  const at = name.indexOf(' for consumer ')
  return at < 0 ? MASK : MASK + name.slice(at)
}

/** The plan of one target from `deck gateway diff --json-output`, masked. */
export function targetPlan(
  output: DeckJsonOutput,
  target: { workspace: string; controlPlane?: string; selectTags: string[]; files: string[] },
  masker: PlanMasker,
): TargetPlan {
  const changes = [
    ...output.changes.creating.map((c) => masker.change('create', c)),
    ...output.changes.updating.map((c) => masker.change('update', c)),
    ...output.changes.deleting.map((c) => masker.change('delete', c)),
  ]
  return {
    ...target,
    counts: { ...output.summary },
    changes,
    warnings: output.warnings.map((w) => masker.text(w)),
    errors: output.errors.map((e) => masker.text(e)),
  }
}

/**
 * What a `deck gateway sync --json-output` run did, from deck's own accounting, which needs reading with
 * care (GDR pkg/diff/diff.go, Syncer.Solve and handleEvent, v1.40.3 as deck v1.64.0 bundles it):
 * - An entity is appended to creating/updating/deleting before its request is sent, whether or not Kong
 *   accepts it, and again on every attempt: an HTTP 500 is retried up to 4 more times, so one entity can
 *   be listed five times. Entries are taken once per entity (kind and id, or name where there is no id).
 * - A failure is reported in errors as `while processing event: <Op> <kind> <name> failed: <cause>` (GDR
 *   crud.ActionError), once, after the last attempt: a listed entity with an error failed, whatever else
 *   lists it.
 * - After the first failure deck stops: what was still queued is listed under dropped_*, but an event a
 *   worker took off the queue after the stop, and every event of a later entity kind that deck never
 *   generated, are reported nowhere. `planned` (the diff's changes) finds those: not attempted.
 * - Workers append to the lists without a lock, so an entry can also be lost outright; that too shows as a
 *   planned change deck did not report, never as one applied.
 */
export function syncOutcome(
  output: DeckJsonOutput,
  masker: PlanMasker,
  planned: readonly PlannedChange[] = [],
): SyncOutcome {
  const attempted = new Map<string, { change: PlannedChange; raw: DeckChange; op: string }>()
  const add = (action: Action, op: string, list: DeckChange[]) => {
    for (const raw of list) {
      const key = entityKey(action, raw)
      // Identity first: masking rewrites the body, and a retried entity is masked once.
      if (!attempted.has(key)) attempted.set(key, { change: masker.change(action, raw), raw, op })
    }
  }
  add('create', 'Create', output.changes.creating)
  add('update', 'Update', output.changes.updating)
  add('delete', 'Delete', output.changes.deleting)
  const dropped = new Map<string, PlannedChange>()
  const addDropped = (action: Action, list: DeckChange[] | undefined) => {
    for (const raw of list ?? []) {
      const key = entityKey(action, raw)
      if (!attempted.has(key) && !dropped.has(key)) dropped.set(key, masker.change(action, raw))
    }
  }
  addDropped('create', output.changes.dropped_creations)
  addDropped('update', output.changes.dropped_updates)
  addDropped('delete', output.changes.dropped_deletions)

  const failed: SyncOutcome['failed'] = []
  const otherErrors: string[] = []
  const failedKeys = new Set<string>()
  for (const error of output.errors) {
    // Match on deck's own words for the raw entity, before any masking changed the name. GDR's
    // crud.Op names are capitalized (`Create service x failed`).
    let hit: string | undefined
    for (const [key, a] of attempted) {
      if (!failedKeys.has(key) && error.includes(`${a.op} ${a.raw.kind} ${a.raw.name} failed`)) {
        hit = key
        break
      }
    }
    if (hit === undefined) {
      otherErrors.push(error)
      continue
    }
    failedKeys.add(hit)
    const { change, raw } = attempted.get(hit)!
    // The error names the entity as deck does (a key-auth by part of its key): name it as the plan does.
    failed.push({
      change,
      error: masker.text(
        error.replace(`${raw.kind} ${raw.name} failed`, `${raw.kind} ${change.name} failed`),
      ),
    })
  }
  const applied: PlannedChange[] = []
  for (const [key, a] of attempted) if (!failedKeys.has(key)) applied.push(a.change)

  const reported = new Set<string>()
  for (const c of applied) reported.add(changeKey(c))
  for (const f of failed) reported.add(changeKey(f.change))
  for (const c of dropped.values()) reported.add(changeKey(c))
  return {
    applied,
    failed,
    dropped: [...dropped.values()],
    notAttempted: planned.filter((c) => !reported.has(changeKey(c))),
    otherErrors: otherErrors.map((e) => masker.text(e)),
    warnings: output.warnings.map((w) => masker.text(w)),
    counts: { ...output.summary },
  }
}

/**
 * One entity of one sync: the action, deck's kind, and its id where the body has one (a retried event
 * carries the same body each time), else deck's name for it.
 */
function entityKey(action: Action, change: DeckChange): string {
  const body = change.body
  const id = [body?.new, body?.old].map((b) => (isObject(b) && typeof b.id === 'string' ? b.id : undefined))
  return `${action}\u0000${change.kind}\u0000${id[0] ?? id[1] ?? `name:${change.name}`}`
}

/** Every body of deck's output with its collection, for reading the schemas a plan needs. */
export function* changeBodies(output: DeckJsonOutput): Generator<{ collection: string; entity: JsonObject }> {
  const c = output.changes
  for (const list of [
    c.creating,
    c.updating,
    c.deleting,
    c.dropped_creations,
    c.dropped_updates,
    c.dropped_deletions,
  ]) {
    for (const change of list ?? []) {
      const collection = COLLECTION_OF_KIND[change.kind]
      if (!collection) continue
      for (const body of [change.body?.new, change.body?.old])
        if (isObject(body)) yield { collection, entity: body }
    }
  }
}
