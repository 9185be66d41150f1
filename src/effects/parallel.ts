/**
 * Bulk file system work of a replay (hashing, moving into the annex, removing staging files) as
 * asynchronous calls on the thread pool, a bounded number at a time: the JavaScript thread, which
 * answers FUSE requests, only starts them and takes their answers (docs/benchmarks.md measured a
 * few hundred synchronous calls per turn of the event loop holding it for up to 390 ms).
 */

/**
 * How many at once: enough to keep the thread pool's four threads busy, few enough that a FUSE
 * handler's own file system call waits behind a handful.
 */
export const AT_ONCE = 8

/** Runs `f` over `items`, at most `limit` at a time; the first failure fails the whole (the rest still run). */
export const inParallel = async <A>(items: ReadonlyArray<A>, limit: number, f: (a: A) => Promise<void>): Promise<void> => {
  let next = 0
  const worker = async () => {
    while (next < items.length) await f(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}
