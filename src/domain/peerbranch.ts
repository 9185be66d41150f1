/**
 * Which of a peer's branches hold its tree. sharebox hosts use one branch name (`main`); a plain
 * git-annex peer uses whatever its repository was made with (`master` is git's default on many
 * systems). A peer that has no branch of our name but exactly one other is merged from that one,
 * and pushed to as git-annex would (`synced/THEIRS`, which its `git annex sync` merges); one with
 * several is not guessed at, and says so.
 */

/** Branches that never hold a tree. */
const NOT_TREES = new Set(["HEAD", "git-annex", "synced/git-annex"])

export interface PeerBranches {
  /** the peer's branches to merge, in order (names under its remote-tracking refs) */
  readonly merge: ReadonlyArray<string>
  /** the branch of the peer whose `synced/` ref our branch is pushed to */
  readonly pushTo: string
  /** why nothing of the peer was merged, when a person must choose */
  readonly problem?: string
}

/** `branches`: the names under `refs/remotes/PEER/` (e.g. `master`, `synced/master`, `git-annex`). */
export const peerBranches = (ours: string, branches: ReadonlyArray<string>): PeerBranches => {
  const trees = branches.filter((b) => !NOT_TREES.has(b))
  const of = (b: string) => [b, `synced/${b}`].filter((n) => trees.includes(n))
  const mine = of(ours)
  if (mine.length > 0) return { merge: mine, pushTo: ours }
  const names = [...new Set(trees.map((b) => (b.startsWith("synced/") ? b.slice("synced/".length) : b)))].sort()
  if (names.length === 0) return { merge: [], pushTo: ours }
  if (names.length === 1) return { merge: of(names[0]!), pushTo: names[0]! }
  return { merge: [], pushTo: ours, problem: `it has no branch ${ours}, and several others (${names.join(", ")}): nothing of it was merged; make one of them ${ours} there` }
}

/** Branches pushed into this gitdir by peers (`refs/heads/synced/X`) that may hold a tree, ours first. */
export const pushedBranches = (ours: string, syncedNames: ReadonlyArray<string>): Array<string> => {
  const trees = syncedNames.filter((n) => n !== "git-annex")
  return [...trees.filter((n) => n === ours), ...trees.filter((n) => n !== ours).sort()]
}
