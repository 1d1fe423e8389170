/**
 * Runs `task(0…count-1)`, at most `limit` at a time. Once one fails no new task starts; the first failure is
 * thrown after every started task has ended, so nothing is still writing when the caller cleans up.
 */
export async function eachLimited(
  count: number,
  limit: number,
  task: (i: number) => Promise<void>,
): Promise<void> {
  let next = 0
  let failure: unknown
  let failed = false
  const worker = async () => {
    while (next < count && !failed) {
      const i = next++
      try {
        await task(i)
      } catch (err) {
        if (!failed) [failed, failure] = [true, err]
      }
    }
  }
  const workers: Promise<void>[] = []
  for (let w = 0; w < Math.min(limit, count); w++) workers.push(worker())
  await Promise.all(workers)
  if (failed) throw failure
}
