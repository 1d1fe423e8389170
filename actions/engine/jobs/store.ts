import { DeckhandError } from '../errors.js'
import { formatBytes, type Report } from '../report.js'
import { openStore, parseStoreTarget, type StoreTarget } from '../store/open.js'
import { hasPolicy, planRetention, type RetentionPolicy } from '../store/retention.js'
import { type BackupKind, type BackupStore, isBackupRef, type StoredBackup } from '../store/store.js'
import { uploadBackup } from './artifacts.js'
import type { JobContext } from './context.js'
import type { Inputs } from './inputs.js'
import { identitiesInput, recipientsInput } from './secret-bundle.js'
import { inputName } from './inputs.js'

function storeTarget(inputs: Inputs, fallback: string): StoreTarget | undefined {
  const value = inputs.string('store') ?? fallback
  return value === '' ? undefined : parseStoreTarget(value)
}

async function open(inputs: Inputs, ctx: JobContext, target: StoreTarget): Promise<BackupStore> {
  return openStore(target, {
    endpoint: inputs.string('store-endpoint'),
    region: inputs.string('store-region'),
    logger: ctx.logger,
  })
}

function retentionPolicy(inputs: Inputs): RetentionPolicy {
  return {
    last: inputs.count('keep-last'),
    daily: inputs.count('keep-daily'),
    weekly: inputs.count('keep-weekly'),
    monthly: inputs.count('keep-monthly'),
  }
}

export interface BackupToStore {
  kind: BackupKind
  /** Default source name, when backup-source is not given. */
  source: string
  time: Date
  root: string
  files: string[]
  summary: Record<string, string | number>
  /** The files hold credentials: stored unencrypted only with a warning. */
  sensitive: boolean
  /** Artifact store: the artifact's default name, and what to name when nothing is uploaded. */
  artifactName: string
  location?: string
}

export interface StoredResult {
  artifactId?: string
  /** Where the backup went in a folder or S3 store: `s3://bucket/prefix/db/kong/20261206T071500Z-3f9a1c`. */
  location?: string
  name?: string
  encrypted: boolean
  pruned: string[]
}

/**
 * Puts a finished backup where the store input says: a workflow artifact (as before), or a folder or S3 store,
 * encrypted with age when recipients are given; then applies the retention inputs to that kind and source.
 */
export async function storeBackup(
  inputs: Inputs,
  ctx: JobContext,
  backup: BackupToStore,
  report: Report,
  /** The store when the input is empty: artifact for backups, none for dump. */
  fallback = 'artifact',
): Promise<StoredResult> {
  const target = storeTarget(inputs, fallback)
  const recipients = (inputs.has('age-recipients') && recipientsInput(inputs)) || []
  const policy = retentionPolicy(inputs)
  if (!target) return { encrypted: false, pruned: [] }
  if (target.type === 'artifact') {
    if (recipients.length > 0)
      throw new DeckhandError(
        `${inputName('age-recipients')} encrypts backups kept in a folder or S3 store: set ${inputName('store')} to one (artifacts hold the files as they are).`,
      )
    if (hasPolicy(policy))
      throw new DeckhandError(
        'keep-last, keep-daily, keep-weekly and keep-monthly apply to a folder or S3 store, not artifacts',
      )
    const artifactId = await uploadBackup(inputs, ctx, {
      files: backup.files,
      rootDir: backup.root,
      defaultName: backup.artifactName,
      location: backup.location,
    })
    if (artifactId) report.lines.push(`Uploaded as artifact ${artifactId}.`)
    return { artifactId, encrypted: false, pruned: [] }
  }

  const store = await open(inputs, ctx, target)
  if (recipients.length === 0 && backup.sensitive) {
    ctx.logger.warn(
      `The backup holds credentials and goes to ${store.description} unencrypted: set ${inputName('age-recipients')} to encrypt it before it leaves this machine.`,
    )
  }
  const source = inputs.string('backup-source') ?? backup.source
  const saved = await store.save({
    kind: backup.kind,
    source,
    time: backup.time,
    root: backup.root,
    files: backup.files,
    recipients,
    summary: backup.summary,
  })
  const location = `${store.description}/${saved.backup.folder}`
  report.lines.push(
    `Stored in ${location} (${formatBytes(saved.backup.bytes)}, ${saved.manifest.files.length} object(s)` +
      (recipients.length > 0
        ? `, encrypted with age to ${recipients.map((r) => r.fingerprint).join(', ')})`
        : ', not encrypted by deckhand)') +
      '; its manifest was written last.',
  )
  const pruned: string[] = []
  if (hasPolicy(policy)) {
    const all = await store.list({ kind: backup.kind, source: saved.manifest.source })
    const plan = planRetention(
      all.filter((b) => b.complete && !b.pruning),
      policy,
    )
    for (const old of plan.remove) {
      await store.remove(old)
      pruned.push(old.name)
    }
    // Prunes cut short earlier are finished now: their manifests are gone already.
    for (const leftover of all.filter((b) => b.pruning)) {
      await store.remove(leftover)
      pruned.push(leftover.name)
    }
    report.lines.push(
      pruned.length > 0
        ? `Retention removed ${pruned.length} older backup(s) of ${saved.manifest.source}: ${pruned.join(', ')}; kept ${plan.keep.length}.`
        : `Retention kept all ${plan.keep.length} backup(s) of ${saved.manifest.source}.`,
    )
  }
  return { location, name: saved.backup.name, encrypted: recipients.length > 0, pruned }
}

/**
 * A backup named from a store: `latest`, or a time, of one kind (and source), downloaded, checked against its
 * manifest and decrypted into a private folder that cleanup removes.
 */
export async function fetchFromStore(
  inputs: Inputs,
  ctx: JobContext,
  kind: BackupKind,
  ref: string,
): Promise<{ path: string; backup: StoredBackup; store: BackupStore; cleanup: () => Promise<void> }> {
  const target = storeTarget(inputs, '')
  if (!target || target.type === 'artifact')
    throw new DeckhandError(
      `"${ref}" names a backup in a store: set ${inputName('store')} to the folder or s3:// address db-dump wrote to.`,
    )
  const store = await open(inputs, ctx, target)
  const backup = await store.resolve(kind, ref, inputs.string('backup-source'))
  ctx.logger.info(`Using ${kind} backup ${backup.source}/${backup.name} from ${store.description} (${ref})`)
  const identities = await identitiesInput(inputs, ctx)
  const fetched = await store.fetch(backup, identities)
  return { path: fetched.path, backup, store, cleanup: fetched.cleanup }
}

/** Whether an input names a backup in a store rather than a path or artifact. */
export function namesStoredBackup(inputs: Inputs, value: string): boolean {
  const store = inputs.string('store')
  if (!store || store === 'artifact') return false
  return isBackupRef(value)
}

/** The outputs every backing-up command sets about where its backup went. */
export function storeOutputs(stored: StoredResult): Record<string, string> {
  return {
    'artifact-id': stored.artifactId ?? '',
    stored: stored.location ?? '',
    'backup-name': stored.name ?? '',
    encrypted: String(stored.encrypted),
    pruned: stored.pruned.join('\n'),
  }
}
