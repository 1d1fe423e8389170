import { lstat, mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'

import type { AgeRecipient } from './age.js'
import { dumpArgs } from './deck/commands.js'
import { type DeckRunner } from './deck/runner.js'
import { DeckhandError, fileSystemError } from './errors.js'
import { privateTempDir, writeFileAtomic } from './fs-atomic.js'
import { removeOnStop } from './shutdown.js'
import type { Logger } from './log.js'
import { digestFiles, sha256Hex } from './state/digest.js'
import { countEntities, isObject, totalEntities } from './state/entities.js'
import { parseDeckOutput, processContent, type ProcessedFile } from './state/pipeline.js'
import { readStateFile, readStateText, StateReadError } from './state/read.js'
import { BUNDLE_FILE, MAX_BUNDLE_BYTES, sealBundle } from './secrets/bundle.js'
import type { LiveRules } from './secrets/live-rules.js'
import type { Redaction } from './state/redact.js'

/** sha256sum-format manifest of the files a dump owns; written last, so its presence means "complete". */
export const MANIFEST = 'SHA256SUMS'
/** Names (never values) of the variables a redacted dump needs at sync time. */
export const REQUIRED_ENV = 'required-env.txt'

export interface DumpOptions {
  deck: DeckRunner
  logger: Logger
  outputDir: string
  workspace?: string
  allWorkspaces?: boolean
  /**
   * Konnect: the control planes to dump (the runner is a Konnect one), one file each, named for the control
   * plane, as workspaces are for Kong.
   */
  controlPlanes?: readonly string[]
  /**
   * Files deckhand writes beside the state and owns like it (manifest, removal), keyed by name: Konnect's
   * `.konnect.json`. A name starting with a dot, so that state folders read as state never take it for a file.
   */
  sidecars?: ReadonlyMap<string, string>
  selectTags?: readonly string[]
  skipConsumers?: boolean
  withId?: boolean
  redactSecrets: boolean
  /** Reads the gateway's schemas for redaction; without it, the bundled catalogue decides alone. */
  liveRules?: LiveRules
  /** Konnect: each control plane's own schemas (it may run custom plugins), instead of `liveRules`. */
  liveRulesFor?: (controlPlane: string) => Promise<LiveRules | undefined>
  allowEmpty?: boolean
  /** Per-invocation limit for deck, in milliseconds. */
  timeoutMs?: number
  /**
   * age recipients: every redacted value goes, encrypted to them, into `secrets.age` beside the files. Only with
   * redactSecrets (unredacted files hold the values already).
   */
  recipients?: readonly AgeRecipient[]
}

export interface WorkspaceDump {
  workspace: string
  file: string
  counts: Record<string, number>
  redactions: Redaction[]
}

export interface DumpResult {
  /** Paths of the written state files, one per workspace. */
  files: string[]
  workspaces: WorkspaceDump[]
  entityCount: number
  digest: string
  secretsRedacted: number
  /** Sorted, unique variable names the files reference. */
  requiredEnv: string[]
  /** Files of an earlier dump removed because their workspace is gone. */
  removed: string[]
  /** False when the new files are byte-identical to what output-dir held. */
  changed: boolean
  /** The encrypted secret bundle, when recipients were given. */
  bundle?: BundleResult
}

export interface BundleResult {
  file: string
  /** Values it holds. */
  count: number
  /** Fingerprints of its recipients. */
  recipients: string[]
  /** True when the previous bundle held exactly these values for these recipients, and was kept byte for byte. */
  unchanged: boolean
}

/** age-recipients with unredacted files: the files hold the values already, a bundle would add nothing. */
export function checkBundleOptions(options: Pick<DumpOptions, 'recipients' | 'redactSecrets'>): void {
  if (options.recipients && !options.redactSecrets) {
    throw new DeckhandError(
      'age-recipients needs redact-secrets: true. With redact-secrets: false the files hold every value in plain ' +
        'text already, so there is nothing to encrypt; set redact-secrets: true (the default) to keep the values ' +
        'only in the encrypted secrets.age, or drop age-recipients.',
    )
  }
}

/** Workspace names become file names: refuse anything that could escape the output directory. */
function fileNameFor(workspace: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(workspace) || workspace.includes('..')) {
    throw new DeckhandError(`workspace name "${workspace}" cannot be used as a file name`)
  }
  return `${workspace}.yaml`
}

/**
 * Files of an earlier dump that the new one drops: only those the previous SHA256SUMS lists that are
 * still exactly what deckhand wrote (a regular file with the recorded digest). A hand-edited file, a
 * folder, a link or a name the manifest should never have held is kept, with a warning: deckhand deletes
 * only its own files.
 */
async function removable(
  dir: string,
  recorded: ReadonlyMap<string, string>,
  keep: ReadonlyMap<string, unknown>,
  logger: Logger,
): Promise<string[]> {
  const names: string[] = []
  for (const [name, digest] of recorded) {
    if (keep.has(name) || name === MANIFEST) continue
    const info = await lstat(join(dir, name)).catch(() => undefined)
    if (!info) continue
    if (!info.isFile()) {
      logger.warn(`Kept ${name}: ${MANIFEST} lists it, but it is not a file deckhand wrote`)
      continue
    }
    if (sha256Hex(await readFile(join(dir, name))) !== digest) {
      logger.warn(`Kept ${name}: it changed since deckhand wrote it, so it is no longer deckhand's to delete`)
      continue
    }
    names.push(name)
  }
  return names
}

/**
 * Dumps Kong's configuration into `<output-dir>/<workspace>.yaml`, normalized and (by default) with
 * every secret replaced by a deck environment reference. Nothing in output-dir changes unless deck
 * succeeded and every file parsed: the new files are staged beside the old ones and renamed in, and the
 * manifest goes last.
 */
export async function dump(options: DumpOptions): Promise<DumpResult> {
  if (options.workspace && options.allWorkspaces) {
    throw new DeckhandError('workspace and all-workspaces exclude each other: set one of them')
  }
  checkBundleOptions(options)
  await ensureDirectory(options.outputDir)

  const processed = options.controlPlanes
    ? await dumpControlPlanes(options, options.controlPlanes)
    : await runDeckDump(options)
  const entityCount = processed.reduce((sum, f) => sum + totalEntities(f.counts), 0)
  if (entityCount === 0 && !options.allowEmpty) {
    const previous = await previousEntityCount(options.outputDir)
    if (previous > 0) {
      throw new DeckhandError(
        `deck returned no entities, but the previous dump in ${options.outputDir} holds ${previous}. ` +
          'Refusing to replace it with an empty one (wrong workspace, select-tags or address?). ' +
          'Set allow-empty: true if the gateway really is empty now.',
      )
    }
  }

  const files = new Map<string, string>()
  const workspaces: WorkspaceDump[] = []
  for (const file of processed) {
    const name = fileNameFor(file.workspace)
    if (files.has(name)) throw new DeckhandError(`deck returned workspace "${file.workspace}" twice`)
    files.set(name, file.yaml)
    workspaces.push({
      workspace: file.workspace,
      file: join(options.outputDir, name),
      counts: file.counts,
      redactions: file.redactions,
    })
  }
  const requiredEnv = [...new Set(processed.flatMap((f) => f.redactions.map((r) => r.name)))].sort()
  const secrets = collectSecrets(processed, options)
  const owned = new Map<string, string | Uint8Array>(files)
  for (const [name, content] of options.sidecars ?? []) owned.set(name, content)
  let bundle: BundleResult | undefined
  if (options.recipients) {
    const sealed = await sealBundle(secrets, options.recipients, await previousBundle(options.outputDir))
    owned.set(BUNDLE_FILE, sealed.bytes)
    bundle = {
      file: join(options.outputDir, BUNDLE_FILE),
      count: secrets.size,
      recipients: options.recipients.map((r) => r.fingerprint),
      unchanged: sealed.unchanged,
    }
  }
  const outcome = await install(
    options.outputDir,
    owned,
    requiredEnv,
    options.logger,
    undefined,
    bundle !== undefined,
  )

  return {
    files: workspaces.map((w) => w.file),
    workspaces,
    entityCount,
    digest: digestFiles(files),
    secretsRedacted: processed.reduce((sum, f) => sum + f.redactions.length, 0),
    requiredEnv,
    ...outcome,
    bundle,
  }
}

/**
 * The redacted values of every workspace, by variable. Names carry their workspace, but two workspaces whose
 * names differ only in punctuation (`team-a`, `team_a`) can give the same variable: with the same value that is
 * harmless; with different values deck cannot be given both, so a bundle is refused and otherwise it is a warning.
 */
function collectSecrets(processed: readonly ProcessedFile[], options: DumpOptions): Map<string, string> {
  const values = new Map<string, string>()
  const owner = new Map<string, string>()
  const clashes: string[] = []
  for (const file of processed) {
    for (const [name, value] of file.secrets) {
      const earlier = values.get(name)
      if (earlier !== undefined && earlier !== value) {
        clashes.push(`${name} (workspaces ${owner.get(name)} and ${file.workspace})`)
        continue
      }
      values.set(name, value)
      owner.set(name, file.workspace)
    }
  }
  if (clashes.length > 0) {
    const message =
      `${clashes.length} variable(s) stand for different values in two workspaces whose names differ only in ` +
      `punctuation: ${clashes.join(', ')}. deck fills a variable with one value, so one of the workspaces would be synced with the other's secret.`
    if (options.recipients) {
      throw new DeckhandError(
        `${message} The secret bundle cannot hold both: dump those workspaces in separate steps, into separate output-dirs.`,
      )
    }
    options.logger.warn(`${message} Dump those workspaces into separate output-dirs.`)
  }
  return values
}

/**
 * The bundle of the previous dump, when it is still exactly what deckhand wrote: a regular file, within the size
 * limit, whose digest the previous SHA256SUMS lists. Only such a bundle may be kept as it is: its stamp vouches
 * for its values, and the manifest for the rest of the file (a bundle cut short keeps its header).
 */
async function previousBundle(dir: string): Promise<Uint8Array | undefined> {
  const text = await readFile(join(dir, MANIFEST), 'utf8').catch(() => undefined)
  const digest = text === undefined ? undefined : manifestEntries(text).get(BUNDLE_FILE)
  if (digest === undefined) return undefined
  const path = join(dir, BUNDLE_FILE)
  const info = await lstat(path).catch(() => undefined)
  if (!info?.isFile() || info.size > MAX_BUNDLE_BYTES) return undefined
  const bytes = await readFile(path).catch(() => undefined)
  return bytes !== undefined && sha256Hex(bytes) === digest ? bytes : undefined
}

export async function ensureDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined)
  if (info && !info.isDirectory()) throw new DeckhandError(`output-dir ${dir} exists and is not a directory`)
  try {
    await mkdir(dir, { recursive: true })
  } catch (err) {
    throw new DeckhandError(`output-dir ${dir} cannot be created: ${(err as Error).message}`)
  }
}

/**
 * The file name of a control plane's dump: its name where that is a safe file name, else the name with every
 * other character replaced by `-` (Konnect names may hold spaces). Two control planes may not share one.
 */
export function controlPlaneFiles(names: readonly string[]): Map<string, string> {
  const files = new Map<string, string>()
  const owners = new Map<string, string>()
  for (const name of names) {
    const stem =
      /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name) && !name.includes('..')
        ? name
        : name
            .replace(/[^A-Za-z0-9._-]+/g, '-')
            .replace(/\.\.+/g, '.')
            .replace(/^[^A-Za-z0-9]+/, '')
            .replace(/-+$/, '')
    if (stem === '') throw new DeckhandError(`control plane name "${name}" gives no usable file name`)
    const other = owners.get(stem.toLowerCase())
    if (other !== undefined && other !== name) {
      throw new DeckhandError(
        `control planes "${other}" and "${name}" would be dumped into one file (${stem}.yaml): dump them into separate output-dirs`,
      )
    }
    owners.set(stem.toLowerCase(), name)
    files.set(name, stem)
  }
  return files
}

/** One deck dump per control plane, one after another (Konnect rate-limits an organization's requests). */
async function dumpControlPlanes(options: DumpOptions, names: readonly string[]): Promise<ProcessedFile[]> {
  if (names.length === 0) throw new DeckhandError('konnect-control-plane names no control plane to dump')
  const results: ProcessedFile[] = []
  for (const [name, stem] of controlPlaneFiles([...new Set(names)])) {
    const deck = options.deck.forControlPlane(name)
    const liveRules = (await options.liveRulesFor?.(name)) ?? options.liveRules
    const single = { ...options, deck, liveRules, workspace: undefined, allWorkspaces: false }
    for (const file of await runDeckDump(single, stem)) results.push(file)
  }
  return results
}

/**
 * Runs deck in a private directory (its output holds plaintext secrets) and processes what it wrote. `label`
 * names a single file's target when it is not a workspace (a Konnect control plane's file name).
 */
async function runDeckDump(options: DumpOptions, label?: string): Promise<ProcessedFile[]> {
  const work = await privateTempDir('deckhand-dump-')
  try {
    const single = !options.allWorkspaces
    const args = dumpArgs(options.deck.deck.features, {
      outputFile: single ? join(work.path, 'dump.json') : undefined,
      workspace: options.workspace,
      allWorkspaces: options.allWorkspaces,
      selectTags: options.selectTags,
      skipConsumers: options.skipConsumers,
      withId: options.withId,
    })
    // --all-workspaces writes <workspace>.json into deck's working directory.
    await options.deck.run(args, { online: true, cwd: work.path, timeoutMs: options.timeoutMs })
    // deck adds `.json` only to a name without an extension (GDR file writer), so workspace `team.v2` is
    // written as `team.v2`: every file deck wrote into this private folder is a dump, and names its
    // workspace in `_workspace`.
    const outputs = (await readdir(work.path, { withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => entry.name)
      .sort()
    if (outputs.length === 0) throw new DeckhandError('deck reported success but wrote no dump file')
    const results: ProcessedFile[] = []
    for (const name of outputs) {
      const fallback = single
        ? (label ?? options.workspace ?? 'default')
        : name.endsWith('.json')
          ? basename(name, '.json')
          : name
      const source = `deck dump ${fallback}`
      const content = parseDeckOutput(await readFile(join(work.path, name), 'utf8'), source)
      // The gateway's own schemas decide what is secret, beside the bundled catalogue.
      const rules =
        options.redactSecrets && options.liveRules && isObject(content)
          ? await options.liveRules.for(content)
          : undefined
      results.push(
        processContent(content, { workspace: fallback, redact: options.redactSecrets, source, rules }),
      )
    }
    options.logger.debug(`deck wrote ${outputs.length} file(s)`)
    return results
  } finally {
    await work.cleanup()
  }
}

/** The file names a dump manifest lists: the files deckhand owns in its folder. */
export function manifestNames(text: string): string[] {
  return [...manifestEntries(text).keys()]
}

/**
 * The files a SHA256SUMS lists, with their digests: names of files in the same folder only (no `/`, not
 * `.` or `..`), as deckhand writes them.
 */
export function manifestEntries(text: string): Map<string, string> {
  const entries = new Map<string, string>()
  for (const line of text.split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line)
    if (!m || m[2]!.includes('/') || m[2] === '.' || m[2] === '..' || m[2]!.includes('\0')) continue
    entries.set(m[2]!, m[1]!)
  }
  return entries
}

/** Files listed in an earlier dump's manifest. */
export async function previousFiles(dir: string): Promise<string[] | undefined> {
  const text = await readFile(join(dir, MANIFEST), 'utf8').catch(() => undefined)
  return text === undefined ? undefined : manifestNames(text)
}

async function previousEntityCount(dir: string): Promise<number> {
  const names = (await previousFiles(dir)) ?? (await readdir(dir)).filter((f) => f.endsWith('.yaml'))
  let total = 0
  for (const name of names.filter((n) => n.endsWith('.yaml'))) {
    const path = join(dir, name)
    let text: string
    try {
      text = await readStateFile(path)
    } catch (err) {
      // Gone is empty; too large to read is not.
      if (err instanceof StateReadError) total += 1
      continue
    }
    try {
      const doc: unknown = readStateText(text, path)
      if (isObject(doc)) total += totalEntities(countEntities(doc))
    } catch {
      // An unreadable earlier dump is not proof that the gateway was empty: err on keeping it.
      total += text.trim() === '' ? 0 : 1
    }
  }
  return total
}

/**
 * Puts the new files in place: stage them and the manifest in a directory inside output-dir (same file
 * system, so renames are atomic and need no space), rename each over its old version, drop files of
 * vanished workspaces, then rename the manifest in. Identical files are rewritten too, which also repairs
 * hand edits. A crash before the manifest leaves complete files and an old manifest, which the next run
 * repairs.
 */
export async function install(
  dir: string,
  files: Map<string, string | Uint8Array>,
  requiredEnv: string[],
  logger: Logger,
  /** What needs the variables, for required-env.txt's first line. */
  neededBy = 'deck sync/diff/validate',
  /** Whether `files` holds the secret bundle, which holds the variables' values. */
  bundled = false,
): Promise<{ removed: string[]; changed: boolean }> {
  const all = new Map(files)
  const alternative = bundled ? `, or give age-identity: ${BUNDLE_FILE} holds their values` : ''
  all.set(
    REQUIRED_ENV,
    requiredEnv.length === 0
      ? ''
      : `# Set these environment variables before ${neededBy} of these files${alternative}.\n${requiredEnv.join('\n')}\n`,
  )
  const manifest = [...all.keys()]
    .sort()
    .map((name) => `${sha256Hex(all.get(name)!)}  ${name}\n`)
    .join('')

  const before = await readFile(join(dir, MANIFEST), 'utf8').catch(() => undefined)
  const removed = await removable(
    dir,
    before === undefined ? new Map() : manifestEntries(before),
    all,
    logger,
  )
  const unchanged = before === manifest && removed.length === 0
  if (unchanged) logger.info('Configuration unchanged since the last dump')

  // Everything, the manifest included, is written into the staging folder before anything is renamed: a full
  // disk fails here, with the previous dump as it was and the staging folder removed. Renames need no space.
  let staging: string | undefined
  let forget = (): void => undefined
  try {
    staging = await mkdtemp(join(dir, '.deckhand-staging-'))
    forget = removeOnStop(staging)
    for (const [name, data] of all) await writeFileAtomic(join(staging, name), data)
    await writeFileAtomic(join(staging, MANIFEST), manifest)
    for (const name of all.keys()) await rename(join(staging, name), join(dir, name))
    for (const name of removed) {
      try {
        await rm(join(dir, name), { force: true })
        if (name === BUNDLE_FILE)
          logger.warn(
            `Removed ${name}: age-recipients is not set, so it would no longer follow the gateway's secrets (git's history keeps it)`,
          )
        else logger.info(`Removed ${name}: what it held is no longer on the gateway`)
      } catch (err) {
        // The new dump is in place already: a file that cannot go is reported, not a failed dump.
        logger.warn(
          `Kept ${name} (${(err as NodeJS.ErrnoException).code ?? 'error'}): remove it by hand if it is no longer wanted`,
        )
      }
    }
    await rename(join(staging, MANIFEST), join(dir, MANIFEST))
  } catch (err) {
    throw fileSystemError(err, dir)
  } finally {
    if (staging !== undefined) await rm(staging, { recursive: true, force: true })
    forget()
  }
  return { removed: removed.map((name) => join(dir, name)), changed: !unchanged }
}
