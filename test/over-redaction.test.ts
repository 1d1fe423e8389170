import { readFileSync } from 'node:fs'
import { join } from 'node:path'

import { describe, expect, it } from '@jest/globals'
import { parse } from 'yaml'

import type { JsonObject } from '../actions/engine/state/entities.js'
import { normalizeContent } from '../actions/engine/state/normalize.js'
import { EnvRef, redactContent } from '../actions/engine/state/redact.js'
import { FIXTURE_SECRETS, FIXTURES } from './support/deck-double.js'

/**
 * Over-redaction, measured on the test gateway (Kong Enterprise, three workspaces, written as deck dumps
 * it): redaction changes the secrets and nothing else but what Kong's own schemas encrypt. No entity
 * name, plugin name, host, path, tag or plain setting changes.
 */

/** Values Kong encrypts although they are no credential by themselves: replaced as its schema says. */
const ENCRYPTED_BY_KONG = [
  'kong-portal' /* openid-connect client_id */,
  'https://logs.example.com/kong' /* http-log */,
]

/** Fields that hold names, hosts, paths, tags and plain settings: never redacted. */
const PLAIN =
  /^(name|instance_name|host|hosts|port|path|paths|tags|protocol|protocols|methods|username|custom_id|group|minute|hour|policy|issuer|prefix|type|kid|cert|snis|timeout|enabled)$/

interface Change {
  path: string[]
  value: unknown
}

function changes(original: unknown, redacted: unknown, path: string[] = [], out: Change[] = []): Change[] {
  if (redacted instanceof EnvRef) out.push({ path, value: original })
  else if (redacted !== null && typeof redacted === 'object') {
    for (const key of Object.keys(redacted)) {
      changes(
        (original as Record<string, unknown>)[key],
        (redacted as Record<string, unknown>)[key],
        [...path, key],
        out,
      )
    }
  } else expect([path.join('.'), redacted]).toEqual([path.join('.'), original])
  return out
}

const gateway = parse(readFileSync(join(FIXTURES, 'enterprise.yaml'), 'utf8')) as {
  workspaces: Record<string, JsonObject>
}

describe('over-redaction on the test gateway', () => {
  const all: Change[] = []
  for (const [workspace, content] of Object.entries(gateway.workspaces)) {
    it(`workspace ${workspace}: only secrets and what Kong encrypts change`, () => {
      const original = normalizeContent({ _format_version: '3.0', ...structuredClone(content) })
      const redacted = normalizeContent({ _format_version: '3.0', ...structuredClone(content) })
      const redactions = redactContent(redacted, { workspace })
      const changed = changes(original, redacted)
      expect(changed).toHaveLength(redactions.length)
      for (const { path, value } of changed) {
        const text = String(value)
        const field = path.filter((p) => !/^\d+$/.test(p)).pop()!
        expect([path.join('.'), PLAIN.test(field)]).toEqual([path.join('.'), false])
        const known =
          FIXTURE_SECRETS.some((s) => text.includes(s)) ||
          ENCRYPTED_BY_KONG.includes(text) ||
          text.includes('PRIVATE KEY-----')
        expect([path.join('.'), known]).toEqual([path.join('.'), true])
      }
      all.push(...changed)
    })
  }

  it('every known secret of the gateway is among the changes', () => {
    const values = all.map((c) => String(c.value))
    for (const secret of FIXTURE_SECRETS)
      expect([secret, values.some((v) => v.includes(secret))]).toEqual([secret, true])
    // The two values Kong encrypts are the whole of the over-redaction.
    expect(
      values.filter((v) => !FIXTURE_SECRETS.some((s) => v.includes(s)) && !v.includes('PRIVATE KEY-----')),
    ).toEqual(expect.arrayContaining(ENCRYPTED_BY_KONG))
    // …and one private key (of the PEM key pair) the fixture's list does not name.
    expect(all.length).toBe(FIXTURE_SECRETS.length + ENCRYPTED_BY_KONG.length + 1)
  })
})
