/**
 * Moving the branch, and the gitdir's index and work tree after it: to a commit (a fast-forward to a
 * peer's head), or to a new commit of a tree (a merge, a settle). The branch is what counts; a work
 * tree that cannot follow at once (another git command holds the index) follows by a retry.
 */
import { Context, Effect, Layer } from "effect"
import { storedChanges } from "../domain/storage.js"
import { Tree, sameStored } from "../domain/tree.js"
import { objectPathOf } from "./annex.js"
import { HostConfig, Repo } from "./hostconfig.js"
import { Serial, type SerialWork } from "./serial.js"
import { ViewStore, type ViewState } from "./viewstore.js"

/** How long after a checkout the gitdir's index was too busy for the work tree is tried again (doubling). */
const CHECKOUT_RETRY_MS = 1000

/** Paths whose stored form differs between two trees (writers included). */
export const differingPaths = (a: Tree, b: Tree): Array<string> => {
  const out: Array<string> = []
  for (const [p, n] of a.entries()) if (!sameStored(n, b.get(p))) out.push(p)
  for (const p of b.paths()) if (!a.has(p)) out.push(p)
  return out
}

export class Checkouts {
  /** the commit the gitdir's index and work tree are at: the head, unless a checkout failed */
  private checkedOut: string | undefined
  private retryTimer: NodeJS.Timeout | undefined
  private retries = 0

  constructor(
    private readonly repo: Repo["Type"],
    private readonly views: ViewState,
    private readonly serial: SerialWork,
    private readonly warn: (line: string) => void
  ) {
    this.checkedOut = views.head
  }

  /** Moves the branch (and the work tree) to a commit whose tree is `tree`. */
  async moveTo(oid: string, tree: Tree): Promise<void> {
    const { git, branch } = this.repo
    const head = this.views.head
    await git.updateRef(`refs/heads/${branch}`, oid, head)
    this.views.committedTo(oid, tree)
    await this.checkoutHead()
  }

  /** Writes a commit of `tree` on top of the head (a merge when `merge` is given) and moves there. */
  async commitTree(tree: Tree, message: string, merge: string | undefined, trailers: ReadonlyArray<string> = []): Promise<void> {
    const { git, branch, uuid } = this.repo
    const base = this.views.base
    const changes = storedChanges(base, tree, differingPaths(base, tree), objectPathOf)
    const oid = await git.writeCommits([{ changes, time: Date.now(), message, host: uuid, merge, trailers }], this.views.head, `refs/heads/${branch}`)
    this.views.committedTo(oid, tree)
    await this.checkoutHead()
  }

  /**
   * Brings the gitdir's index and work tree to the head, once the branch has moved there. Another
   * git command can hold the index for longer than git.checkout waits (a `git status` of a huge work
   * tree, an editor's git integration): the branch is what counts (the view, the next replay and
   * peers build on it), so the move stands, and the work tree follows by a retry a little later, or
   * with the next move. Only a work tree that never caught up is reset to the head.
   */
  async checkoutHead(): Promise<void> {
    const to = this.views.head!
    try {
      await this.repo.git.checkout(this.checkedOut, to)
      this.checkedOut = to
      this.retries = 0
    } catch (e: any) {
      this.checkedOut = undefined
      const pause = Math.min(CHECKOUT_RETRY_MS * 2 ** this.retries++, 60_000)
      this.warn(`the gitdir's work tree is not at ${to.slice(0, 12)} yet (${e?.message ?? e}); trying again in ${pause / 1000} s`)
      if (this.retryTimer) clearTimeout(this.retryTimer)
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined
        void this.serial.exclusive(async () => {
          const head = this.views.head
          if (!this.serial.closed && head && this.checkedOut !== head) await this.checkoutHead()
        })
      }, pause)
      this.retryTimer.unref?.()
    }
  }

  stopRetrying(): void {
    if (this.retryTimer) clearTimeout(this.retryTimer)
  }

  /** At close: a work tree still behind (the index was busy) gets one more try, else the next start resets it. */
  async finish(): Promise<void> {
    const head = this.views.head
    if (head && this.checkedOut !== head) await this.repo.git.checkout(undefined, head).catch(() => undefined)
  }
}

export class Checkout extends Context.Tag("sharebox/Checkout")<Checkout, Checkouts>() {
  static layer = Layer.effect(
    Checkout,
    Effect.gen(function* () {
      const { opts } = yield* HostConfig
      return new Checkouts(yield* Repo, yield* ViewStore, yield* Serial, opts.warn)
    })
  )
}
