import { describe, expect, it } from '@jest/globals'

import { commitMessage, checkTemplate, dumpTime, renderTemplate } from '../actions/engine/commit/message.js'
import { contestedDumps, dumpFolders, mergeTrees } from '../actions/engine/commit/merge.js'
import { DEFAULT_MESSAGE } from '../actions/engine/commit/defaults.js'
import { tokenAuth } from '../actions/engine/git/auth.js'
import { fetchArgs, isValidBranch, NULL_OID, pushArgs } from '../actions/engine/git/commands.js'
import type { Tree } from '../actions/engine/git/repository.js'

/** A tree from `path: content-id` pairs (the id stands for the blob). */
function tree(files: Record<string, string>): Tree {
  return new Map(Object.entries(files).map(([path, oid]) => [path, { mode: '100644', oid }]))
}

const listed = new Set(['default.yaml', 'required-env.txt'])
const folders = (...trees: Tree[]) => dumpFolders(trees, 'SHA256SUMS', () => listed)

describe('merging this run with a branch that moved', () => {
  const base = tree({
    'kong/SHA256SUMS': 's0',
    'kong/default.yaml': 'd0',
    'kong/NOTES.md': 'n0',
    'README.md': 'r0',
  })

  it("takes each side's own changes", () => {
    const ours = tree({
      ...Object.fromEntries([...base].map(([p, e]) => [p, e.oid])),
      'kong/default.yaml': 'd1',
      'kong/SHA256SUMS': 's1',
    })
    const theirs = tree({ ...Object.fromEntries([...base].map(([p, e]) => [p, e.oid])), 'README.md': 'r1' })
    const { dumpOf } = folders(base, ours, theirs)
    const merged = mergeTrees({ base, ours, theirs, dumpOf, winners: new Map() })
    expect(merged.conflicts).toEqual([])
    expect(Object.fromEntries([...merged.tree].map(([p, e]) => [p, e.oid]))).toEqual({
      'kong/SHA256SUMS': 's1',
      'kong/default.yaml': 'd1',
      'kong/NOTES.md': 'n0',
      'README.md': 'r1',
    })
  })

  it("never mixes two dumps: the winner's files, deletions included, replace the whole folder", () => {
    const ours = tree({
      'kong/SHA256SUMS': 's1',
      'kong/default.yaml': 'd1',
      'kong/NOTES.md': 'n0',
      'README.md': 'r0',
    })
    // Theirs added a workspace file and changed the manifest.
    const theirs = tree({
      ...Object.fromEntries([...base].map(([p, e]) => [p, e.oid])),
      'kong/SHA256SUMS': 's2',
      'kong/team.yaml': 't2',
    })
    const withTeam = dumpFolders([base, ours, theirs], 'SHA256SUMS', () => new Set([...listed, 'team.yaml']))
    expect(contestedDumps(base, ours, theirs, withTeam.dumpOf)).toEqual(['kong'])

    const oursWins = mergeTrees({
      base,
      ours,
      theirs,
      dumpOf: withTeam.dumpOf,
      winners: new Map([['kong', 'ours']]),
    })
    expect(oursWins.tree.get('kong/SHA256SUMS')?.oid).toBe('s1')
    expect(oursWins.tree.has('kong/team.yaml')).toBe(false)
    const theirsWins = mergeTrees({
      base,
      ours,
      theirs,
      dumpOf: withTeam.dumpOf,
      winners: new Map([['kong', 'theirs']]),
    })
    expect(theirsWins.tree.get('kong/default.yaml')?.oid).toBe('d0')
    expect(theirsWins.tree.get('kong/team.yaml')?.oid).toBe('t2')
  })

  it('reports files outside a dump changed on both sides as conflicts', () => {
    const ours = tree({
      ...Object.fromEntries([...base].map(([p, e]) => [p, e.oid])),
      'kong/NOTES.md': 'mine',
    })
    const theirs = tree({
      ...Object.fromEntries([...base].map(([p, e]) => [p, e.oid])),
      'kong/NOTES.md': 'theirs',
    })
    const merged = mergeTrees({
      base,
      ours,
      theirs,
      dumpOf: folders(base, ours, theirs).dumpOf,
      winners: new Map(),
    })
    expect(merged.conflicts).toEqual(['kong/NOTES.md'])
  })

  it('accepts the same change made on both sides', () => {
    const ours = tree({ ...Object.fromEntries([...base].map(([p, e]) => [p, e.oid])), 'README.md': 'same' })
    const merged = mergeTrees({
      base,
      ours,
      theirs: ours,
      dumpOf: folders(base, ours).dumpOf,
      winners: new Map(),
    })
    expect(merged.conflicts).toEqual([])
    expect(merged.tree.get('README.md')?.oid).toBe('same')
  })

  it("counts only the files a manifest lists, and the manifest, as the dump's", () => {
    const { dumpOf } = folders(base)
    expect(dumpOf('kong/default.yaml')).toBe('kong')
    expect(dumpOf('kong/SHA256SUMS')).toBe('kong')
    expect(dumpOf('kong/NOTES.md')).toBeUndefined()
    expect(dumpOf('README.md')).toBeUndefined()
  })
})

describe('commit messages', () => {
  it("renders the template and puts the report and trailers in git's layout", () => {
    const subject = renderTemplate(DEFAULT_MESSAGE, {
      added: '1',
      changed: '2',
      removed: '0',
      total: '3',
      workspaces: 'default',
      path: 'kong',
      branch: 'main',
    })
    expect(subject).toBe('Gateway drift in kong: 1 added, 2 changed, 0 removed')
    const message = commitMessage({
      subject,
      body: ['+ service billing'],
      dumps: new Map([['kong', new Date('2026-11-21T03:00:00Z')]]),
      signOff: { name: 'Ops', email: 'ops@example.com' },
    })
    expect(message).toBe(
      'Gateway drift in kong: 1 added, 2 changed, 0 removed\n\n+ service billing\n\n' +
        'Deckhand-Dump: kong 2026-11-21T03:00:00.000Z\nSigned-off-by: Ops <ops@example.com>\n',
    )
    expect(dumpTime(message, 'kong')?.toISOString()).toBe('2026-11-21T03:00:00.000Z')
    expect(dumpTime(message, 'other')).toBeUndefined()
  })

  it('refuses unknown placeholders and empty templates', () => {
    expect(() => checkTemplate('drift {count}')).toThrow(/unknown placeholder\(s\) \{count\}/)
    expect(() => checkTemplate('  ')).toThrow(/message is empty/)
    expect(() => checkTemplate('Drift {added}/{removed} on {branch}')).not.toThrow()
  })
})

describe('git command lines', () => {
  it('accepts the branch names git accepts and refuses the rest', () => {
    for (const ok of ['main', 'deckhand/drift', 'release-1.2', 'feature/x_y'])
      expect(isValidBranch(ok)).toBe(true)
    for (const bad of [
      '',
      '-f',
      'a..b',
      'a:b',
      'x.lock',
      'a b',
      'a//b',
      '/a',
      'a/',
      '.hidden',
      'a@{1}',
      'a~1',
      'a\x01',
    ])
      expect(isValidBranch(bad)).toBe(false)
  })

  it('pushes one commit, with a lease when asked (empty: the branch must not exist)', () => {
    expect(pushArgs({ remote: 'origin', commit: 'abc', branch: 'main' })).toEqual([
      'push',
      '--porcelain',
      '--no-verify',
      'origin',
      'abc:refs/heads/main',
    ])
    expect(
      pushArgs({ remote: 'origin', commit: 'abc', branch: 'deckhand/drift', lease: NULL_OID }),
    ).toContain('--force-with-lease=refs/heads/deckhand/drift:')
    expect(pushArgs({ remote: 'origin', commit: 'abc', branch: 'd', lease: 'def' })).toContain(
      '--force-with-lease=refs/heads/d:def',
    )
    expect(
      fetchArgs({ remote: 'origin', branch: 'main', into: 'refs/deckhand/fetch/1-2-ab', depth: 50 }),
    ).toEqual([
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-recurse-submodules',
      '--no-write-fetch-head',
      '--refmap=',
      '--depth=50',
      'origin',
      '+refs/heads/main:refs/deckhand/fetch/1-2-ab',
    ])
  })

  it('hands a token to git only for the GitHub host, through the environment', () => {
    const auth = tokenAuth('https://github.com/octo/app.git', 'ghs_token', 'https://github.com')!
    expect(auth.env).toEqual({
      GIT_CONFIG_COUNT: '2',
      GIT_CONFIG_KEY_0: 'http.https://github.com/.extraheader',
      GIT_CONFIG_VALUE_0: '',
      GIT_CONFIG_KEY_1: 'http.https://github.com/.extraheader',
      GIT_CONFIG_VALUE_1: `AUTHORIZATION: basic ${Buffer.from('x-access-token:ghs_token').toString('base64')}`,
    })
    expect(auth.secrets).toEqual([Buffer.from('x-access-token:ghs_token').toString('base64')])
    expect(tokenAuth('git@github.com:octo/app.git', 'ghs_token', 'https://github.com')).toBeUndefined()
    expect(
      tokenAuth('https://gitlab.example.com/octo/app.git', 'ghs_token', 'https://github.com'),
    ).toBeUndefined()
  })
})
