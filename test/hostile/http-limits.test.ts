import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

import { afterEach, describe, expect, test } from '@jest/globals'

import {
  AnswerTooLargeError,
  describeAnswer,
  MAX_ANSWER_BYTES,
  sendRequest,
} from '../../actions/engine/http.js'
import { KongAdmin } from '../../actions/engine/kong/admin.js'

// @actions/github picks its proxy once, when imported, for GITHUB_API_URL: a loopback URL keeps an ambient
// HTTPS_PROXY from capturing the requests to the server below.
process.env.GITHUB_API_URL = 'http://127.0.0.1'
const { GitHubPullRequests } = await import('../../actions/github/pull-requests.js')
const { upsertComments } = await import('../../actions/github/pr-comments.js')

/**
 * Servers that answer more than anyone should read: the Admin API, a Tyk gateway and GitHub's API are
 * read up to a limit (16 MiB unless a request allows more), and an answer over it is a clear error, not
 * memory spent on it or a parse of it.
 */

const servers: Server[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise((done) => server.close(done))
  }
})

/** A server answering every request with `bytes` bytes of a JSON string, with or without Content-Length. */
async function bigAnswer(bytes: number, declared: boolean): Promise<{ url: string; sent: () => number }> {
  let sent = 0
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    req.resume()
    const chunk = Buffer.alloc(64 * 1024, 'a')
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      ...(declared ? { 'content-length': String(bytes + 2) } : {}),
    })
    res.write('"')
    const write = () => {
      while (sent < bytes) {
        const part = chunk.subarray(0, Math.min(chunk.length, bytes - sent))
        sent += part.length
        if (!res.write(part)) return void res.once('drain', write)
      }
      res.end('"')
    }
    res.on('error', () => {})
    write()
  })
  servers.push(server)
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done))
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sent: () => sent }
}

const request = { method: 'GET', headers: {}, timeoutMs: 30_000 }

describe('the transport', () => {
  test.each([
    ['a declared length', true],
    ['a chunked answer', false],
  ])('%s over the default limit is refused with a typed error', async (_what, declared) => {
    const server = await bigAnswer(MAX_ANSWER_BYTES + 1024, declared)
    const error = await sendRequest(new URL(`${server.url}/big?token=t0ken`), request).catch(
      (err: unknown) => err,
    )
    expect(error).toBeInstanceOf(AnswerTooLargeError)
    expect((error as Error).message).toBe(
      `GET ${server.url}/big: the answer is larger than 16 MiB, the most deckhand reads of it. Check that the address is the right one.`,
    )
  })

  test('a request may allow more, and gets all of it', async () => {
    const server = await bigAnswer(MAX_ANSWER_BYTES + 1024, false)
    const answer = await sendRequest(new URL(server.url), { ...request, maxBytes: 32 * 2 ** 20 })
    expect(answer.body).toHaveLength(MAX_ANSWER_BYTES + 1026)
  })

  test('the Admin API client stops at the limit instead of parsing the answer, and says so', async () => {
    const server = await bigAnswer(MAX_ANSWER_BYTES + 1024, false)
    const admin = await KongAdmin.open(server.url, { kongAddr: server.url, headers: [] })
    await expect(admin.info()).rejects.toThrow(
      /^GET http:\/\/127\.0\.0\.1:\d+\/: the answer is larger than 16 MiB/,
    )
  })

  test("a gateway's message quoted in an error is cut short", () => {
    const said = describeAnswer({
      status: 400,
      headers: {},
      body: JSON.stringify({ message: 'x'.repeat(100_000) }),
    })
    expect(said.length).toBeLessThan(600)
  })
})

describe("GitHub's API", () => {
  test('an answer over the limit is an error saying what deckhand was doing', async () => {
    const server = await bigAnswer(4 * MAX_ANSWER_BYTES, false)
    const host = new GitHubPullRequests({ token: 'ghs_test', apiUrl: server.url, repository: 'octo/app' })
    await expect(host.defaultBranch()).rejects.toThrow(
      /^GET http:\/\/127\.0\.0\.1:\d+\/repos\/octo\/app: the answer is larger than 16 MiB, .* \(while reading the repository octo\/app\)$/,
    )
    // The rest of the answer was never read.
    expect(server.sent()).toBeLessThan(4 * MAX_ANSWER_BYTES)
  })

  test('the comments client too', async () => {
    const server = await bigAnswer(MAX_ANSWER_BYTES + 1024, true)
    const outcome = upsertComments([{ key: 'plan', body: 'hello' }], {
      token: 'ghs_test',
      apiUrl: server.url,
      repository: 'octo/app',
      number: 7,
    })
    await expect(outcome).rejects.toThrow(
      /the answer is larger than 16 MiB, .* \(while listing the comments of pull request #7 in octo\/app\)$/,
    )
  })
})
