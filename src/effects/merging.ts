/**
 * Adopting a peer's head: nothing when we have it, a fast-forward, a settle when both hold the same
 * user commits (domain/merge.ts `settle`), or a three-way merge commit over the merge base (a
 * virtual one after criss-cross merges). The merge itself is the pure `merge` of src/domain.
 */
import { Context, Effect, Layer } from "effect"
import { defaultHostLabel } from "../domain/conflictnames.js"
import { type Conflict, type MergeOptions, compareTrees, merge, settle } from "../domain/merge.js"
import { creditPlainEdits, lastPlainEdits } from "../domain/plainwriters.js"
import { storedChanges, storableHost } from "../domain/storage.js"
import { Tree, contentId } from "../domain/tree.js"
import { objectPathOf } from "./annex.js"
import { Checkout, type Checkouts, differingPaths } from "./checkout.js"
import { HostConfig, Repo } from "./hostconfig.js"
import { describeLeftOut, leaveOut } from "./leaveout.js"
import { type TextEdit, automergeOn, mergeTextEdits, textEdits } from "./textmerging.js"
import { ViewStore, type ViewState } from "./viewstore.js"

export class Merger {
  constructor(
    private readonly repo: Repo["Type"],
    private readonly views: ViewState,
    private readonly checkout: Checkouts,
    private readonly warn: (line: string) => void
  ) {}

  /**
   * True when neither commit has a user commit (a non-merge commit that is not a settle) the other
   * lacks: their trees differ, if at all, only by the order merges happened in.
   */
  private async sameUserCommits(a: string, b: string): Promise<boolean> {
    return (await this.repo.git.commitsApart(a, b)).every((c) => c.settle)
  }

  /**
   * The merge base as a tree: the one lowest common ancestor, or, after criss-cross merges, a virtual
   * merge of them all (git's recursive strategy), with its virtual commits written as unreferenced
   * objects so the recursion can ask git for their bases too.
   */
  private async baseTree(a: string, b: string, labels: MergeOptions): Promise<Tree> {
    const { git, uuid } = this.repo
    const bases = await git.mergeBases(a, b)
    if (bases.length === 0) return new Tree()
    let v = bases[0]!
    let vTree = (await git.loadTree(v)).tree
    for (const c of bases.slice(1)) {
      const [b2, cTree] = await Promise.all([this.baseTree(v, c, labels), git.loadTree(c).then((x) => x.tree)])
      const merged = merge(b2, vTree, cTree, labels).tree
      const ref = `refs/sharebox/virtual-${process.pid}`
      const changes = storedChanges(vTree, merged, differingPaths(vTree, merged), objectPathOf)
      v = await git.writeCommits([{ changes, time: 0, message: "sharebox: virtual merge base", host: uuid, merge: c }], v, ref)
      await git.deleteRef(ref)
      vTree = merged
    }
    return vTree
  }

  /** How hosts are named in conflict copies: their descriptions (shared through git-annex). */
  private async mergeLabels(): Promise<MergeOptions> {
    // The peers' git-annex branches first (just fetched or pushed here): at first contact the other
    // host's description is only there, and without it its copies were named by UUID.
    await this.repo.annex.commitBranch()
    const names = await this.repo.annex.descriptions()
    return { hostLabel: (uuid) => names.get(uuid) ?? defaultHostLabel(uuid) }
  }

  /**
   * The text-merged versions as a commit of their own on our head, before the merge commit: history
   * lists versions from non-merge commits, so this is where a merged version gets its time and its
   * writers (`Sharebox-Writers`: the writers of both edits, effects/history.ts). It is marked as a
   * settle: it holds nothing but what the merge of two user commits derives, so two hosts that made
   * the same text merge on their own hold the same user commits, and the same tree, and a later
   * sync between them has nothing left to merge.
   */
  private async commitTextMerges(merged: Tree, edits: ReadonlyArray<TextEdit>): Promise<void> {
    const groups = new Map<string, Array<string>>()
    for (const e of edits) {
      const n = merged.get(e.path)
      const sides = [e.base, e.ours, e.theirs].map((x) => contentId(x.content))
      if (n?.type !== "file" || sides.includes(contentId(n.content))) continue // not merged: a conflict copy
      const writers = [...new Set([e.ours.host, e.theirs.host].filter(storableHost))].sort().join(" ")
      groups.set(writers, [...(groups.get(writers) ?? []), e.path])
    }
    for (const [writers, paths] of [...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const t = this.views.base.clone()
      for (const p of paths) t.set(p, merged.get(p)!)
      const trailers = ["Sharebox-Settle: yes", ...(writers ? [`Sharebox-Writers: ${writers}`] : [])]
      // names quoted: a name may hold a newline, and nothing in a name may read as a trailer
      await this.checkout.commitTree(t, `sharebox: text merge of ${paths.map((p) => JSON.stringify(p)).join(", ")}`, undefined, trailers)
    }
  }

  /**
   * Adopts peer `name`'s head `peerHead`. Undefined when nothing changed here, else the conflicts of
   * the merge (none for a fast-forward or a settle).
   */
  async mergeHead(name: string, peerHead: string): Promise<ReadonlyArray<Conflict> | undefined> {
    const { git } = this.repo
    let theirs = peerHead
    let theirLoaded: Tree | undefined
    /** Their tree, read once; entries no host can hold are left out by a commit on top of theirs. */
    const theirTree = async (): Promise<Tree> => {
      if (theirLoaded) return theirLoaded
      const loaded = await git.loadTree(theirs)
      if (loaded.skipped.length > 0) {
        this.warn(describeLeftOut(name, loaded.skipped))
        theirs = await leaveOut(git, theirs, loaded)
      }
      return (theirLoaded = loaded.tree)
    }
    const head = this.views.head
    /**
     * Their tree with the files plain git-annex peers wrote credited to their commits' authors and
     * times (domain/plainwriters.ts), or undefined when no such file is new here.
     */
    const credited = async (t: Tree): Promise<Tree | undefined> => {
      const edits = lastPlainEdits(await git.plainChangesSince(peerHead, head))
      const c = edits.size ? creditPlainEdits(t, this.views.base, edits) : t
      return c === t ? undefined : c
    }
    /**
     * Moves to their commit; when plain peers' files are new in it, a settle commit on top stores
     * their writers and times in the markers, so a restart reads them back from git.
     */
    const moveToTheirs = async (): Promise<void> => {
      const t = await theirTree()
      const c = await credited(t)
      await this.checkout.moveTo(theirs, t)
      if (c) await this.checkout.commitTree(c, `sharebox: writers of ${name}'s plain git-annex commits`, undefined, ["Sharebox-Settle: yes"])
    }
    if (!head) {
      await moveToTheirs()
      return []
    }
    if (head === theirs) return undefined
    const theirsBehind = await git.isAncestor(theirs, head)
    const oursBehind = !theirsBehind && (await git.isAncestor(head, theirs))
    if (await this.sameUserCommits(head, theirs)) {
      const tTree = await theirTree()
      const base = this.views.base
      const order = compareTrees(base, tTree)
      if (order === 0) {
        if (oursBehind) await this.checkout.moveTo(theirs, tTree)
        return undefined
      }
      const t = settle(base, tTree)
      if (t === tTree && oursBehind) await this.checkout.moveTo(theirs, tTree)
      else if (t === tTree || !theirsBehind) {
        await this.checkout.commitTree(t, `sharebox: settle with ${name}`, theirsBehind ? undefined : theirs, ["Sharebox-Settle: yes"])
      } else return undefined
      return []
    }
    if (theirsBehind) return undefined
    if (oursBehind) {
      await moveToTheirs()
      return []
    }
    const labels = await this.mergeLabels()
    const loadedTheirs = await theirTree()
    const tTree = (await credited(loadedTheirs)) ?? loadedTheirs
    const baseTree = await this.baseTree(head, theirs, labels)
    const ours = this.views.base
    let result = merge(baseTree, ours, tTree, labels)
    // A file this host has changed since its last replay (a pending write, or a file open for
    // writing) is left to the conflict: its next replay writes the whole file over whatever the
    // merge made, so a merged text would lose their lines; the conflict keeps their version as a
    // copy when ours keeps the path (when theirs does, that replay keeps theirs as a copy:
    // domain/concurrent.ts).
    const replayedHere = (e: TextEdit) => {
      const v = this.views.view.get(e.path)
      return v?.type === "file" && contentId(v.content) === contentId(e.ours.content)
    }
    const edits =
      result.conflicts.length && (await automergeOn(this.repo)) ? textEdits(baseTree, ours, tTree, result.conflicts.map((c) => c.path)).filter(replayedHere) : []
    const textMerged = edits.length ? await mergeTextEdits(this.repo, edits, this.warn) : new Map()
    if (textMerged.size > 0) {
      result = merge(baseTree, ours, tTree, { ...labels, textMerged })
      await this.commitTextMerges(result.tree, edits)
    }
    const summary = result.conflicts.length ? `\n\nConflicts:\n${result.conflicts.map((c) => `  ${c.path} -> ${c.copy}`).join("\n")}` : ""
    await this.checkout.commitTree(result.tree, `sharebox: merge ${name}${summary}`, theirs)
    return result.conflicts
  }
}

export class Merging extends Context.Tag("sharebox/Merging")<Merging, Merger>() {
  static layer = Layer.effect(
    Merging,
    Effect.gen(function* () {
      const { opts } = yield* HostConfig
      return new Merger(yield* Repo, yield* ViewStore, yield* Checkout, opts.warn)
    })
  )
}
