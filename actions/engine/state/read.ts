import { readFile, stat } from 'node:fs/promises'

import { DeckhandError } from '../errors.js'
import {
  findJsonIssue,
  type JsonIssue,
  lineColumn,
  locateJson,
  MAX_JSON_DEPTH,
  type PathPart,
} from './json-scan.js'
import { MAX_ALIAS_VALUES, readYaml, YamlReadError, type YamlReadCode } from './yaml-read.js'

export type { PathPart }

/**
 * Reading state files (YAML or JSON) as data: the one reader of every file a user, a repository or a
 * gateway hands deckhand. JSON goes to JSON.parse, YAML to the `yaml` package with limits (aliases,
 * merge keys as deck resolves them, unique keys), and both are refused above {@link MAX_STATE_BYTES}.
 * Errors name the file, line and column, and say what is wrong in words of their own: never the text
 * at that place, which may be the very secret a caller is about to redact or keep out of git.
 */

/** The largest state file read: some hundreds of thousands of entities, far more than one gateway holds. */
export const MAX_STATE_BYTES = 128 * 2 ** 20
/**
 * JSON that JSON.parse refuses is read as YAML (which takes comments and trailing commas, as deck
 * does) up to this size; the `yaml` package needs some seventy times a text's size for a flow document.
 */
const YAML_FALLBACK_CHARS = 4 * 2 ** 20

/** A state file that cannot be read: where (when known) and why, in words that quote nothing of it. */
export class StateReadError extends DeckhandError {
  constructor(
    readonly file: string,
    /** What is wrong, without the file's name or position. */
    readonly reason: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(`${file}${line === undefined ? '' : `:${line}:${column ?? 1}`}: ${reason}`)
    this.name = 'StateReadError'
  }

  /** The reason with its position, for a place that names the file already. */
  get placed(): string {
    return this.line === undefined
      ? this.reason
      : `${this.reason} (line ${this.line}, column ${this.column ?? 1})`
  }
}

/** A state file's data, and where its values are in the text. */
export interface StateData {
  data: unknown
  /** YAML aliases made values shared: a walk may reach one value by several paths. */
  aliased: boolean
  /** The 1-based line each path's value starts on (a YAML block scalar: its first line of text). */
  lines(paths: readonly (readonly PathPart[])[]): (number | undefined)[]
}

/** Refuses a state file larger than {@link MAX_STATE_BYTES}. */
export function checkStateSize(bytes: number, file: string): void {
  if (bytes <= MAX_STATE_BYTES) return
  throw new StateReadError(
    file,
    `the file has ${bytes.toLocaleString('en')} bytes, more than the ${MAX_STATE_BYTES / 2 ** 20} MiB a ` +
      'state file may have: split it (deck reads every file of a directory, and deckhand dumps one file per workspace)',
  )
}

/** A state file's text, its size checked before it is read. */
export async function readStateFile(path: string): Promise<string> {
  checkStateSize((await stat(path)).size, path)
  return readFile(path, 'utf8')
}

export interface ReadOptions {
  /** Size of the pieces a large YAML text is read in (tests set it small). */
  chunkChars?: number
  /** JSON only, as for Tyk's files: no YAML reading of text JSON.parse refuses. */
  json?: boolean
}

/** Reads a state file's text as data; throws {@link StateReadError}. */
export function parseState(text: string, file: string, options: ReadOptions = {}): StateData {
  // A string has at most as many characters as its UTF-8 text has bytes.
  checkStateSize(text.length, file)
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  if (options.json || /^\s*[{[]/.test(body)) {
    let data: unknown
    try {
      data = JSON.parse(body)
    } catch {
      if (options.json || body.length > YAML_FALLBACK_CHARS)
        throw jsonError(file, body, findJsonIssue(body, true))
      return parseYamlState(body, file, options.chunkChars)
    }
    const issue = findJsonIssue(body, false)
    if (issue) throw jsonError(file, body, issue)
    return { data, aliased: false, lines: (paths) => locateJson(body, paths) }
  }
  return parseYamlState(body, file, options.chunkChars)
}

/** Reads a state file's text as data; throws {@link StateReadError}. */
export function readStateText(text: string, file: string, options?: ReadOptions): unknown {
  return parseState(text, file, options).data
}

function parseYamlState(text: string, file: string, chunkChars: number | undefined): StateData {
  try {
    return readYaml(text, chunkChars)
  } catch (err) {
    if (!(err instanceof YamlReadError)) throw err
    throw new StateReadError(file, yamlReason(err.code), err.line, err.col)
  }
}

function jsonError(file: string, text: string, issue: JsonIssue | undefined): StateReadError {
  if (!issue) return new StateReadError(file, 'not valid JSON')
  const { line, col } = lineColumn(text, issue.offset)
  const reason =
    issue.code === 'DUPLICATE_KEY'
      ? 'not valid JSON: a key appears twice in one object (keys must be unique, DUPLICATE_KEY)'
      : issue.code === 'TOO_DEEP'
        ? `the values are nested more than ${MAX_JSON_DEPTH} levels deep`
        : 'not valid JSON: malformed at this place (JSON_SYNTAX)'
  return new StateReadError(file, reason, line, col)
}

/** What each of the yaml package's error codes means, in words that quote nothing of the text. */
const YAML_PROBLEMS: Readonly<Record<string, string>> = {
  ALIAS_PROPS: 'an alias cannot have an anchor or a tag',
  BAD_ALIAS: 'an alias names no anchor defined before it',
  BAD_COLLECTION_TYPE: 'a tag does not fit the value it is on',
  BAD_DIRECTIVE: 'a directive (a line starting with %) is not valid',
  BAD_DQ_ESCAPE: 'a double-quoted string holds an invalid escape sequence',
  BAD_INDENT: 'the indentation is wrong',
  BAD_PROP_ORDER: 'an anchor or a tag is misplaced',
  BAD_SCALAR_START: 'a plain value starts with a character that needs quotes',
  BLOCK_AS_IMPLICIT_KEY: 'a block value is used as a key',
  BLOCK_IN_FLOW: 'a block value appears inside [ ] or { }',
  DUPLICATE_KEY: 'a key appears twice in one mapping (keys must be unique)',
  KEY_OVER_1024_CHARS: 'a key is longer than 1024 characters',
  MISSING_CHAR: 'a character is missing (a closing quote or bracket, a colon, a comma)',
  MULTILINE_IMPLICIT_KEY: 'a key spans several lines, or a value is not indented under its key',
  MULTIPLE_ANCHORS: 'a value has several anchors',
  MULTIPLE_DOCS: 'the file holds several YAML documents (--- separators), deck reads one',
  MULTIPLE_TAGS: 'a value has several tags',
  NON_STRING_KEY: 'a key is not a string',
  TAB_AS_INDENT: 'a tab is used for indentation, which YAML allows only spaces for',
  TAG_RESOLVE_FAILED: 'a tag cannot be resolved',
  UNEXPECTED_TOKEN: 'unexpected text',
}

function yamlReason(code: YamlReadCode): string {
  switch (code) {
    case 'ALIAS_EXPANSION':
      return (
        'YAML aliases expand too much (an alias bomb, or more than ' +
        `${MAX_ALIAS_VALUES.toLocaleString('en')} values repeated through aliases): write the values out`
      )
    case 'ALIAS_CYCLE':
      return 'a YAML alias refers to a value that contains it, which makes the data endless'
    case 'MERGE_SOURCE':
      return 'a merge key (<<) must name a mapping or a list of mappings'
    case 'TOO_DEEP':
      return 'the values are nested too deeply to be read'
    default:
      return `not valid YAML: ${YAML_PROBLEMS[code] ?? 'the text cannot be parsed'} (${code})`
  }
}
