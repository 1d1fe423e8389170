import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'

import type { DeckTimeoutError } from '../../actions/engine/deck/runner.js'
import { DeckhandError } from '../../actions/engine/errors.js'
import { copyFixture, DOUBLE_DIR, doubleEnv } from '../support/deck-double.js'
import { runJob } from '../support/jobs.js'

/**
 * A deck that hangs (an Admin API that accepts connections and never answers, say) is not waited for
 * without end: each run has a deadline, deck-timeout, after which deck and every process it started are
 * killed and the job fails naming what ran and the input to raise.
 *
 * deck here is a shell script that runs the deck double as its child and waits, as a wrapper would: killing
 * only the script would leave the double running and holding the output pipes open.
 */

let dir: string
let gateway: string
let pids: string
let deck: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deckhand-deadline-'))
  gateway = await copyFixture('enterprise.yaml', dir)
  pids = join(dir, 'pids')
  deck = join(dir, 'deck')
  await writeFile(
    deck,
    `#!/bin/sh\necho $$ >> '${pids}'\n'${join(DOUBLE_DIR, 'deck')}' "$@" &\necho $! >> '${pids}'\nwait $!\n`,
  )
  await chmod(deck, 0o755)
})
afterEach(() => rm(dir, { recursive: true, force: true }))

/** Running, that is: a killed orphan may linger as a zombie until whoever adopted it reaps it. */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  if (stat === undefined) return false
  return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
}

async function recordedPids(): Promise<number[]> {
  return (await readFile(pids, 'utf8')).split('\n').filter(Boolean).map(Number)
}

describe('deck runs have a deadline', () => {
  test('a hung deck gateway diff is stopped after deck-timeout, with everything it started', async () => {
    const state = join(dir, 'kong.yaml')
    await writeFile(state, '_format_version: "3.0"\n_workspace: sandbox\nservices: []\n')
    const started = Date.now()
    const run = await runJob(
      'diff',
      {
        'kong-addr': 'http://127.0.0.1:8001',
        'kong-admin-token': 'kong-admin-s3cret',
        'deck-path': deck,
        'deck-timeout': '2',
        state,
      },
      { ...doubleEnv({ gateway, log: join(dir, 'calls.jsonl'), fail: 'hang' }) },
    )
    const elapsed = Date.now() - started
    expect(run.error).toBeInstanceOf(DeckhandError)
    const err = run.error as DeckTimeoutError
    expect(err.name).toBe('DeckTimeoutError')
    expect(err.message).toBe(
      'deck gateway diff (workspace sandbox) did not finish within 2 s and was stopped (deck and every process it ' +
        'started). Nothing it read was used. If it needs longer, raise deck-timeout (seconds, now 2); if it ' +
        'should not, check that the Admin API answers.',
    )
    expect({ running: err.running, timeoutSeconds: err.timeoutSeconds }).toEqual({
      running: 'deck gateway diff (workspace sandbox)',
      timeoutSeconds: 2,
    })
    // deck version answered; the diff hung (the double sleeps 60 s) and was cut at 2 s.
    expect(elapsed).toBeLessThan(20_000)
    const recorded = await recordedPids()
    expect(recorded.length).toBe(4)
    for (const pid of recorded) expect({ pid, alive: await alive(pid) }).toEqual({ pid, alive: false })
  }, 30_000)

  test('a hung sync fails its workspace with the deadline, saying it may have applied part of its changes', async () => {
    const state = join(dir, 'kong.yaml')
    await writeFile(
      state,
      '_format_version: "3.0"\n_workspace: sandbox\nservices:\n- name: s1\n  host: s1.internal\n',
    )
    // Plan with a deck that answers, then sync with one that hangs: the wrapper hangs only for sync.
    await writeFile(
      deck,
      `#!/bin/sh\necho $$ >> '${pids}'\ncase " $* " in *" sync "*) export DECK_DOUBLE_FAIL=hang;; esac\n` +
        `'${join(DOUBLE_DIR, 'deck')}' "$@" &\necho $! >> '${pids}'\nwait $!\n`,
    )
    const run = await runJob(
      'sync',
      {
        'kong-addr': 'http://127.0.0.1:8001',
        'kong-admin-token': 'kong-admin-s3cret',
        'deck-path': deck,
        'deck-timeout': '2',
        'plan-file': join(dir, 'plan.json'),
        state,
      },
      doubleEnv({ gateway, log: join(dir, 'calls.jsonl') }),
    )
    expect(run.error).toBeUndefined()
    expect(run.result!.ok).toBe(false)
    const summary = run.result!.report.lines.join('\n')
    expect(summary).toContain(
      'deck gateway sync (workspace sandbox) did not finish within 2 s and was stopped (deck and every process it ' +
        'started). It may have applied part of its changes: run diff to see what is left.',
    )
    for (const pid of await recordedPids())
      expect({ pid, alive: await alive(pid) }).toEqual({ pid, alive: false })
  }, 30_000)
})
