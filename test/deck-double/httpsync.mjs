// Blocking HTTP for the double's Konnect mode: the double runs deck's flow synchronously (as Go's client
// blocks), so each request is made by a worker thread while this thread waits on a shared flag.

import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads'

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads')
parentPort.on('message', async ({ flag, port, method, url, headers, body }) => {
  let result
  try {
    const res = await fetch(url, { method, headers, body, redirect: 'manual' })
    result = { status: res.status, headers: Object.fromEntries(res.headers), body: await res.text() }
  } catch (err) {
    result = { error: err.cause?.code ?? 'EUNKNOWN', message: String(err.cause?.message ?? err.message) }
  }
  port.postMessage(result)
  Atomics.store(flag, 0, 1)
  Atomics.notify(flag, 0)
})
`

let worker = null
const TIMEOUT_MS = 30_000

/**
 * One request; returns `{status, headers, body}` (header names lower-case) or `{error, message}` for a
 * transport failure (`error` is the system code, e.g. ECONNREFUSED).
 */
export function requestSync({ method, url, headers = {}, body }) {
  if (!worker) {
    worker = new Worker(WORKER_SOURCE, { eval: true })
    worker.unref()
  }
  const flag = new Int32Array(new SharedArrayBuffer(4))
  const { port1, port2 } = new MessageChannel()
  worker.postMessage({ flag, port: port2, method, url, headers, body }, [port2])
  if (Atomics.wait(flag, 0, 0, TIMEOUT_MS) === 'timed-out') {
    return { error: 'ETIMEDOUT', message: 'request timed out' }
  }
  const reply = receiveMessageOnPort(port1)
  port1.close()
  return reply.message
}

const pause = new Int32Array(new SharedArrayBuffer(4))

/** Sleeps without yielding, as a blocked Go goroutine would. */
export function sleepSync(ms) {
  if (ms > 0) Atomics.wait(pause, 0, 0, ms)
}
