import { setTimeout as sleep } from 'node:timers/promises'

import { DeckhandError } from '../errors.js'
import {
  describeAnswer,
  type KongAdmin,
  nodeInfo,
  type NodeInfo,
  nodeStatus,
  type NodeStatus,
  TransportError,
} from '../kong/admin.js'
import { isDnsFailure } from '../http.js'
import { inputName } from '../jobs/inputs.js'
import type { Logger } from '../log.js'

export interface WaitOptions {
  /** When to give up, as a performance.now() time. */
  deadline: number
  /** The wait-timeout the deadline came from, for messages. */
  timeoutSeconds: number
  logger: Logger
  /** First pause between attempts; doubled after each, up to maxDelayMs. */
  firstDelayMs?: number
  maxDelayMs?: number
}

export interface ReadyNode {
  admin: KongAdmin
  info: NodeInfo
  status: NodeStatus
  /** Attempts it took. */
  attempts: number
}

/**
 * Waits until every node answers `GET /` and `GET /status` (and, with a database, reaches it), retrying with
 * exponential backoff until the deadline and logging each failed attempt. A wrong token is reported at
 * once: waiting would not fix it.
 */
export async function waitForGateway(
  admins: readonly KongAdmin[],
  options: WaitOptions,
): Promise<ReadyNode[]> {
  return Promise.all(admins.map((admin) => waitForNode(admin, options)))
}

async function waitForNode(admin: KongAdmin, options: WaitOptions): Promise<ReadyNode> {
  const started = performance.now()
  let delay = options.firstDelayMs ?? 1000
  let last: string
  let unresolved = 0
  for (let attempt = 1; ; attempt++) {
    const why = await probe(admin)
    // A gateway that is starting refuses connections; a name that does not resolve is a wrong address (or
    // a DNS outage), which waiting out the whole wait-timeout would only hide. A couple of tries allow for
    // a name that is being registered.
    if (typeof why !== 'string' && 'unresolved' in why) {
      if (++unresolved >= DNS_TRIES) {
        const host = new URL(admin.address).hostname
        throw new DeckhandError(
          `${admin.address}: the host name ${host} does not resolve (${why.unresolved}, ${unresolved} tries): ` +
            `check ${inputName('kong-addr')} for a typo, and the DNS this machine uses. Nothing was restored.`,
        )
      }
    } else unresolved = 0
    if (typeof why !== 'string' && 'info' in why) {
      if (attempt > 1)
        options.logger.info(`${admin.address} is up (Kong ${why.info.version}) after ${attempt} attempts.`)
      return { admin, ...why, attempts: attempt }
    }
    last = typeof why === 'string' ? why : why.unresolved
    const now = performance.now()
    if (now >= options.deadline) break
    const elapsed = Math.round((now - started) / 1000)
    options.logger.info(
      `Waiting for ${admin.address} (attempt ${attempt}, ${elapsed} s of ${options.timeoutSeconds} s): ${last}`,
    )
    await sleep(Math.min(delay, Math.max(0, options.deadline - now)))
    delay = Math.min(delay * 2, options.maxDelayMs ?? 15_000)
  }
  throw new DeckhandError(
    `The gateway at ${admin.address} did not come up within ${options.timeoutSeconds} s (${inputName('wait-timeout')}); last: ${last}. ` +
      `Check that Kong is running and reachable from here (address, port, security groups), or raise ${inputName('wait-timeout')}. Nothing was restored.`,
  )
}

/** Consecutive attempts whose address did not resolve before the wait gives up. */
const DNS_TRIES = 3

/** The node's info and status when it is ready, else why not (`unresolved` when its name does not resolve). */
async function probe(
  admin: KongAdmin,
): Promise<{ info: NodeInfo; status: NodeStatus } | { unresolved: string } | string> {
  try {
    const root = await admin.request('GET', '/')
    if (root.status === 401 || root.status === 403) {
      throw new DeckhandError(
        `${admin.address} refused the credentials (${describeAnswer(root)}): check ${inputName('kong-admin-token')} and ${inputName('headers')}.`,
      )
    }
    if (root.status !== 200) return `GET / answered ${describeAnswer(root)}`
    const statusAnswer = await admin.request('GET', '/status')
    if (statusAnswer.status !== 200) return `GET /status answered ${describeAnswer(statusAnswer)}`
    const info = nodeInfo(root)
    const status = nodeStatus(statusAnswer)
    if (status.databaseReachable === false) return 'Kong is up but cannot reach its database'
    return { info, status }
  } catch (err) {
    if (err instanceof TransportError) return isDnsFailure(err) ? { unresolved: err.message } : err.message
    throw err
  }
}
