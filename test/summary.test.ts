import { describe, expect, it } from '@jest/globals'

import type { Report } from '../actions/engine/report.js'
import { renderSummary, SUMMARY_LIMIT_BYTES } from '../actions/github/summary.js'

function report(rows: number, collapsed = false): Report {
  return {
    title: 'deckhand diff',
    lines: ['Plan for http://kong:8001: 1 to create.'],
    tables: [
      {
        caption: 'Workspace default',
        header: ['action', 'kind', 'name', 'changes'],
        rows: Array.from({ length: rows }, (_, i) => [
          '+ create',
          'route',
          `route-${i}-${'x'.repeat(40)}`,
          '',
        ]),
        collapsed,
      },
    ],
    annotations: [],
  }
}

describe('job summary rendering', () => {
  it('folds a long table into a details block under its caption', () => {
    const html = renderSummary(report(30, true))
    expect(html).toContain('<details><summary>Workspace default (30 rows)</summary>')
    expect(html.match(/<tr><td>/g)).toHaveLength(30)
    expect(html).toMatch(/<\/table>\n\n<\/details>/)
  })

  it('escapes what users control', () => {
    const r = report(1)
    r.tables[0]!.rows[0]![2] = '<script>alert(1)</script> | x'
    const html = renderSummary(r)
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &#124; x')
    expect(html).not.toContain('<script>')
  })

  it('stays under 1 MiB by cutting whole rows, saying how many were left out', () => {
    const rows = 20_000
    const html = renderSummary(report(rows, true))
    expect(Buffer.byteLength(html)).toBeLessThanOrEqual(SUMMARY_LIMIT_BYTES)
    const shown = html.match(/<tr><td>/g)!.length
    expect(shown).toBeGreaterThan(1000)
    expect(html).toContain(`… ${rows - shown} more row(s) not shown`)
    expect(html).toMatch(/<\/tbody><\/table>\n\n<\/details>\n\n\n_Summary truncated/)
  })

  it('keeps a comment under a character limit the same way', () => {
    const html = renderSummary(report(5000), {
      limit: 65_535,
      measure: (t) => t.length,
      truncatedNote: 'Plan truncated.',
    })
    expect(html.length).toBeLessThanOrEqual(65_535)
    expect(html).toContain('more row(s) not shown')
    expect(html.endsWith('_Plan truncated._\n')).toBe(true)
  })
})
