import { parseArgs } from 'node:util'

import type { Logger } from '../engine/log.js'
import { BACKUPS_USAGE } from './help.js'
import { didYouMean, parseArgsError, UsageError as CliUsageError } from './options.js'
import { formatBytes, type Report } from '../engine/report.js'
import { openStore, parseStoreTarget } from '../engine/store/open.js'
import { hasPolicy, planRetention, type RetentionPolicy } from '../engine/store/retention.js'
import { type BackupKind, KINDS, nameTime } from '../engine/store/store.js'

function count(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined
  if (!/^[0-9]{1,6}$/.test(value)) throw new UsageError(`--${option} must be a whole number, got "${value}"`)
  return Number(value)
}

class UsageError extends Error {}

/** `deckhand backups list|prune`: exit 0 on success, 1 on a failure, 2 on a usage error. */
export async function backupsCommand(
  argv: string[],
  logger: Logger,
  render: (r: Report) => string,
): Promise<number> {
  const [sub, ...rest] = argv
  if (sub === undefined || sub === '--help' || sub === 'help') {
    process.stdout.write(`${BACKUPS_USAGE}\n`)
    return sub === undefined ? 2 : 0
  }
  if (sub !== 'list' && sub !== 'prune') {
    process.stderr.write(
      `deckhand backups: unknown subcommand "${sub}"${didYouMean(sub, ['list', 'prune'])} (list or prune)\n\n${BACKUPS_USAGE}\n`,
    )
    return 2
  }
  const options = {
    help: { type: 'boolean' },
    json: { type: 'boolean' },
    'dry-run': { type: 'boolean' },
    store: { type: 'string' },
    'store-endpoint': { type: 'string' },
    'store-region': { type: 'string' },
    kind: { type: 'string' },
    source: { type: 'string' },
    'keep-last': { type: 'string' },
    'keep-daily': { type: 'string' },
    'keep-weekly': { type: 'string' },
    'keep-monthly': { type: 'string' },
  } as const
  let values
  try {
    try {
      values = parseArgs({ args: rest, strict: true, options }).values
    } catch (err) {
      throw parseArgsError(err, Object.keys(options), 'backups')
    }
    if (values.help) {
      process.stdout.write(`${BACKUPS_USAGE}\n`)
      return 0
    }
    if (values.kind !== undefined && !KINDS.includes(values.kind as BackupKind))
      throw new UsageError(`--kind must be db, files or state, got "${values.kind}"`)
    const storeValue = values.store ?? process.env.DECKHAND_STORE
    if (!storeValue) throw new UsageError('--store is required: a folder, or s3://bucket/prefix')
    const target = parseStoreTarget(storeValue)
    if (target.type === 'artifact')
      throw new UsageError('artifacts are listed by GitHub, not by deckhand: give a folder or s3:// store')
    const store = await openStore(target, {
      endpoint: values['store-endpoint'] ?? (process.env.DECKHAND_STORE_ENDPOINT || undefined),
      region: values['store-region'] ?? (process.env.DECKHAND_STORE_REGION || undefined),
      logger,
    })
    const kind = values.kind as BackupKind | undefined
    const backups = await store.list({ kind, source: values.source })

    if (sub === 'list') {
      const rows: Record<string, string | number | boolean>[] = []
      for (const b of backups) {
        const encrypted = b.complete ? (await store.manifest(b)).encryption !== null : undefined
        rows.push({
          kind: b.kind,
          source: b.source,
          name: b.name,
          time: nameTime(b.name).toISOString(),
          bytes: b.bytes,
          encrypted: encrypted ?? '',
          verified: b.verified,
          complete: b.complete && !b.pruning,
        })
      }
      if (values.json) process.stdout.write(JSON.stringify(rows, null, 2) + '\n')
      else
        process.stdout.write(
          render({
            title: `Backups in ${store.description}`,
            lines: [`${backups.length} backup(s); ${backups.filter((b) => !b.complete).length} incomplete.`],
            tables: [
              {
                header: ['kind', 'source', 'name', 'time (UTC)', 'size', 'encrypted', 'verified', 'complete'],
                rows: rows.map((r) => [
                  String(r.kind),
                  String(r.source),
                  String(r.name),
                  String(r.time)
                    .replace('T', ' ')
                    .replace(/\.000Z$/, ''),
                  formatBytes(Number(r.bytes)),
                  r.encrypted === '' ? '?' : r.encrypted ? 'yes' : 'no',
                  r.verified ? 'yes' : 'no',
                  r.complete ? 'yes' : 'no (never restored)',
                ]),
              },
            ],
            annotations: [],
          }),
        )
      return 0
    }

    const policy: RetentionPolicy = {
      last: count(values['keep-last'], 'keep-last'),
      daily: count(values['keep-daily'], 'keep-daily'),
      weekly: count(values['keep-weekly'], 'keep-weekly'),
      monthly: count(values['keep-monthly'], 'keep-monthly'),
    }
    if (!hasPolicy(policy)) throw new UsageError('prune needs at least one --keep-* rule')
    if (!kind) throw new UsageError('prune needs --kind: retention applies to one kind of backup at a time')
    const sources = [...new Set(backups.map((b) => b.source))].sort()
    const lines: string[] = []
    const rows: string[][] = []
    for (const source of sources) {
      const of = backups.filter((b) => b.source === source)
      const plan = planRetention(
        of.filter((b) => b.complete && !b.pruning),
        policy,
      )
      const leftovers = of.filter((b) => b.pruning)
      for (const k of plan.keep) rows.push([source, k.backup.name, 'keep', k.reasons.join(', ')])
      for (const r of [...plan.remove, ...leftovers]) {
        rows.push([source, r.name, values['dry-run'] ? 'would remove' : 'removed', ''])
        if (!values['dry-run']) await store.remove(r)
      }
      lines.push(
        `${source}: ${plan.keep.length} kept, ${plan.remove.length + leftovers.length} ${values['dry-run'] ? 'to remove' : 'removed'}.`,
      )
    }
    process.stdout.write(
      render({
        title: `Retention in ${store.description}${values['dry-run'] ? ' (dry run)' : ''}`,
        lines,
        tables: [{ header: ['source', 'name', 'action', 'kept by'], rows }],
        annotations: [],
      }),
    )
    return 0
  } catch (err) {
    if (err instanceof UsageError || err instanceof CliUsageError) {
      process.stderr.write(
        `deckhand backups: ${(err as Error).message}\nRun 'deckhand backups --help' for the options.\n`,
      )
      return 2
    }
    throw err
  }
}
