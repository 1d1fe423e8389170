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
  target: { workspace: string; selectTags: string[]; files: string[] },
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
 * What a `deck gateway sync --json-output` run did. deck lists a change it attempted under
 * creating/updating/deleting whether or not Kong accepted it, and reports each failure as
 * `while processing event: <op> <kind> <name> failed: <cause>` (GDR crud.ActionError).
 */
export function syncOutcome(output: DeckJsonOutput, masker: PlanMasker): SyncOutcome {
  const attempted: { change: PlannedChange; raw: DeckChange; op: string }[] = []
  const add = (action: Action, op: string, list: DeckChange[]) => {
    for (const raw of list) attempted.push({ change: masker.change(action, raw), raw, op })
  }
  add('create', 'Create', output.changes.creating)
  add('update', 'Update', output.changes.updating)
  add('delete', 'Delete', output.changes.deleting)
  const dropped = [
    ...(output.changes.dropped_creations ?? []).map((c) => masker.change('create', c)),
    ...(output.changes.dropped_updates ?? []).map((c) => masker.change('update', c)),
    ...(output.changes.dropped_deletions ?? []).map((c) => masker.change('delete', c)),
  ]

  const failed: SyncOutcome['failed'] = []
  const otherErrors: string[] = []
  const failedSet = new Set<PlannedChange>()
  for (const error of output.errors) {
    // Match on deck's own words for the raw entity, before any masking changed the name. GDR's
    // crud.Op names are capitalized (`Create service x failed`).
    const hit = attempted.find(
      (a) => !failedSet.has(a.change) && error.includes(`${a.op} ${a.raw.kind} ${a.raw.name} failed`),
    )
    if (hit) {
      failedSet.add(hit.change)
      failed.push({ change: hit.change, error })
    } else otherErrors.push(error)
  }
  const applied = attempted.filter((a) => !failedSet.has(a.change)).map((a) => a.change)
  for (const f of failed) {
    // The error names the entity as deck does (a key-auth by part of its key): name it as the plan does.
    const raw = attempted.find((a) => a.change === f.change)!.raw
    f.error = masker.text(
      f.error.replace(`${raw.kind} ${raw.name} failed`, `${raw.kind} ${f.change.name} failed`),
    )
  }
  return {
    applied,
    failed,
    dropped,
    otherErrors: otherErrors.map((e) => masker.text(e)),
    warnings: output.warnings.map((w) => masker.text(w)),
    counts: { ...output.summary },
  }
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
