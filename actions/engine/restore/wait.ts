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
  for (let attempt = 1; ; attempt++) {
    const why = await probe(admin)
    if (typeof why !== 'string') {
      if (attempt > 1)
        options.logger.info(`${admin.address} is up (Kong ${why.info.version}) after ${attempt} attempts.`)
      return { admin, ...why, attempts: attempt }
    }
    last = why
    const now = performance.now()
    if (now >= options.deadline) break
    const elapsed = Math.round((now - started) / 1000)
    options.logger.info(
      `Waiting for ${admin.address} (attempt ${attempt}, ${elapsed} s of ${options.timeoutSeconds} s): ${why}`,
    )
    await sleep(Math.min(delay, Math.max(0, options.deadline - now)))
    delay = Math.min(delay * 2, options.maxDelayMs ?? 15_000)
  }
  throw new DeckhandError(
    `The gateway at ${admin.address} did not come up within ${options.timeoutSeconds} s (wait-timeout); last: ${last}. ` +
      'Check that Kong is running and reachable from here (address, port, security groups), or raise wait-timeout. Nothing was restored.',
  )
}

/** The node's info and status when it is ready, else why not. */
async function probe(admin: KongAdmin): Promise<{ info: NodeInfo; status: NodeStatus } | string> {
  try {
    const root = await admin.request('GET', '/')
    if (root.status === 401 || root.status === 403) {
      throw new DeckhandError(
        `${admin.address} refused the credentials (${describeAnswer(root)}): check kong-admin-token and headers.`,
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
    if (err instanceof TransportError) return err.message
    throw err
  }
}
