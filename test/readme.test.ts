/**
 * The README leads: it stays short, its quick start is what CI runs, its workflow uses only inputs the actions
 * declare, and its links and those of docs/ lead somewhere.
 */
import { describe, expect, test } from '@jest/globals'
import { existsSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { parse } from 'yaml'

import { ROOT } from './support/action.js'

const read = (path: string) => readFile(join(ROOT, path), 'utf8')

/** Fenced code blocks of a markdown text, with their language. */
function fences(markdown: string): Array<{ lang: string; body: string }> {
  return [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1]!, body: m[2]! }))
}

/** Shell commands as run, without comments and the lines that only set up the shell (PATH, cd, set). */
function commands(script: string): string[] {
  return script
    .split('\n')
    .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
    .filter((line) => line !== '' && !/^(set|cd)\s/.test(line) && !/^export PATH=/.test(line))
}

describe('the README', () => {
  test('reads in two minutes: under 250 lines', async () => {
    expect((await read('README.md')).split('\n').length).toBeLessThan(250)
  })

  test('its quick start is exactly what CI runs, in the same order', async () => {
    const readme = await read('README.md')
    const section = readme.slice(
      readme.indexOf('\n## Quick start\n'),
      readme.indexOf('\n## ', readme.indexOf('\n## Quick start\n') + 1),
    )
    const block = fences(section).find((f) => f.lang === 'sh')
    expect(block).toBeDefined()
    const quickStart = commands(block!.body)
    expect(quickStart.slice(-2)).toEqual(['npm run demo', 'npm test'])
    const ci = commands(
      (await read('.ci/run'))
        .split('\n')
        .filter((l) => !l.startsWith('#!'))
        .join('\n'),
    )
    expect(ci).toEqual(quickStart)
  })
})

/** Markdown files whose links must resolve: the README, docs/ and the actions' READMEs. */
async function markdownFiles(): Promise<string[]> {
  const docs = (await readdir(join(ROOT, 'docs'), { recursive: true }))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f))
  const actions = (await readdir(join(ROOT, 'actions'), { withFileTypes: true }))
    .filter((e) => e.isDirectory() && existsSync(join(ROOT, 'actions', e.name, 'README.md')))
    .map((e) => join('actions', e.name, 'README.md'))
  return ['README.md', ...docs, ...actions]
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const m of markdown.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = m[1]!
      .trim()
      .toLowerCase()
      .replace(/[^\p{L}\p{N} _-]/gu, '')
      .replace(/ /g, '-')
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

test('every relative link in the README and docs/ leads to a file (and heading) that exists', async () => {
  const broken: string[] = []
  for (const file of await markdownFiles()) {
    const text = (await read(file)).replace(/^```[\s\S]*?^```$/gm, '')
    for (const m of text.matchAll(/\[[^\]]*\]\(([^)\s]+)\)/g)) {
      const target = m[1]!
      if (/^[a-z]+:/i.test(target)) continue
      const [path, anchor] = target.split('#') as [string, string | undefined]
      const resolved = path === '' ? join(ROOT, file) : join(ROOT, dirname(file), path)
      if (!existsSync(resolved)) {
        broken.push(`${file}: ${target}`)
        continue
      }
      if (anchor && resolved.endsWith('.md') && !anchors(await readFile(resolved, 'utf8')).has(anchor))
        broken.push(`${file}: ${target} (no such heading in ${relative(ROOT, resolved)})`)
    }
  }
  expect(broken).toEqual([])
})

/** Every step of a parsed workflow or step list, wherever it is nested. */
function stepsOf(node: unknown): Array<Record<string, unknown>> {
  if (Array.isArray(node)) return node.flatMap(stepsOf)
  if (!node || typeof node !== 'object') return []
  const object = node as Record<string, unknown>
  return [...(typeof object.uses === 'string' ? [object] : []), ...Object.values(object).flatMap(stepsOf)]
}

test("the README's and docs' workflow steps use only inputs their action declares", async () => {
  const problems: string[] = []
  let checked = 0
  for (const file of await markdownFiles()) {
    for (const { lang, body } of fences(await read(file))) {
      if (lang !== 'yaml') continue
      for (const step of stepsOf(parse(body))) {
        const uses = /^deckhand\/deckhand(?:\/actions\/([\w-]+))?@/.exec(step.uses as string)
        if (!uses) continue
        checked++
        const action = uses[1] ? join('actions', uses[1], 'action.yml') : 'action.yml'
        const { inputs } = parse(await read(action)) as { inputs: Record<string, unknown> }
        for (const key of Object.keys((step.with as Record<string, unknown> | null) ?? {}))
          if (!(key in inputs)) problems.push(`${file}: ${step.uses as string} has no input ${key}`)
      }
    }
  }
  expect(checked).toBeGreaterThan(20)
  expect(problems).toEqual([])
})
