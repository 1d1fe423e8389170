import { join } from 'node:path'

import { describe, expect, test } from '@jest/globals'
import { ESLint } from 'eslint'

import { renderText } from '../../actions/cli/main.js'
import { addProblems } from '../../actions/engine/jobs/problems.js'
import { emptyReport } from '../../actions/engine/report.js'
import type { Problem } from '../../actions/engine/state/files.js'
import { ROOT } from '../support/action.js'

/**
 * Reports as large as the input makes them: a spread in a call (`Math.max(...rows)`, `push(...items)`)
 * throws RangeError past ~125,000 elements, after the work is done. 300,000 rows must render.
 */

const ROWS = 300_000

describe('reports over very many rows', () => {
  test('a table of 300,000 rows renders as text', () => {
    const report = emptyReport('big')
    const rows: string[][] = []
    for (let i = 0; i < ROWS; i++) rows.push([`service-${i}`, i % 7 === 0 ? 'a-longer-cell-value' : 'x'])
    report.tables.push({ header: ['name', 'value'], rows })
    const text = renderText(report)
    expect(text.split('\n').length).toBeGreaterThan(ROWS)
    expect(text).toContain('service-299998  x')
  })

  test('300,000 problems become a table and as many annotations', () => {
    const report = emptyReport('validate')
    const problems: Problem[] = []
    for (let i = 0; i < ROWS; i++)
      problems.push({ file: 'kong.yaml', line: i + 1, check: 'format', message: `bad ${i}` })
    addProblems(report, problems, 'validate')
    expect(report.annotations).toHaveLength(ROWS)
  })
})

describe('the lint rule that keeps it so', () => {
  const eslint = new ESLint({ cwd: ROOT })
  const lint = async (code: string): Promise<string[]> => {
    const [result] = await eslint.lintText(code, { filePath: join(ROOT, 'actions/engine/example.ts') })
    return result!.messages.map((m) => m.ruleId ?? m.message)
  }

  test('refuses spreads of arrays in calls', async () => {
    expect(
      await lint('export const f = (a: number[], b: number[]) => { a.push(...b); return Math.max(...a) }\n'),
    ).toEqual(['no-restricted-syntax', 'no-restricted-syntax'])
  })

  test('allows spreading a literal list, which is bounded', async () => {
    expect(
      await lint(
        "export const f = (a: string[], c?: string) => { a.push(...(c ? [c] : []), ...['x']); return a }\n",
      ),
    ).toEqual([])
  })
})
