/**
 * One piece of gitdir work at a time (replay, sync, content policy, a late checkout), and whether the
 * host is closing: the only state every writer of the gitdir shares.
 */
import { Context, Layer } from "effect"

export class SerialWork {
  private work: Promise<unknown> = Promise.resolve()
  private readonly interruption = new AbortController()
  /** set once the host begins to close: timers stop arming */
  closed = false

  /** Aborts when the host closes: long commands (a fetch, a push) are killed rather than waited for. */
  get signal(): AbortSignal {
    return this.interruption.signal
  }

  /** The host is closing: no more timers, and what waits on a peer is killed. */
  close(): void {
    this.closed = true
    this.interruption.abort()
  }

  exclusive<A>(f: () => Promise<A>): Promise<A> {
    const next = this.work.then(f, f)
    this.work = next.catch(() => undefined)
    return next
  }

  /** Resolves once the work queued so far is done. */
  idle(): Promise<void> {
    return this.work.then(() => undefined, () => undefined)
  }
}

export class Serial extends Context.Tag("sharebox/Serial")<Serial, SerialWork>() {
  static layer = Layer.sync(Serial, () => new SerialWork())
}
