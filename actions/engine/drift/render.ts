import { describeFields } from '../plan/report.js'
import type { Table } from '../report.js'
import { TYK_SCOPE } from '../tyk/objects.js'
import { countDrift, type Drift, type DriftAction, type DriftCounts, type EntityDrift } from './compare.js'

/** Tables longer than this are folded in summaries and pull request bodies. */
const FOLD_ROWS = 25
/** Commit message lines are cut to this width. */
const LINE_WIDTH = 100

const CHANGE: Record<DriftAction, string> = { added: '+ added', changed: '~ changed', removed: '- removed' }
const MARK: Record<DriftAction, string> = { added: '+', changed: '~', removed: '-' }

/** "2 added, 1 changed, 1 removed"; "no entity changes" when all zero. */
export function describeDrift(counts: DriftCounts): string {
  if (counts.added + counts.changed + counts.removed === 0) return 'no entity changes'
  return `${counts.added} added, ${counts.changed} changed, ${counts.removed} removed`
}

/** One table per workspace with changes, then one of the changed files that were not compared. */
export function driftTables(drift: Drift): Table[] {
  const tables: Table[] = []
  for (const [workspace, entities] of byWorkspace(drift.entities)) {
    const rows = entities.map((e) => [CHANGE[e.action], e.kind, e.name, fieldsCell(e)])
    tables.push({
      caption: `${scopeTitle(workspace)}: ${describeDrift(countDrift(entities))}`,
      header: ['change', 'kind', 'name', 'fields'],
      rows,
      collapsed: rows.length > FOLD_ROWS,
    })
  }
  const others = [
    ...drift.otherFiles.map((file) => [file, 'not a deck state file: not compared']),
    ...drift.unreadable.map((u) => [u.file, `unreadable: ${u.error}`]),
  ]
  if (others.length > 0) {
    tables.push({
      caption: 'Other changed files',
      header: ['file', 'note'],
      rows: others,
      collapsed: others.length > FOLD_ROWS,
    })
  }
  return tables
}

/**
 * Short form for a commit message body: one line per entity, changed ones with the paths of their
 * changed fields (never values), under `workspace <name>:` headers when several workspaces changed.
 */
export function driftLines(drift: Drift, limit = 40): string[] {
  const lines: string[] = []
  const headers = drift.workspaces.length > 1
  let workspace: string | undefined
  for (const [i, e] of drift.entities.entries()) {
    if (i === limit) {
      lines.push(`… and ${drift.entities.length - limit} more`)
      break
    }
    if (headers && e.workspace !== workspace) {
      workspace = e.workspace
      lines.push(cut(`${workspace === TYK_SCOPE ? TYK_SCOPE : `workspace ${workspace}`}:`))
    }
    lines.push(cut(`${headers ? '  ' : ''}${MARK[e.action]} ${e.name}${fieldPaths(e)}`))
  }
  return lines
}

function scopeTitle(workspace: string): string {
  return workspace === TYK_SCOPE ? TYK_SCOPE : `Workspace ${workspace}`
}

function fieldsCell(e: EntityDrift): string {
  if (e.action !== 'changed') return ''
  return describeFields({
    action: 'update',
    kind: e.kind,
    name: e.name,
    fields: e.fields,
    fieldCount: e.fieldCount,
  })
}

function fieldPaths(e: EntityDrift): string {
  if (!e.fields || e.fields.length === 0) return ''
  const paths = e.fields.map((f) => f.path)
  const more = (e.fieldCount ?? paths.length) - paths.length
  if (more > 0) paths.push(`${more} more`)
  return ` (${paths.join(', ')})`
}

function cut(line: string): string {
  return line.length <= LINE_WIDTH ? line : `${line.slice(0, LINE_WIDTH - 1)}…`
}

function byWorkspace(entities: readonly EntityDrift[]): Map<string, EntityDrift[]> {
  const groups = new Map<string, EntityDrift[]>()
  for (const e of entities) {
    const group = groups.get(e.workspace)
    if (group) group.push(e)
    else groups.set(e.workspace, [e])
  }
  return groups
}
