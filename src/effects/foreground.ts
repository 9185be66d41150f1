/**
 * The foreground and the pace of background work on the JavaScript thread.
 *
 * The foreground is the kernel's requests that JavaScript answers: a person's `ls -lR`, `grep -r`,
 * `cp -r`, each request a round trip through this thread. The write-back's replay runs on the same
 * thread: it hashes, moves and removes thousands of staging files with synchronous calls. In slices
 * of a count of files (256 per turn of the event loop), a slice took 50-130 ms with a cold cache,
 * and a command that sends one request at a time got about one answer per slice while a replay ran
 * (in the real-work bench, `find` right after a `tar xf` of 3,000 files took 0.5 s with write-back
 * off and 5.6 s with it on).
 *
 * So work goes in slices of time (`SLICE_MS`), and background work also waits, between two slices,
 * for a lull in the foreground (`LULL_MS` without a request), at most `MAX_WAIT_MS`: it always moves
 * on, at a tenth of the thread or more. It stops waiting when the host closes or when other gitdir
 * work (a sync, `sharebox replay`) waits behind it.
 */
import { performance } from "node:perf_hooks"
import { Context, Layer } from "effect"

/** The longest a slice runs before the event loop turns. */
export const SLICE_MS = 4
/** How long the foreground must have sent nothing before background work takes another slice. */
export const LULL_MS = 2
/** The longest background work waits for a lull before it takes a slice anyway. */
export const MAX_WAIT_MS = 40

export class ForegroundActivity {
  private last = -Infinity

  /** A request from the kernel is about to be answered by JavaScript. */
  note(): void {
    this.last = performance.now()
  }

  /** Milliseconds since the last request. */
  quietFor(): number {
    return performance.now() - this.last
  }
}

export class Foreground extends Context.Tag("sharebox/Foreground")<Foreground, ForegroundActivity>() {
  static layer = Layer.sync(Foreground, () => new ForegroundActivity())
}

/** When work on the JavaScript thread lets the event loop turn. */
export interface Pace {
  /** whether the current slice has run its time: `next()` before more work */
  readonly due: () => boolean
  /** lets the event loop turn (and, for background work, the foreground through); a new slice begins */
  readonly next: () => Promise<void>
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

const sliced = (between: () => Promise<void>, sliceMs: number): Pace => {
  let start = performance.now()
  return {
    due: () => performance.now() - start >= sliceMs,
    next: async () => {
      await between()
      start = performance.now()
    }
  }
}

/** Work someone waits for (a command's replay): slices of time, the event loop turns between them. */
export const foregroundPace = (sliceMs = SLICE_MS): Pace => sliced(turn, sliceMs)

/**
 * Work nobody waits for (the write-back's replay): slices of time, and between two, a wait for a
 * lull in `fg` of `lullMs`, at most `maxWaitMs`; no wait while `urgent()` (the host closes, or work
 * waits behind this).
 */
export const backgroundPace = (fg: ForegroundActivity, urgent: () => boolean, o: { sliceMs?: number; lullMs?: number; maxWaitMs?: number } = {}): Pace => {
  const { sliceMs = SLICE_MS, lullMs = LULL_MS, maxWaitMs = MAX_WAIT_MS } = o
  return sliced(async () => {
    await turn()
    const since = performance.now()
    while (!urgent() && fg.quietFor() < lullMs && performance.now() - since < maxWaitMs) await sleep(1)
  }, sliceMs)
}

/** Runs `f` over `items` in order, the event loop turning whenever `pace` says so. */
export const eachPaced = async <A>(items: Iterable<A>, pace: Pace, f: (a: A) => void): Promise<void> => {
  for (const a of items) {
    if (pace.due()) await pace.next()
    f(a)
  }
}
