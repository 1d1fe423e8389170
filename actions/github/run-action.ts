import * as core from '@actions/core'
import { isAbsolute, relative, sep } from 'node:path'

import { asExpectedError, errorMessage } from '../engine/errors.js'
import type { JobContext, JobResult } from '../engine/jobs/context.js'
import { Inputs, type InputSource } from '../engine/jobs/inputs.js'
import { configureSecretFields } from '../engine/secrets/configured.js'
import type { Logger } from '../engine/log.js'
import type { Review } from '../engine/report.js'
import { COMMANDS, type CommandSpec } from '../spec.js'
import { ActionsArtifactStore } from './artifacts.js'
import { renderSummary, selectAnnotations } from './summary.js'
import { ToolCacheStore } from './tool-cache-store.js'

export type Job = (source: InputSource, ctx: JobContext) => Promise<JobResult>

const logger: Logger = {
  info: (m) => core.info(m),
  warn: (m) => core.warning(m),
  debug: (m) => core.debug(m),
}

/**
 * Runs one command as a GitHub Action step: secret inputs are masked before anything else happens,
 * outputs and the job summary are written, problems become annotations, and any failure fails the
 * step with an actionable message (no stack trace unless step debugging is on).
 */
export async function runAction(command: string, job: Job): Promise<void> {
  try {
    const spec = COMMANDS[command]
    if (!spec) throw new Error(`unknown command ${command}`)
    for (const [name, input] of Object.entries(spec.inputs)) {
      if (!input.secret) continue
      for (const line of core.getInput(name).split('\n')) maskSecret(line)
    }
    const source: InputSource = (name) => core.getInput(name)
    if (spec.inputs['secret-fields'])
      configureSecretFields(new Inputs(spec.inputs, source).list('secret-fields'))
    const result = await job(source, {
      logger,
      store: new ToolCacheStore(),
      artifacts: new ActionsArtifactStore(),
      // Loaded only when used: @actions/github reads the event payload as soon as it is imported.
      pullRequests: async (options) =>
        (await import('./pull-request-host.js')).openPullRequestHost(options, process.env),
      env: process.env,
      secret: maskSecret,
    })

    for (const [name, value] of Object.entries(result.outputs)) core.setOutput(name, value)
    const { emit, held } = selectAnnotations(result.report.annotations)
    for (const a of emit) {
      const props = { title: a.title, file: workspacePath(a.file), startLine: a.line, startColumn: a.column }
      if (a.level === 'error') core.error(a.message, props)
      else if (a.level === 'warning') core.warning(a.message, props)
      else core.notice(a.message, props)
    }
    if (held > 0)
      core.notice(
        `${held} more problem(s) not annotated (GitHub shows 10 per type); all are in the job summary.`,
      )
    if (process.env.GITHUB_STEP_SUMMARY) await core.summary.addRaw(renderSummary(result.report)).write()
    if (result.reviews?.length) await postReviews(spec, source, result.reviews)
    for (const line of result.report.lines) core.info(line)
    if (!result.ok) core.setFailed(`${result.report.title}: ${result.report.lines[0] ?? 'failed'}`)
  } catch (thrown) {
    const err = asExpectedError(thrown)
    if (!err) core.debug((thrown as Error)?.stack ?? String(thrown))
    core.setFailed(err ? [err.message, ...err.details].join('\n') : errorMessage(thrown))
  }
}

/**
 * Posts each review as a pull request comment, one per workflow and review key, edited in place on later
 * runs. On by default for pull request events. A comment that cannot be posted (a fork's read-only token,
 * a missing permission) is a warning: the plan itself is in the summary and the outputs.
 */
async function postReviews(
  spec: CommandSpec,
  source: InputSource,
  reviews: readonly Review[],
): Promise<void> {
  if (!spec.inputs['comment-on-pr']) return
  // Loaded only here: @actions/github reads the event payload as soon as it is imported.
  const { COMMENT_LIMIT, commentLength, pullRequestNumber, upsertComments } = await import('./pr-comments.js')
  const inputs = new Inputs(spec.inputs, source)
  const number = pullRequestNumber(process.env)
  const wanted = inputs.optionalBoolean('comment-on-pr') ?? number !== undefined
  if (!wanted) return
  if (number === undefined) {
    core.warning(
      `comment-on-pr is true, but this ${process.env.GITHUB_EVENT_NAME ?? ''} run belongs to no pull request: nothing posted.`,
    )
    return
  }
  const token = inputs.string('github-token')
  if (!token) {
    core.warning('comment-on-pr needs github-token (the default, github.token, was cleared): nothing posted.')
    return
  }
  const env = process.env
  const run = `${env.GITHUB_SERVER_URL ?? 'https://github.com'}/${env.GITHUB_REPOSITORY}/actions/runs/${env.GITHUB_RUN_ID}`
  const footer = `\n<sub>Posted by deckhand from [${escapeMarkdown(env.GITHUB_WORKFLOW ?? 'a workflow')}](${run}); updated on every run.</sub>\n`
  const comments = reviews.map((review) => {
    const key = `${env.GITHUB_WORKFLOW ?? ''}/${review.key}`
    const room = COMMENT_LIMIT - commentLength({ key, body: '' }) - footer.length
    const body = renderSummary(review.report, {
      limit: room,
      measure: (text) => text.length,
      truncatedNote:
        'Plan truncated to fit a pull request comment; the job summary and the plan file have all of it.',
    })
    return { key, body: body + footer }
  })
  try {
    const outcomes = await upsertComments(comments, {
      token,
      apiUrl: env.GITHUB_API_URL || 'https://api.github.com',
      repository: env.GITHUB_REPOSITORY ?? '',
      number,
    })
    for (const o of outcomes) core.info(`Pull request comment ${o.action}: ${o.url}`)
  } catch (err) {
    core.warning(`The plan was not posted on pull request #${number}: ${errorMessage(err)}`)
  }
}

function escapeMarkdown(text: string): string {
  return text.replace(/[[\]()<>*_`\\]/g, (c) => `\\${c}`)
}

/** GitHub places annotations by paths relative to the checkout; the engine may report absolute ones. */
function workspacePath(file: string | undefined): string | undefined {
  const root = process.env.GITHUB_WORKSPACE
  if (!file || !root || !isAbsolute(file)) return file
  const rel = relative(root, file)
  return rel.startsWith('..') || isAbsolute(rel) ? file : rel.split(sep).join('/')
}

const masked = new Set<string>()

/** Masks a value and, for a `Name: value` header line, the value on its own. */
function maskSecret(value: string): void {
  const trimmed = value.trim()
  if (trimmed.length < 3 || masked.has(trimmed)) return
  masked.add(trimmed)
  core.setSecret(trimmed)
  const colon = trimmed.indexOf(':')
  if (colon > 0 && trimmed.slice(colon + 1).trim().length >= 3)
    core.setSecret(trimmed.slice(colon + 1).trim())
}
