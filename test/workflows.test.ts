// Every workflow and action metadata file of the repository, checked with GitHub's own parser and schemas
// (@actions/workflow-parser, from the GitHub Actions language services): unknown or misplaced keys, missing
// required keys, invalid expressions and contexts used where GitHub does not allow them, bad cron
// schedules, and jobs that need jobs that do not exist.
import { describe, expect, test } from '@jest/globals'
import { convertWorkflowTemplate, NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser'
import { parseAction } from '@actions/workflow-parser/actions/action-parser'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'

import { ROOT } from './support/action.js'

async function workflowErrors(name: string, content: string): Promise<string[]> {
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter())
  // The conversion adds the checks across keys (needs, cron, concurrency); it runs only on a parsed file.
  if (result.value) await convertWorkflowTemplate(result.context, result.value)
  return result.context.errors.getErrors().map((e) => e.message)
}

function actionErrors(name: string, content: string): string[] {
  const result = parseAction({ name, content }, new NoOperationTraceWriter())
  return result.context.errors.getErrors().map((e) => e.message)
}

async function yamlFiles(dir: string, recursive: boolean): Promise<string[]> {
  const entries = await readdir(join(ROOT, dir), { recursive })
  return entries
    .filter((f) => /\.ya?ml$/.test(f) && !f.endsWith('Pulumi.yaml'))
    .map((f) => join(dir, f))
    .sort()
}

const workflows = [...(await yamlFiles('examples', true)), ...(await yamlFiles('.github/workflows', false))]
// The root action and actions/<name>/action.yml (the other folders of actions/ hold code).
const actions = [
  'action.yml',
  ...(await readdir(join(ROOT, 'actions'), { recursive: true }))
    .filter((f) => /^[^/\\]+[/\\]action\.yml$/.test(f))
    .map((f) => join('actions', f))
    .sort(),
]

const VALID = `on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v5
      - run: echo hello
`

describe('workflow files', () => {
  test('the examples and this repository’s workflows are all found', () => {
    expect(workflows).toEqual(
      expect.arrayContaining([
        join('.github', 'workflows', 'ci.yml'),
        join('.github', 'workflows', 'e2e.yml'),
        join('.github', 'workflows', 'release.yml'),
        join('examples', 'dr-rebuild.yml'),
        join('examples', 'fleet-backup.yml'),
        join('examples', 'nightly-backup.yml'),
        join('examples', 'pulumi-dr', 'rebuild.yml'),
      ]),
    )
  })

  test.each(workflows)('%s is a valid workflow', async (file) => {
    const content = await readFile(join(ROOT, file), 'utf8')
    expect(await workflowErrors(file, content)).toEqual([])
  })

  test('a valid workflow passes, so the checks below fail for their own reason', async () => {
    expect(await workflowErrors('valid.yml', VALID)).toEqual([])
  })

  test.each([
    ['runs-on missing', VALID.replace('    runs-on: ubuntu-latest\n', ''), /runs-on/],
    [
      'an unknown key under a step',
      VALID.replace('- run: echo hello', '- run: echo hello\n        wiht: {}'),
      /wiht/,
    ],
    [
      'a secret in a step condition',
      VALID.replace('- run: echo hello', "- if: secrets.TOKEN != ''\n        run: echo hello"),
      /secrets/,
    ],
    // Why the examples map a secret to a job's env and test that in a step: a job's if cannot read secrets.
    [
      'a secret in a job condition',
      VALID.replace('    runs-on: ubuntu-latest', "    if: secrets.TOKEN != ''\n    runs-on: ubuntu-latest"),
      /secrets/,
    ],
    [
      'a job that needs a job that does not exist',
      `${VALID}  deploy:\n    needs: setup\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo deploy\n`,
      /setup/,
    ],
    [
      'an invalid cron schedule',
      VALID.replace('on: push', "on:\n  schedule:\n    - cron: '61 * * * *'"),
      /cron/i,
    ],
  ])('a workflow with %s is reported', async (_, content, message) => {
    const errors = await workflowErrors('broken.yml', content)
    expect(errors).toEqual(expect.arrayContaining([expect.stringMatching(message)]))
  })
})

describe('action metadata', () => {
  test('every action is found', () => {
    expect(actions).toEqual(expect.arrayContaining(['action.yml', join('actions', 'restore', 'action.yml')]))
    expect(actions.length).toBeGreaterThan(2)
  })

  test.each(actions)('%s is valid action metadata', async (file) => {
    const content = await readFile(join(ROOT, file), 'utf8')
    expect(actionErrors(file, content)).toEqual([])
  })

  test('an action with an unknown runtime is reported', async () => {
    const content = await readFile(join(ROOT, 'actions', 'restore', 'action.yml'), 'utf8')
    expect(actionErrors('action.yml', content)).toEqual([])
    const errors = actionErrors('action.yml', content.replace('using: node24', 'using: node8'))
    expect(errors.length).toBeGreaterThan(0)
  })
})
