import { describe, expect, it } from '@jest/globals'
import { createHash } from 'node:crypto'

import { compareStateFiles, type Drift } from '../actions/engine/drift/compare.js'
import { describeDrift, driftLines, driftTables } from '../actions/engine/drift/render.js'

// Secret values, each distinctive, so that any leak is found by a substring search.
const OLD_TOKEN = 'Bearer tok-old-91aaQ'
const NEW_TOKEN = 'Bearer tok-new-22bbZ'
const OLD_REDIS_PASSWORD = 'redis-pw-old-0Pq9'
const NEW_REDIS_PASSWORD = 'redis-pw-new-7Hh2'
const PLAIN_KEY = 'bob-key-plain-Xy77'
const PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIDazCCAlOgAwIBAgIU\nFAKEFAKE\n-----END CERTIFICATE-----\n'
const NEW_PEM_CERT = '-----BEGIN CERTIFICATE-----\nMIIDazCCAlOgAwIBAgIV\nRENEWED\n-----END CERTIFICATE-----\n'
const OLD_PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANOLDOLD\n-----END PRIVATE KEY-----\n'
const NEW_PEM_KEY = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANNEWNEW\n-----END PRIVATE KEY-----\n'
const SECRETS = [OLD_TOKEN, NEW_TOKEN, OLD_REDIS_PASSWORD, NEW_REDIS_PASSWORD, PLAIN_KEY]

/** A PEM as a YAML block literal at the given indentation. */
function block(pem: string, indent: number): string {
  const pad = ' '.repeat(indent)
  return (
    '|\n' +
    pem
      .trimEnd()
      .split('\n')
      .map((line) => pad + line)
      .join('\n')
  )
}

function state(body: string, workspace?: string): string {
  return `_format_version: "3.0"\n${workspace ? `_workspace: ${workspace}\n` : ''}${body}`
}

const PAYMENTS_BEFORE = state(
  `services:
- name: billing
  host: billing.internal
  retries: 5
  created_at: 1700000000
  updated_at: 1700000001
  routes:
  - name: orders
    paths:
    - /orders
    strip_path: true
    plugins:
    - name: rate-limiting
      config:
        minute: 10
        redis:
          host: redis
          password: ${OLD_REDIS_PASSWORD}
  - name: legacy
    paths:
    - /legacy
- name: reports
  host: reports.internal
plugins:
- name: http-log
  config:
    http_endpoint: https://logs.example
    headers:
      Authorization: ${OLD_TOKEN}
`,
  'payments',
)

const PAYMENTS_AFTER = state(
  `services:
- name: billing
  host: billing.internal
  retries: 3
  created_at: 1700000000
  updated_at: 1700009999
  routes:
  - name: orders
    paths:
    - /orders
    - /v2/orders
    strip_path: false
    plugins:
    - name: rate-limiting
      config:
        minute: 20
        redis:
          host: redis
          password: ${NEW_REDIS_PASSWORD}
    - name: cors
  plugins:
  - name: key-auth
- name: ledger
  host: ledger.internal
plugins:
- name: http-log
  config:
    http_endpoint: https://logs.example
    headers:
      Authorization: ${NEW_TOKEN}
`,
  'payments',
)

function compare(before: Record<string, string>, after: Record<string, string>): Drift {
  return compareStateFiles(new Map(Object.entries(before)), new Map(Object.entries(after)))
}

function summary(drift: Drift): string[] {
  return drift.entities.map((e) => `${e.workspace}: ${e.action} ${e.kind} | ${e.name}`)
}

/** Everything a report shows, as one text, to look for leaks in. */
function rendered(drift: Drift): string {
  return JSON.stringify([driftTables(drift), driftLines(drift, 1000), drift])
}

describe('compareStateFiles', () => {
  const drift = compare({ 'kong/payments.yaml': PAYMENTS_BEFORE }, { 'kong/payments.yaml': PAYMENTS_AFTER })

  it('reports added, changed and removed services, routes and nested plugins in kind order', () => {
    expect(summary(drift)).toEqual([
      'payments: changed service | service billing',
      'payments: added service | service ledger',
      'payments: removed service | service reports',
      'payments: removed route | service billing / route legacy',
      'payments: changed route | service billing / route orders',
      'payments: added plugin | service billing / route orders / plugin cors',
      'payments: changed plugin | service billing / route orders / plugin rate-limiting',
      'payments: added plugin | service billing / plugin key-auth',
      'payments: changed plugin | plugin http-log',
    ])
    expect(drift.counts).toEqual({ added: 3, changed: 4, removed: 2 })
    expect(drift.workspaces).toEqual(['payments'])
    expect(drift.entities.every((e) => e.file === 'kong/payments.yaml')).toBe(true)
  })

  it('names the fields that changed with old and new values, leaving out nested entities and stamps', () => {
    const byName = new Map(drift.entities.map((e) => [e.name, e]))
    expect(byName.get('service billing')).toMatchObject({
      fields: [{ path: 'retries', old: '5', new: '3' }],
      fieldCount: 1,
    })
    expect(byName.get('service billing / route orders')).toMatchObject({
      fields: [
        { path: 'paths', old: '["/orders"]', new: '["/orders","/v2/orders"]' },
        { path: 'strip_path', old: 'true', new: 'false' },
      ],
      fieldCount: 2,
    })
    expect(byName.get('service billing / route orders / plugin rate-limiting')).toMatchObject({
      fields: [
        { path: 'config.minute', old: '10', new: '20' },
        { path: 'config.redis.password', sensitive: true },
      ],
    })
    expect(byName.get('service ledger')?.fields).toBeUndefined()
    expect(byName.get('service reports')?.fieldCount).toBeUndefined()
  })

  it('shows a changed secret as sensitive, never its value', () => {
    const httpLog = drift.entities.find((e) => e.name === 'plugin http-log')!
    expect(httpLog.fields).toEqual([{ path: 'config.headers.Authorization', sensitive: true }])
    const text = rendered(drift)
    for (const secret of SECRETS) expect(text).not.toContain(secret)
    expect(text).toContain('config.headers.Authorization: changed (secret)')
    expect(text).toContain('config.redis.password: changed (secret)')
  })

  it('names key-auth credentials by id or variable, else by position, and shows env references as values', () => {
    const before = state(`consumers:
- username: alice
  custom_id: A-1
  keyauth_credentials:
  - key: |-
      \${{ env "DECK_ALICE_KEY_1" }}
- username: bob
  keyauth_credentials:
  - id: 0b8e6c1e-2222-4e0b-9d2c-bbbbbbbbbbbb
    key: ${PLAIN_KEY}
    tags: [old]
  - key: ${PLAIN_KEY}-2
`)
    const after = state(`consumers:
- username: alice
  custom_id: A-2
  keyauth_credentials:
  - key: |-
      \${{ env "DECK_ALICE_KEY_1" }}
  - key: \${{ env "DECK_ALICE_KEY_2" }}
  basicauth_credentials:
  - username: alice
    password: \${{ env "DECK_ALICE_PASSWORD" }}
- username: bob
  keyauth_credentials:
  - id: 0b8e6c1e-2222-4e0b-9d2c-bbbbbbbbbbbb
    key: ${PLAIN_KEY}-rotated
    tags: [new]
`)
    const d = compare({ 'default.yaml': before }, { 'default.yaml': after })
    expect(summary(d)).toEqual([
      'default: changed consumer | consumer alice',
      'default: added keyauth | consumer alice / keyauth DECK_ALICE_KEY_2',
      'default: removed keyauth | consumer bob / keyauth #2',
      'default: changed keyauth | consumer bob / keyauth 0b8e6c1e-2222-4e0b-9d2c-bbbbbbbbbbbb',
      'default: added basicauth | consumer alice / basicauth alice',
    ])
    expect(d.entities[0]!.fields).toEqual([{ path: 'custom_id', old: '"A-1"', new: '"A-2"' }])
    expect(d.entities[3]!.fields).toEqual([
      { path: 'key', sensitive: true },
      { path: 'tags', old: '["old"]', new: '["new"]' },
    ])
    expect(rendered(d)).not.toContain(PLAIN_KEY)
  })

  it('names certificates by a digest of their PEM and never shows a PEM or a key', () => {
    const cert = (pem: string, key: string) => `certificates:
- cert: ${block(pem, 4)}
  key: ${block(key, 4)}
  snis:
  - name: api.example.com
`
    const fingerprint = (pem: string) =>
      `sha256:${createHash('sha256').update(pem.trim()).digest('hex').slice(0, 12)}`
    const rekeyed = compare(
      { 'default.yaml': state(cert(PEM_CERT, OLD_PEM_KEY)) },
      { 'default.yaml': state(cert(PEM_CERT, NEW_PEM_KEY)) },
    )
    expect(summary(rekeyed)).toEqual([`default: changed certificate | certificate ${fingerprint(PEM_CERT)}`])
    expect(rekeyed.entities[0]!.fields).toEqual([{ path: 'key', sensitive: true }])

    const renewed = compare(
      { 'default.yaml': state(cert(PEM_CERT, OLD_PEM_KEY)) },
      { 'default.yaml': state(cert(NEW_PEM_CERT, NEW_PEM_KEY)) },
    )
    expect(summary(renewed).sort()).toEqual(
      [
        `default: added certificate | certificate ${fingerprint(NEW_PEM_CERT)}`,
        `default: added sni | certificate ${fingerprint(NEW_PEM_CERT)} / sni api.example.com`,
        `default: removed certificate | certificate ${fingerprint(PEM_CERT)}`,
        `default: removed sni | certificate ${fingerprint(PEM_CERT)} / sni api.example.com`,
      ].sort(),
    )
    for (const d of [rekeyed, renewed]) {
      const text = rendered(d)
      for (const pem of [PEM_CERT, NEW_PEM_CERT, OLD_PEM_KEY, NEW_PEM_KEY]) {
        for (const line of pem.split('\n').slice(1, 2)) expect(text).not.toContain(line)
      }
      expect(text).not.toContain('BEGIN')
    }
  })

  it('does not report an entity moved between two files of one workspace, but does report its changes', () => {
    const a = (body: string) => state(body, 'shop')
    const moved = compare(
      {
        'kong/a.yaml': a('services:\n- name: cart\n  host: cart.internal\n- name: catalog\n  host: c\n'),
        'kong/b.yaml': a('services:\n- name: search\n  host: s\n'),
      },
      {
        'kong/a.yaml': a('services:\n- name: catalog\n  host: c\n'),
        'kong/b.yaml': a('services:\n- name: search\n  host: s\n- name: cart\n  host: cart.internal\n'),
      },
    )
    expect(moved.entities).toEqual([])
    expect(describeDrift(moved.counts)).toBe('no entity changes')

    const movedAndChanged = compare(
      { 'kong/a.yaml': a('services:\n- name: cart\n  host: old\n'), 'kong/b.yaml': a('services: []\n') },
      { 'kong/a.yaml': a('services: []\n'), 'kong/b.yaml': a('services:\n- name: cart\n  host: new\n') },
    )
    expect(movedAndChanged.entities).toEqual([
      {
        action: 'changed',
        workspace: 'shop',
        kind: 'service',
        name: 'service cart',
        file: 'kong/b.yaml',
        fields: [{ path: 'host', old: '"old"', new: '"new"' }],
        fieldCount: 1,
      },
    ])
  })

  it('reports each workspace on its own, a new file as all added and a deleted one as all removed', () => {
    const d = compare(
      {
        'kong/payments.yaml': PAYMENTS_BEFORE,
        'kong/gone.yaml': state(
          'services:\n- name: old\n  host: o\n  routes:\n  - name: r\n    paths: [/o]\n',
        ),
      },
      {
        'kong/payments.yaml': PAYMENTS_AFTER,
        'kong/shop.yaml': state(
          'routes:\n- name: cart\n  paths: [/cart]\nupstreams:\n- name: up\n  targets:\n  - target: 10.0.0.1:80\n',
        ),
      },
    )
    expect(d.workspaces).toEqual(['gone', 'payments', 'shop'])
    expect(summary(d).filter((line) => !line.startsWith('payments'))).toEqual([
      'gone: removed service | service old',
      'gone: removed route | service old / route r',
      'shop: added route | route cart',
      'shop: added upstream | upstream up',
      'shop: added target | upstream up / target 10.0.0.1:80',
    ])
    expect(d.entities.find((e) => e.workspace === 'gone')!.file).toBe('kong/gone.yaml')
    expect(d.counts).toEqual({ added: 6, changed: 4, removed: 4 })

    const tables = driftTables(d)
    expect(tables.map((t) => t.caption)).toEqual([
      'Workspace gone: 0 added, 0 changed, 2 removed',
      'Workspace payments: 3 added, 4 changed, 2 removed',
      'Workspace shop: 3 added, 0 changed, 0 removed',
    ])
    expect(tables[2]).toEqual({
      caption: 'Workspace shop: 3 added, 0 changed, 0 removed',
      header: ['change', 'kind', 'name', 'fields'],
      rows: [
        ['+ added', 'route', 'route cart', ''],
        ['+ added', 'upstream', 'upstream up', ''],
        ['+ added', 'target', 'upstream up / target 10.0.0.1:80', ''],
      ],
      collapsed: false,
    })
    expect(tables[1]!.rows[0]).toEqual(['~ changed', 'service', 'service billing', 'retries: 5 → 3'])

    const lines = driftLines(d)
    expect(lines.slice(0, 4)).toEqual([
      'workspace gone:',
      '  - service old',
      '  - service old / route r',
      'workspace payments:',
    ])
    expect(lines).toContain('  ~ service billing / route orders (paths, strip_path)')
    expect(lines).toContain('  + service billing / plugin key-auth')
  })

  it('lists files that are not state files and files that do not parse, and compares the rest', () => {
    const d = compare(
      {
        'kong/README.md': '# old',
        'kong/required-env.txt': 'DECK_A',
        'kong/SHA256SUMS': 'aaa  default.yaml',
        'kong/notes.yaml': 'owner: team-a\n',
        'kong/broken.yaml': state('services:\n- name: a\n  host: a\n'),
        'kong/same.yaml': 'this: [is, not, read',
        'kong/default.yaml': state('services: []\n'),
      },
      {
        'kong/README.md': '# new',
        'kong/required-env.txt': 'DECK_A\nDECK_B',
        'kong/SHA256SUMS': 'bbb  default.yaml',
        'kong/notes.yaml': 'owner: team-b\n',
        'kong/broken.yaml': state('services:\n- name: a\n  host: a: b\n'),
        'kong/same.yaml': 'this: [is, not, read',
        'kong/default.yaml': state('services:\n- name: new\n  host: n\n'),
        'kong/extra.json': '[1, 2]',
      },
    )
    expect(d.otherFiles).toEqual([
      'kong/README.md',
      'kong/SHA256SUMS',
      'kong/extra.json',
      'kong/notes.yaml',
      'kong/required-env.txt',
    ])
    expect(d.unreadable).toHaveLength(1)
    expect(d.unreadable[0]!.file).toBe('kong/broken.yaml')
    expect(d.unreadable[0]!.error).toMatch(/^not valid YAML: .* \(line 4, column 9\)$/)
    expect(d.unreadable[0]!.error).not.toContain('\n')
    expect(summary(d)).toEqual(['default: added service | service new'])

    const other = driftTables(d).at(-1)!
    expect(other.caption).toBe('Other changed files')
    expect(other.header).toEqual(['file', 'note'])
    expect(other.rows).toHaveLength(6)
    expect(other.rows.at(-1)![0]).toBe('kong/broken.yaml')
    expect(other.rows.at(-1)![1]).toMatch(/^unreadable: not valid YAML: /)
  })

  it('finds nothing in identical inputs', () => {
    const files = { 'kong/payments.yaml': PAYMENTS_BEFORE, 'kong/README.md': 'hi' }
    const d = compare(files, { ...files })
    expect(d).toEqual({
      entities: [],
      counts: { added: 0, changed: 0, removed: 0 },
      workspaces: [],
      otherFiles: [],
      unreadable: [],
    })
    expect(driftTables(d)).toEqual([])
    expect(driftLines(d)).toEqual([])
  })

  it('numbers entities with the same name, nested ones included, so none is lost', () => {
    const d = compare(
      { 'default.yaml': state('services:\n- name: dup\n  host: a\n') },
      {
        'default.yaml': state(
          'services:\n- name: dup\n  host: a\n- name: dup\n  host: b\n  routes:\n  - name: r\n  - name: r\n',
        ),
      },
    )
    expect(summary(d)).toEqual([
      'default: added service | service dup #2',
      'default: added route | service dup #2 / route r',
      'default: added route | service dup #2 / route r #2',
    ])
  })

  it('names entities without identity by position', () => {
    const d = compare(
      { 'default.yaml': state('licenses: []\n') },
      { 'default.yaml': state('licenses:\n- {}\n') },
    )
    expect(summary(d)).toEqual(['default: added license | license #1'])
  })

  it('orders its report the same whatever order the files come in', () => {
    const before = {
      'kong/payments.yaml': PAYMENTS_BEFORE,
      'kong/b.yaml': state('services:\n- name: z\n  host: z\n- name: a\n  host: a\n'),
    }
    const after = {
      'kong/shop.yaml': state('services:\n- name: m\n  host: m\n- name: c\n  host: c\n'),
      'kong/payments.yaml': PAYMENTS_AFTER,
    }
    const reversed = (o: Record<string, string>) => Object.fromEntries(Object.entries(o).reverse())
    const d = compare(before, after)
    expect(compare(reversed(before), reversed(after))).toEqual(d)
    expect(summary(d).slice(0, 2)).toEqual([
      'b: removed service | service a',
      'b: removed service | service z',
    ])
    expect(summary(d).slice(-2)).toEqual([
      'shop: added service | service c',
      'shop: added service | service m',
    ])
  })

  it('compares a dump of 20,000 entities', () => {
    const dump = (retries: (i: number) => number) => {
      let text = '_format_version: "3.0"\nservices:\n'
      for (let i = 0; i < 5000; i++) {
        text += `- name: svc-${i}\n  host: svc-${i}.internal\n  retries: ${retries(i)}\n  routes:\n`
        for (let j = 0; j < 3; j++) text += `  - name: svc-${i}-r${j}\n    paths:\n    - /p${j}\n`
      }
      return text
    }
    const d = compare({ 'big.yaml': dump(() => 5) }, { 'big.yaml': dump((i) => (i % 10 === 0 ? 3 : 5)) })
    expect(d.counts).toEqual({ added: 0, changed: 500, removed: 0 })
    expect(driftTables(d)[0]!.collapsed).toBe(true)
  })
})

describe('rendering', () => {
  const many = (n: number, name = (i: number) => `svc-${String(i).padStart(2, '0')}`) =>
    compare(
      { 'default.yaml': state('services: []\n') },
      {
        'default.yaml': state(
          'services:\n' + Array.from({ length: n }, (_, i) => `- name: ${name(i)}\n  host: h\n`).join(''),
        ),
      },
    )

  it('describes counts', () => {
    expect(describeDrift({ added: 2, changed: 1, removed: 1 })).toBe('2 added, 1 changed, 1 removed')
    expect(describeDrift({ added: 0, changed: 0, removed: 0 })).toBe('no entity changes')
  })

  it('folds long tables', () => {
    expect(driftTables(many(25))[0]!.collapsed).toBe(false)
    expect(driftTables(many(26))[0]!.collapsed).toBe(true)
  })

  it('stops after the limit with the number left, without workspace headers for one workspace', () => {
    const d = many(5)
    expect(driftLines(d, 3)).toEqual([
      '+ service svc-00',
      '+ service svc-01',
      '+ service svc-02',
      '… and 2 more',
    ])
    expect(driftLines(d)).toHaveLength(5)
    expect(driftLines(many(45))).toHaveLength(41)
    expect(driftLines(many(45)).at(-1)).toBe('… and 5 more')
  })

  it('keeps every line within 100 characters and shows field paths without values', () => {
    const long = many(1, () => 'x'.repeat(150))
    const [line] = driftLines(long)
    expect(line).toHaveLength(100)
    expect(line!.endsWith('…')).toBe(true)

    const fields = Array.from({ length: 60 }, (_, i) => `f${i}`)
    const d = compare(
      { 'default.yaml': state(`services:\n- name: wide\n${fields.map((f) => `  ${f}: 1\n`).join('')}`) },
      { 'default.yaml': state(`services:\n- name: wide\n${fields.map((f) => `  ${f}: 2\n`).join('')}`) },
    )
    expect(d.entities[0]!.fields).toHaveLength(50)
    expect(d.entities[0]!.fieldCount).toBe(60)
    expect(driftTables(d)[0]!.rows[0]![3]).toMatch(/; … and 10 more$/)
    const [wide] = driftLines(d)
    expect(wide!.startsWith('~ service wide (f0, f1, f10, ')).toBe(true)
    expect(wide!.length).toBeLessThanOrEqual(100)
    expect(wide).not.toContain('→')
  })
})
