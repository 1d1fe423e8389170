/**
 * Array helpers that hold for any length. A call with a spread (`into.push(...items)`,
 * `Math.max(...values)`) passes every element as an argument, and past some 100,000 elements the
 * call overflows the stack (RangeError) — after the work is done, when the report is written. The
 * lint rule `no-restricted-syntax` refuses such spreads in deckhand's code; these are what to use.
 */

/** Appends items to `into`, one by one, and returns `into`. */
export function append<T>(into: T[], items: Iterable<T>): T[] {
  for (const item of items) into.push(item)
  return into
}

/** The largest of `values`, or `floor` when none is larger (the floor of an empty list). */
export function maxOf(values: Iterable<number>, floor = -Infinity): number {
  let max = floor
  for (const value of values) if (value > max) max = value
  return max
}
