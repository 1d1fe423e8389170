import type { Connection } from '../deck/connection.js'
import { KongAdmin } from '../kong/admin.js'
import { LiveSchemas } from '../kong/schemas.js'
import { type JsonObject, walkEntities } from '../state/entities.js'
import { type SchemaKind, SecretRules } from './rules.js'
import type { SchemaNode } from './schema-tree.js'

/** Collections of deck's file format that are no table of Kong's own (nothing to ask a schema of). */
const NOT_ENTITIES = new Set(['plugins', 'groups', 'consumers_of_group'])

/** Largest schema answer read from a gateway. */
const MAX_SCHEMA_BYTES = 4 * 1024 * 1024

/** What a set of state files asks schemas of: plugin names, vault backends, entity tables. */
export interface SchemaNeeds {
  plugins: Set<string>
  vaults: Set<string>
  entities: Set<string>
}

export function emptyNeeds(): SchemaNeeds {
  return { plugins: new Set(), vaults: new Set(), entities: new Set() }
}

/** Adds what one entity of a collection (deck's file format) asks schemas of to `needs`. */
export function addNeeds(needs: SchemaNeeds, collection: string, entity: JsonObject): void {
  if (collection === 'plugins' && typeof entity.name === 'string') needs.plugins.add(entity.name)
  else if (collection === 'vaults' && typeof entity.name === 'string') needs.vaults.add(entity.name)
  if (!NOT_ENTITIES.has(collection)) needs.entities.add(collection)
}

/** Adds what one state file holds to `needs`. */
export function collectNeeds(content: JsonObject, needs: SchemaNeeds): SchemaNeeds {
  walkEntities(content, ({ entity, collection, parents }) => {
    // A consumer group's `consumers` lists members, not consumers of their own.
    if (collection === 'consumers' && parents.some((p) => p.collection === 'consumer_groups')) return
    addNeeds(needs, collection, entity)
  })
  return needs
}

/**
 * Reads from the gateway the schema of every plugin, vault backend and entity the files hold, and adds
 * them to the bundled catalogue's rules, one file at a time (each schema is read once). Nothing here
 * fails the job: a schema that cannot be read leaves the catalogue, field names and value detectors to
 * decide, and {@link problems} says which and why, for the job's report.
 */
export class LiveRules {
  readonly rules = new SecretRules()
  private live: LiveSchemas | undefined
  private readonly added = new Set<string>()

  constructor(
    private readonly connection: Connection,
    /** `version` keys schemas where the source has no `GET /`; `kinds` limits what is asked for. */
    private readonly options: { version?: string; kinds?: readonly SchemaKind[] } = {},
  ) {}

  /** Why some schema could not be read; never a value. */
  get problems(): readonly string[] {
    return this.live?.problems ?? []
  }

  /** The rules for one state file, after reading the schemas it needs that were not read yet. */
  for(content: JsonObject): Promise<SecretRules> {
    return this.forNeeds(collectNeeds(content, emptyNeeds()))
  }

  /** The rules for some entities (a plan's bodies), likewise. */
  forEntities(entities: Iterable<{ collection: string; entity: JsonObject }>): Promise<SecretRules> {
    const needs = emptyNeeds()
    for (const { collection, entity } of entities) addNeeds(needs, collection, entity)
    return this.forNeeds(needs)
  }

  private async forNeeds(needs: SchemaNeeds): Promise<SecretRules> {
    const fresh = (kind: SchemaKind, names: Set<string>) =>
      this.options.kinds && !this.options.kinds.includes(kind)
        ? []
        : [...names].filter((n) => !this.added.has(`${kind}/${n}`))
    const wanted = {
      plugins: fresh('plugins', needs.plugins),
      vaults: fresh('vaults', needs.vaults),
      entities: fresh('entities', needs.entities),
    }
    if (wanted.plugins.length + wanted.vaults.length + wanted.entities.length === 0) return this.rules
    if (!this.live) {
      const admin = await KongAdmin.open(this.connection.kongAddr, this.connection)
      // A schema is a few KiB (openid-connect's, the largest, about 200 KiB): a larger answer is no schema.
      this.live = new LiveSchemas(
        {
          address: admin.address,
          request: (method, path) => admin.request(method, path, undefined, undefined, MAX_SCHEMA_BYTES),
        },
        { version: this.options.version },
      )
    }
    await this.live.prefetch(wanted)
    for (const name of wanted.plugins) await this.add('plugins', name, this.live.plugin(name))
    for (const name of wanted.vaults) await this.add('vaults', name, this.live.vault(name))
    for (const name of wanted.entities) await this.add('entities', name, this.live.entity(name))
    return this.rules
  }

  private async add(kind: SchemaKind, name: string, reading: Promise<SchemaNode | undefined>): Promise<void> {
    this.added.add(`${kind}/${name}`)
    const node = await reading
    if (node) this.rules.addLive(kind, name, node)
  }
}
