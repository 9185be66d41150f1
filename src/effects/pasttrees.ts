/**
 * The past states of the tree (domain/moments.ts): the branch's first-parent commits with their
 * times, read once per head, and the trees of the commits asked for, read from git when first
 * asked and kept in a small cache (a commit's tree never changes). `.sharebox/at/` and `revert`
 * read them; both answer at once from what is cached (getattr must not wait on git each time).
 */
import { type Moment, orderedMoments } from "../domain/moments.js"
import type { Tree } from "../domain/tree.js"
import type { GitPort } from "./ports.js"

/**
 * Trees kept: a tree of 100,000 files is some tens of MB, and a person looks at one or two past
 * moments at a time (and an `ls` of several compares a few).
 */
export const KEPT_TREES = 4

export class PastTrees {
  private states: { readonly head: string | undefined; readonly moments: ReadonlyArray<Moment> } | undefined
  private statesLoading: { readonly head: string | undefined; readonly done: Promise<ReadonlyArray<Moment>> } | undefined
  /** commit -> tree, least recently used first */
  private readonly trees = new Map<string, Tree>()
  private readonly loading = new Map<string, Promise<Tree>>()

  constructor(
    private readonly git: GitPort,
    private readonly head: () => string | undefined,
    private readonly kept = KEPT_TREES
  ) {}

  /** The branch's states, oldest first: at once when known for the current head. */
  moments(): ReadonlyArray<Moment> | Promise<ReadonlyArray<Moment>> {
    const head = this.head()
    const { states, statesLoading } = this
    if (states !== undefined && states.head === head) return states.moments
    if (statesLoading !== undefined && statesLoading.head === head) return statesLoading.done
    const done = (head === undefined ? Promise.resolve([]) : this.git.firstParentTimes(head)).then((chain) => {
      const moments = orderedMoments(chain)
      if (this.statesLoading?.done === done) {
        this.states = { head, moments }
        this.statesLoading = undefined
      }
      return moments
    })
    done.catch(() => {
      if (this.statesLoading?.done === done) this.statesLoading = undefined
    })
    this.statesLoading = { head, done }
    return done
  }

  /** The tree of a commit: at once when it is cached. */
  tree(commit: string): Tree | Promise<Tree> {
    const cached = this.trees.get(commit)
    if (cached) {
      this.trees.delete(commit)
      this.trees.set(commit, cached)
      return cached
    }
    const loading = this.loading.get(commit)
    if (loading) return loading
    const done = this.git.loadTree(commit).then(
      (loaded) => {
        this.loading.delete(commit)
        this.trees.set(commit, loaded.tree)
        while (this.trees.size > this.kept) this.trees.delete(this.trees.keys().next().value!)
        return loaded.tree
      },
      (e: unknown) => {
        this.loading.delete(commit)
        throw e
      }
    )
    this.loading.set(commit, done)
    return done
  }
}
