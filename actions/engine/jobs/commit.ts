import { join } from 'node:path'

import { append } from '../arrays.js'
import { COMMANDS } from '../../spec.js'
import { type CommitMode, driftCommit, type DriftCommitResult } from '../commit/drift-commit.js'
import { describeDrift, driftTables } from '../drift/render.js'
import { DeckhandError } from '../errors.js'
import { emptyReport, type Report } from '../report.js'
import type { JobContext, JobResult } from './context.js'
import { Inputs, type InputSource } from './inputs.js'

const MODES: readonly CommitMode[] = ['push', 'pull-request']

export async function commitJob(source: InputSource, ctx: JobContext): Promise<JobResult> {
  const inputs = new Inputs(COMMANDS.commit!.inputs, source)
  const mode = inputs.string('mode') as CommitMode
  if (!MODES.includes(mode)) throw new DeckhandError(`mode must be push or pull-request, got "${mode}".`)
  const token = inputs.string('github-token')
  const factory = ctx.pullRequests
  const result = await driftCommit({
    paths: inputs.list('path'),
    mode,
    branch: inputs.string('branch'),
    base: inputs.string('base'),
    message: inputs.string('message')!,
    author: { name: inputs.string('author-name'), email: inputs.string('author-email') },
    pushRetries: inputs.count('push-retries') ?? 5,
    signOff: inputs.boolean('sign-off'),
    token,
    serverUrl: ctx.env.GITHUB_SERVER_URL || 'https://github.com',
    env: ctx.env,
    logger: ctx.logger,
    secret: ctx.secret,
    pullRequests: factory && ((remoteUrl) => factory({ remoteUrl, token })),
  })

  const { counts } = result.drift
  return {
    ok: result.status !== 'refused',
    report: commitReport(result),
    outputs: {
      changed: String(result.status === 'committed'),
      'commit-sha': result.commit ?? '',
      branch: result.branch,
      'pull-request-number': result.pullRequest ? String(result.pullRequest.number) : '',
      'pull-request-url': result.pullRequest?.url ?? '',
      added: String(counts.added),
      'changed-entities': String(counts.changed),
      removed: String(counts.removed),
    },
  }
}

function commitReport(result: DriftCommitResult): Report {
  const report = emptyReport('deckhand commit')
  const where = result.paths.join(', ')
  if (result.status === 'refused') {
    const files = new Set(result.secrets.map((s) => s.file))
    report.lines.push(
      `Refused to commit ${where}: ${result.secrets.length} secret value(s) in ${files.size} file(s) are not redacted. ` +
        'Nothing was committed. Dump with redact-secrets: true (the default), or run `deckhand redact` on the files.',
    )
    report.tables.push({
      caption: 'Unredacted secrets (values not shown)',
      header: ['file', 'line', 'where'],
      rows: result.secrets.map((s) => [s.file, String(s.line), s.location]),
    })
    for (const s of result.secrets) {
      report.annotations.push({
        level: 'error',
        title: 'Unredacted secret',
        message:
          s.advice ??
          (s.unreadable
            ? `The file is ${s.location}: fix it (or run \`deckhand validate\` on it) before it is committed.`
            : `${s.location} holds a secret value; it must be a \${{ env "DECK_…" }} reference before it is committed.`),
        file: join(result.root, s.file),
        line: s.line,
      })
    }
    return report
  }

  const drift = describeDrift(result.drift.counts)
  const pr = result.pullRequest
  if (result.status === 'committed') {
    const commit = result.commit!.slice(0, 12)
    if (pr) {
      report.lines.push(
        `Drift of ${where} against ${result.base}: ${drift}. Commit ${commit} on ${result.branch}; ` +
          `pull request #${pr.number} ${pr.action}: ${pr.url}`,
      )
    } else {
      const tries =
        result.attempts > 1 ? ` after ${result.attempts} attempts (the branch moved meanwhile)` : ''
      report.lines.push(`Committed ${commit} to ${result.branch}${tries}: ${drift}.`)
    }
  } else {
    report.lines.push(
      pr
        ? `No drift: ${where} matches ${result.base}. Pull request #${pr.number} closed: ${pr.url}`
        : `No drift: ${where} matches ${result.base ?? result.branch}; nothing committed.`,
    )
  }
  for (const folder of result.newerOnBranch)
    report.lines.push(`${folder}: ${result.branch} already had a newer dump, which was kept.`)
  if (result.checkoutBehind)
    report.lines.push(
      `The checkout was left as it was (its branch, index and files): \`git pull --ff-only --autostash\` brings ` +
        `${result.branch} to the new commit.`,
    )
  append(report.tables, driftTables(result.drift))
  return report
}
