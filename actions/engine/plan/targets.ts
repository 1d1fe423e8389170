import { append } from '../arrays.js'
import { konnectProblems } from '../konnect/compatibility.js'
import { findEnvReferences, missingEnv } from '../state/env-refs.js'
import { checkFile, envProblem, expandState, type Problem } from '../state/files.js'
import { readStateFile, StateReadError, type StateData } from '../state/read.js'

/**
 * What one deck diff or sync run covers: deck takes one workspace per run and merges the files it is
 * given, which must share their select tags. Files of one workspace are therefore planned and synced
 * together (separately they would delete each other's entities); a second tag set of the same
 * workspace is a target of its own, never synced at the same time as the first.
 */
export interface StateTarget {
  /** Workspace to pass to deck, empty when neither the files nor the input name one (the default). */
  workspace: string
  /** Konnect: the control plane the files are planned against (each one is a deck run of its own). */
  controlPlane?: string
  selectTags: string[]
  files: string[]
}

export interface TargetOptions {
  /** Files or directories. */
  state: readonly string[]
  /** Overrides `_workspace` of every file. */
  workspace?: string
  /**
   * Konnect: files are grouped by the control plane they name (`_konnect.control_plane_name`), or all
   * planned against `controlPlane` when it is given; a file that names none is a problem.
   */
  konnect?: { controlPlane?: string }
  /** Overrides `_info.select_tags` of every file. */
  selectTags?: readonly string[]
  env: NodeJS.ProcessEnv
  /** What deck needs the variables for, in the message about unset ones. */
  purpose?: string
  /** Where values of unset variables may be, for the same message. */
  hint?: string
  /**
   * Called with each file after its checks, with its data when it could be read (which the callback may
   * change): a further check that needs no second read of the file.
   */
  inspect?: (file: string, text: string, state: StateData | undefined) => void
}

/**
 * Reads the state files, checks them locally (YAML, format, duplicates, and every DECK_ variable they
 * reference being set) and groups them into targets. Nothing here talks to deck or Kong.
 */
export async function readTargets(
  options: TargetOptions,
): Promise<{ targets: StateTarget[]; files: string[]; problems: Problem[]; envNames: string[] }> {
  const files = await expandState(options.state)
  const problems: Problem[] = []
  const refs: { name: string; file: string; line: number }[] = []
  const groups = new Map<string, StateTarget>()
  for (const file of files) {
    let text: string
    try {
      text = await readStateFile(file)
    } catch (err) {
      if (!(err instanceof StateReadError)) throw err
      problems.push({ check: 'yaml', file, message: err.reason })
      continue
    }
    const checked = checkFile(file, text)
    append(problems, checked.problems)
    // On its way to Konnect, what a control plane refuses is found here, before anything is sent.
    if (options.konnect && checked.state) append(problems, konnectProblems(file, checked.state))
    for (const ref of findEnvReferences(text)) refs.push({ ...ref, file })
    options.inspect?.(file, text, checked.state)
    const workspace = options.workspace ?? checked.workspace ?? ''
    const selectTags = [
      ...(options.selectTags?.length ? options.selectTags : (checked.selectTags ?? [])),
    ].sort()
    const controlPlane = options.konnect ? (options.konnect.controlPlane ?? checked.controlPlane) : undefined
    if (options.konnect && !controlPlane) {
      problems.push({
        check: 'konnect',
        file,
        message:
          'names no Konnect control plane: add _konnect: {control_plane_name: <name>} to it (as deck dump writes it), or set konnect-control-plane',
      })
      continue
    }
    // The default workspace may be named or left out: the same target either way.
    const key = JSON.stringify([controlPlane ?? '', workspace === 'default' ? '' : workspace, selectTags])
    const group = groups.get(key)
    if (group) group.files.push(file)
    else groups.set(key, { workspace, ...(controlPlane ? { controlPlane } : {}), selectTags, files: [file] })
  }
  const missing = envProblem(
    refs,
    missingEnv(refs, options.env),
    options.purpose ?? 'diff or sync',
    options.hint,
  )
  if (missing) problems.push(missing)
  const targets = [...groups.values()].sort(
    (a, b) =>
      (a.controlPlane ?? '').localeCompare(b.controlPlane ?? '') ||
      a.workspace.localeCompare(b.workspace) ||
      a.selectTags.join(',').localeCompare(b.selectTags.join(',')),
  )
  return { targets, files, problems, envNames: [...new Set(refs.map((r) => r.name))] }
}

/** How a target is called in reports: its workspace (or Konnect control plane), and its tags when it has any. */
export function targetLabel(
  target: Pick<StateTarget, 'workspace' | 'selectTags' | 'controlPlane'> & { label?: string },
): string {
  if (target.label) return target.label
  const scope = target.controlPlane ?? (target.workspace || 'default')
  return target.selectTags.length ? `${scope} [${target.selectTags.join(', ')}]` : scope
}

/**
 * A target in a sentence: `workspace default`, `workspace team-a [billing]`, `control plane prod`, or its
 * label (`Tyk`).
 */
export function targetTitle(
  target: Pick<StateTarget, 'workspace' | 'selectTags' | 'controlPlane'> & { label?: string },
): string {
  return target.label ?? `${target.controlPlane ? 'control plane' : 'workspace'} ${targetLabel(target)}`
}
