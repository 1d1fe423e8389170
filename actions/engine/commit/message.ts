import { DeckhandError } from '../errors.js'
import type { Identity } from '../git/repository.js'
import { PLACEHOLDERS } from './defaults.js'

export type Placeholder = (typeof PLACEHOLDERS)[number]

/** Trailer recording when the dump in a folder was taken: how a later run tells which dump is newer. */
const DUMP_TRAILER = 'Deckhand-Dump'

/** Refuses a template with unknown `{names}` before anything is done, rather than committing them verbatim. */
export function checkTemplate(template: string): void {
  const unknown = [...template.matchAll(/\{([^{}\s]*)\}/g)]
    .map((m) => m[1]!)
    .filter((name) => !(PLACEHOLDERS as readonly string[]).includes(name))
  if (unknown.length > 0) {
    throw new DeckhandError(
      `message uses unknown placeholder(s) ${unknown.map((n) => `{${n}}`).join(', ')}; ` +
        `known: ${PLACEHOLDERS.map((n) => `{${n}}`).join(', ')}.`,
    )
  }
  if (template.trim() === '') throw new DeckhandError('message is empty: give a commit message template.')
}

export function renderTemplate(template: string, values: Record<Placeholder, string>): string {
  return template.replace(/\{([^{}\s]*)\}/g, (whole, name: string) =>
    name in values ? values[name as Placeholder] : whole,
  )
}

export interface MessageParts {
  /** The rendered template: its first line is the subject. */
  subject: string
  /** The short drift report. */
  body: string[]
  /** Dump folders this commit brings in, with the time each dump was taken. */
  dumps: ReadonlyMap<string, Date>
  signOff?: Identity
}

/** Subject, blank line, body, blank line, trailers (git's layout, so `git interpret-trailers` reads them). */
export function commitMessage(parts: MessageParts): string {
  const trailers = [...parts.dumps].map(
    ([folder, time]) => `${DUMP_TRAILER}: ${folder} ${time.toISOString()}`,
  )
  if (parts.signOff) trailers.push(`Signed-off-by: ${parts.signOff.name} <${parts.signOff.email}>`)
  const sections = [parts.subject.trim(), parts.body.join('\n').trim(), trailers.join('\n')]
  return sections.filter((s) => s !== '').join('\n\n') + '\n'
}

/** When the dump in `folder` was taken, per a commit message's trailer; undefined if it has none. */
export function dumpTime(message: string, folder: string): Date | undefined {
  for (const line of message.split('\n')) {
    const match = new RegExp(`^${DUMP_TRAILER}: (.+) (\\S+)$`).exec(line.trim())
    if (match && match[1] === folder) {
      const time = new Date(match[2]!)
      if (!Number.isNaN(time.getTime())) return time
    }
  }
  return undefined
}
