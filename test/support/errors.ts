import { expect } from '@jest/globals'
import { inspect } from 'node:util'

import { DeckhandError } from '../../actions/engine/errors.js'

/** The error a promise rejects with, which must be an actionable DeckhandError. */
export async function failure(promise: Promise<unknown>): Promise<DeckhandError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(DeckhandError)
  return err as DeckhandError
}

/** Nothing the error carries (message, details, a cause with the request) shows any of the tokens. */
export function expectNoTokens(err: Error, ...tokens: string[]): void {
  for (const token of tokens) {
    expect(err.message).not.toContain(token)
    expect(inspect(err, { depth: 20 })).not.toContain(token)
    expect(JSON.stringify(err)).not.toContain(token)
  }
}
