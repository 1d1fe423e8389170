import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'

import { findOnPath } from '../deck/install.js'
import { DeckhandError } from '../errors.js'
import { privateTempDir, writeFileAtomic } from '../fs-atomic.js'
import { readJsonFile } from '../json-file.js'
import type { Logger } from '../log.js'
import type { SyncOutcome } from '../plan/model.js'
import { run, type RunResult } from '../process.js'
import { scrub } from '../scrub.js'
import { isObject } from '../state/entities.js'
import { MAX_STATE_BYTES } from '../state/read.js'
import {
  fileNameOf,
  renderObject,
  sortObjects,
  TYK_SPEC_FILE,
  tykObject,
  type TykObject,
  tykSpec,
} from './objects.js'
import { lastPolicyProblem, type TykPlan } from './plan.js'
import type { TykWriter } from './sync.js'

/**
 * tyk-sync for Tyk Dashboard users: `dump` reads the Dashboard into a folder, `sync` makes it hold a
 * folder (deleting what the folder lacks), `publish` only creates. deckhand plans first from a fresh
 * dump, so the delete guard sees what sync would delete. The last open-source release, 1.5.0, is the
 * one these flags follow; the secret goes in TYKGIT_DB_SECRET, never on the command line. Against an
 * open-source gateway tyk-sync skips policies, so there deckhand talks to the Gateway API itself.
 */

export type TykSyncCommand = 'dump' | 'sync' | 'publish'

/** tyk-sync's argv: the Dashboard URL and a folder; `dump` writes into it, the others read it. */
export function tykSyncArgs(command: TykSyncCommand, dashboard: string, folder: string): string[] {
  return command === 'dump'
    ? ['dump', '-d', dashboard, '-t', folder]
    : [command, '-d', dashboard, '-p', folder]
}

/** The tyk-sync binary: tyk-sync-path when given, else `tyk-sync` on PATH. */
export async function locateTykSync(path: string | undefined, pathEnv: string): Promise<string> {
  if (path) return path
  const found = await findOnPath('tyk-sync', pathEnv)
  if (!found) {
    throw new DeckhandError(
      'tyk-dashboard needs tyk-sync, which is not on PATH: install it (1.5.0 is the last open-source release) or set tyk-sync-path.',
    )
  }
  return found
}

export class TykSync implements TykWriter {
  readonly dashboard = true
  /** What the last run printed (secret scrubbed), for errors that come after it exited. */
  private lastOutput = ''
  /**
   * The Dashboard's templates (tyk-sync's assets) as the last read found them: `tyk-sync sync` deletes
   * every template its folder does not list, and deckhand does not keep templates, so a sync carries
   * over those of the dump it was planned from.
   */
  private assets: { file: string; id: string; text: string }[] = []

  constructor(
    private readonly program: string,
    /** The Dashboard's URL. */
    private readonly url: string,
    private readonly secret: string,
    private readonly logger: Logger,
    private readonly timeoutMs = 300_000,
  ) {}

  private async run(command: TykSyncCommand, folder: string): Promise<RunResult> {
    let result: RunResult
    try {
      result = await run(this.program, tykSyncArgs(command, this.url, folder), {
        env: { TYKGIT_DB_SECRET: this.secret },
        timeoutMs: this.timeoutMs,
      })
    } catch (err) {
      throw new DeckhandError(`tyk-sync could not be started (${this.program}): ${(err as Error).message}`)
    }
    const output = scrub(`${result.stdout}\n${result.stderr}`, [this.secret]).trim()
    this.lastOutput = output
    for (const line of output.split('\n')) if (line.trim() !== '') this.logger.debug(`tyk-sync: ${line}`)
    // tyk-sync reports some failures with "Error:" and exit status 0.
    const error = output.split('\n').find((line) => /^\s*(Error|FATA|panic)\b/.test(line))
    if (result.exitCode !== 0 || result.signal || error) {
      const why = error?.trim() ?? output.split('\n').slice(-3).join(' ').trim()
      throw new DeckhandError(
        `tyk-sync ${command} failed (${result.signal ? `killed by ${result.signal}` : `exit ${result.exitCode}`}): ${why || 'no output'}`,
      )
    }
    return result
  }

  /** The Dashboard's APIs and policies, from a dump into a private folder (it may hold secrets). */
  async read(): Promise<TykObject[]> {
    const work = await privateTempDir('deckhand-tyk-sync-')
    try {
      await this.run('dump', work.path)
      const objects = await readTykSyncFolder(work.path).catch((err: unknown) => {
        // tyk-sync exits 0 on some failures (an unreachable Dashboard): say what it printed.
        const said = this.lastOutput.split('\n').slice(-3).join(' ').trim()
        throw new DeckhandError(`${(err as Error).message}. tyk-sync said: ${said || 'nothing'}`)
      })
      this.assets = await readAssets(work.path)
      return objects
    } finally {
      await work.cleanup()
    }
  }

  /** Writes the desired objects (secrets filled) into a private folder and syncs the Dashboard to it. */
  async apply(plan: TykPlan, desired: readonly TykObject[]): Promise<SyncOutcome> {
    const work = await privateTempDir('deckhand-tyk-sync-')
    const outcome: SyncOutcome = {
      applied: [],
      failed: [],
      dropped: [],
      notAttempted: [],
      otherErrors: [],
      warnings: [],
      counts: { ...plan.plan.counts },
    }
    try {
      const refusal = lastPolicyProblem(desired, plan.steps)
      if (refusal.length > 0) throw new DeckhandError(`nothing was sent: ${refusal[0]}`)
      const objects = sortObjects(desired)
      for (const object of objects)
        await writeFileAtomic(join(work.path, fileNameOf(object)), renderObject(object.body))
      for (const asset of this.assets) await writeFileAtomic(join(work.path, asset.file), asset.text)
      const assets = this.assets.map(({ file, id }) => ({ file, id }))
      await writeFileAtomic(join(work.path, TYK_SPEC_FILE), tykSpec(objects, assets))
      await this.run('sync', work.path)
      outcome.applied = plan.steps.map((s) => s.change)
    } catch (err) {
      if (!(err instanceof DeckhandError)) throw err
      // tyk-sync does not say how far it got: nothing is reported as applied, and the re-plan tells.
      outcome.otherErrors.push(scrub(err.message, plan.secrets))
    } finally {
      await work.cleanup()
    }
    return outcome
  }
}

/** The templates a tyk-sync dump listed in its `.tyk.json`, with their files' text. */
async function readAssets(dir: string): Promise<{ file: string; id: string; text: string }[]> {
  const spec = (await readJsonFile(join(dir, TYK_SPEC_FILE), `tyk-sync ${TYK_SPEC_FILE}`)) as {
    assets?: { file?: unknown; id?: unknown }[]
  }
  const assets: { file: string; id: string; text: string }[] = []
  for (const asset of spec.assets ?? []) {
    if (typeof asset.file !== 'string' || asset.file.includes('/') || asset.file.includes('..')) continue
    const text = await readFile(join(dir, asset.file), 'utf8')
    assets.push({ file: asset.file, id: typeof asset.id === 'string' ? asset.id : '', text })
  }
  return assets
}

/** The objects of a tyk-sync folder: the files its `.tyk.json` lists (templates, `assets`, are not kept). */
export async function readTykSyncFolder(dir: string): Promise<TykObject[]> {
  const specPath = join(dir, TYK_SPEC_FILE)
  if (!(await stat(specPath).catch(() => undefined)))
    throw new DeckhandError(`tyk-sync wrote no ${TYK_SPEC_FILE}: the dump is incomplete`)
  const spec = (await readJsonFile(specPath, `tyk-sync ${TYK_SPEC_FILE}`)) as {
    files?: { file?: string }[]
    policies?: { file?: string }[]
  }
  const names = [...(spec.files ?? []), ...(spec.policies ?? [])].map((entry) => entry.file)
  const objects: TykObject[] = []
  for (const name of names) {
    if (typeof name !== 'string' || name.includes('/') || name.includes('..'))
      throw new DeckhandError(`${TYK_SPEC_FILE} lists an unexpected file name: ${String(name)}`)
    const body = await readJsonFile(join(dir, name), 'Tyk definition written by tyk-sync', MAX_STATE_BYTES)
    if (!isObject(body)) throw new DeckhandError(`tyk-sync wrote ${name}, which is not a JSON object`)
    objects.push(tykObject(body, `${name} of the tyk-sync dump`))
  }
  return objects
}
