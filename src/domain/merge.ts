/**
 * Three-way merge of trees, with renames detected by key. Symmetric: which side is "ours" never
 * changes the result. Nothing is lost: when both sides changed a path differently, one version
 * keeps the path and the other becomes a conflict copy beside it, named only from shared data (the
 * losing version's host and content), so every host derives the same name on its own.
 *
 * The decision table is in docs/conflicts.md; each row has a test in
 * test/property/merge.property.test.ts.
 *
 * Outline:
 * 1. Renames: on each side, a file of base whose content now sits at exactly one new path, with no
 *    file left at its old path, was renamed. When the other side changed that file in place (an
 *    edit, a chmod, a touch), the change follows the rename: the other side and the base are read
 *    as if the file had been at its new path all along. A merge moving a losing version into its
 *    conflict copy is not a rename; an edit of that version on the other side supersedes the copy.
 * 2. Path by path: unchanged on one side takes the other side; a change beats a deletion; two
 *    files merge field by field (content, mode, mtime), so a chmod and an edit both
 *    apply; two different contents, or two different kinds of node, are a conflict. A content both
 *    sides still hold somewhere is kept even if each deleted a different copy of it.
 * 3. Every surviving path gets its parent directories: a file where a directory is needed becomes
 *    a conflict copy (the directory keeps the path).
 * 4. Losers become conflict copies beside their path; the same content losing at the same path is
 *    the same copy, whichever merge made it.
 *
 * Merges are not associative, so hosts that merged the same commits in different orders can hold
 * different trees; `settle` is how a sync picks one of those (see there). (About 400 lines: the
 * merge's steps share their side maps and rules; conflict names are conflictnames.ts.)
 */
import { cmp, conflictName, defaultHostLabel, labelOf, parseConflictName, versionTag } from "./conflictnames.js"
import { ancestorsOf } from "./paths.js"
import { type Content, type FileNode, type Node, Tree, contentId, dirMode, dirWithMode, fileMode, fileModeFields, sameNode } from "./tree.js"

// what callers and the merge laws' tests use of conflict copy names, from the module that makes merges
export { conflictName, openConflicts, parseConflictName, sanitiseLabel, versionTag } from "./conflictnames.js"

export interface Conflict {
  readonly path: string
  /** where the losing version went */
  readonly copy: string
}

export interface MergeResult {
  readonly tree: Tree
  readonly conflicts: ReadonlyArray<Conflict>
}

export interface MergeOptions {
  /**
   * The label of a host in conflict copy names, from its git-annex UUID. It must depend on shared
   * data only (e.g. the UUID, or the description in git-annex's uuid.log), or hosts would name the
   * same copy differently. Default: the first 8 characters of the UUID. Sanitised to letters,
   * digits and `_`.
   */
  readonly hostLabel?: (uuid: string) => string
  /**
   * Text merges made of edit / edit conflicts (src/domain/textmerge.ts), by `textMergeKey` of the
   * base's and the two sides' contents: such a pair is one file with the merged content instead of
   * a conflict. Its writer is the writer the conflict would have kept; its mtime, the later one.
   */
  readonly textMerged?: ReadonlyMap<string, Content>
}

/** The key of one text merge: the base's content and the two sides' contents, in either order. */
export const textMergeKey = (base: Content, a: Content, b: Content): string => {
  const [x, y] = [contentId(a), contentId(b)].sort(cmp)
  return `${contentId(base)}\0${x}\0${y}`
}

// ---------------------------------------------------------------------------------------------
// Node-level merge

/** Everything that distinguishes two nodes, the writer included. */
const nodeKey = (n: Node): string =>
  n.type === "dir"
    ? `dir\0${dirMode(n)}`
    : n.type === "symlink"
      ? `symlink\0${n.target}\0${n.mtime}`
      : `file\0${contentId(n.content)}\0${fileMode(n)}\0${n.mtime}\0${n.host ?? ""}${n.unlocked ? "\0unlocked" : ""}`

/** Identity including the writer: what the three-way decisions compare. */
const same = (a: Node | undefined, b: Node | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && sameNode(a, b) && (a.type !== "file" || a.host === (b as FileNode).host))

/** Orders two differing versions: true when `a` wins. A directory wins, then the later mtime, then the greater key. */
const ranks = (a: Node, b: Node): boolean => {
  if (a.type === "dir" || b.type === "dir") return a.type === "dir"
  if (a.mtime !== b.mtime) return a.mtime > b.mtime
  return cmp(versionTag(a) + nodeKey(a), versionTag(b) + nodeKey(b)) >= 0
}

/** Three-way choice of one field: a side that changed it wins; both changed it differently: `both`. */
const field = <A>(b: A | undefined, o: A, t: A, both: (o: A, t: A) => A, hasBase: boolean): A =>
  o === t ? o : hasBase && o === b ? t : hasBase && t === b ? o : both(o, t)

/**
 * Two modes both sides changed differently, as one: read, write and sticky bits that both give,
 * execute bits that either gives (a file made private on one host stays private; one made
 * executable stays executable, as when only that bit was kept). Commutative and associative.
 */
const bothModes = (a: number, b: number): number => (a & b) | ((a | b) & 0o111)

/** A merged file is unlocked as the side that changed that says, else if either is (a plain git-annex peer's unlock). */
const unlockedOf = (b: FileNode | undefined, o: FileNode, t: FileNode): { readonly unlocked?: true } =>
  field(b && !!b.unlocked, !!o.unlocked, !!t.unlocked, (x, y) => x || y, b !== undefined) ? { unlocked: true } : {}

/** The smaller defined host id: a deterministic writer when both sides wrote the same content. */
const minHost = (a: string | undefined, b: string | undefined): string | undefined =>
  a === undefined ? b : b === undefined ? a : a < b ? a : b

/**
 * Two files merged field by field, or undefined when their contents conflict. Content: the side
 * that changed it. Executable bit: the side that changed it (new on both sides: set if either
 * sets it). Mtime: the side that changed it, else the later. Writer: the content's writer; the same
 * content on both sides keeps the writer a side changed, else the smaller host id. Unlocked: the
 * side that changed it, else unlocked if either is.
 */
const mergeFiles = (b: FileNode | undefined, o: FileNode, t: FileNode): FileNode | undefined => {
  const [co, ct, cb] = [contentId(o.content), contentId(t.content), b && contentId(b.content)]
  const from = co === ct ? "both" : b && co === cb ? "theirs" : b && ct === cb ? "ours" : undefined
  if (from === undefined) return undefined
  const content = from === "theirs" ? t.content : o.content
  const mode = fileModeFields(field(b && fileMode(b), fileMode(o), fileMode(t), bothModes, b !== undefined))
  const mtime = field(b?.mtime, o.mtime, t.mtime, Math.max, b !== undefined)
  const host =
    from === "ours" ? o.host : from === "theirs" ? t.host : field(b?.host, o.host, t.host, minHost, b !== undefined && cb === co)
  const unlocked = unlockedOf(b, o, t)
  return host === undefined ? { type: "file", content, ...mode, mtime, ...unlocked } : { type: "file", content, ...mode, mtime, host, ...unlocked }
}

/**
 * Two versions of the same content (or symlink target) as one: the later mtime, executable if
 * either is, the smaller host id. Undefined when they are not the same content. Commutative and
 * associative, so a copy reached by several merges comes out the same in any order.
 */
const join = (a: Node, b: Node): Node | undefined => {
  if (a.type === "file" && b.type === "file" && contentId(a.content) === contentId(b.content)) {
    const host = minHost(a.host, b.host)
    const unlocked = a.unlocked || b.unlocked ? { unlocked: true as const } : {}
    const j = { type: "file" as const, content: a.content, ...fileModeFields(bothModes(fileMode(a), fileMode(b))), mtime: Math.max(a.mtime, b.mtime), ...unlocked }
    return host === undefined ? j : { ...j, host }
  }
  if (a.type === "symlink" && b.type === "symlink" && a.target === b.target) return { ...a, mtime: Math.max(a.mtime, b.mtime) }
  return undefined
}

/**
 * Two edits of a file made one by a text merge: the merged content, the modes merged as for any two
 * files, the later mtime, and the writer of the version that would have won the conflict.
 */
const textMergedNode = (b: FileNode, o: FileNode, t: FileNode, content: Content): FileNode => {
  const mode = fileModeFields(field(fileMode(b), fileMode(o), fileMode(t), bothModes, true))
  const host = (ranks(o, t) ? o : t).host
  const unlocked = unlockedOf(b, o, t)
  const node = { type: "file" as const, content, ...mode, mtime: Math.max(o.mtime, t.mtime), ...unlocked }
  return host === undefined ? node : { ...node, host }
}

type Decision = { readonly node: Node | undefined; readonly loser?: Node }

/** The three-way decision at one path. */
const mergeNode = (b: Node | undefined, o: Node | undefined, t: Node | undefined, textMerged?: ReadonlyMap<string, Content>): Decision => {
  if (same(o, t)) return { node: o }
  if (same(o, b)) return { node: t }
  if (same(t, b)) return { node: o }
  // deleted on one side, changed on the other: the change wins
  if (!o) return { node: t }
  if (!t) return { node: o }
  if (o.type === "dir" && t.type === "dir") {
    const b0 = b?.type === "dir" ? dirMode(b) : undefined
    return { node: dirWithMode(field(b0, dirMode(o), dirMode(t), bothModes, b0 !== undefined)) }
  }
  if (o.type === "file" && t.type === "file") {
    const f = mergeFiles(b?.type === "file" ? b : undefined, o, t)
    if (f) return { node: f }
    const text = b?.type === "file" ? textMerged?.get(textMergeKey(b.content, o.content, t.content)) : undefined
    if (text && b?.type === "file") return { node: textMergedNode(b, o, t, text) }
  }
  if (o.type === "symlink" && t.type === "symlink" && o.target === t.target) {
    return { node: { ...o, mtime: field(b?.type === "symlink" ? b.mtime : undefined, o.mtime, t.mtime, Math.max, b?.type === "symlink") } }
  }
  return ranks(o, t) ? { node: o, loser: t } : { node: t, loser: o }
}

// ---------------------------------------------------------------------------------------------
// Renames

/** content id -> the paths of the files holding it */
const pathsByContent = (t: Tree): Map<string, Array<string>> => {
  const m = new Map<string, Array<string>>()
  for (const [p, n] of t.entries()) {
    if (n.type !== "file") continue
    const id = contentId(n.content)
    const ps = m.get(id)
    if (ps) ps.push(p)
    else m.set(id, [p])
  }
  return m
}

/**
 * Renames of one side since base, by content: a file of base whose content is at exactly one path
 * in base and exactly one new path on this side, with no file left at its old path. Copies (the
 * content at several new paths) and contents that base holds at several paths are not renames.
 */
const renamesOf = (base: Tree, side: Tree): Map<string, string> => {
  const inBase = pathsByContent(base)
  const inSide = pathsByContent(side)
  const out = new Map<string, string>()
  for (const [id, ps] of inBase) {
    if (ps.length !== 1) continue
    const from = ps[0]!
    const to = inSide.get(id)
    if (!to || to.length !== 1 || to[0] === from || side.get(from)?.type === "file") continue
    // A merge moving a losing version into its conflict copy is not a rename for edits to follow:
    // the copy is named after the version it holds, and another lineage names an edited version
    // after that version (found by the convergence property: names flipped between two forms).
    if (parseConflictName(to[0]!)?.original === from) continue
    out.set(from, to[0]!)
  }
  return out
}

/** A path -> node map, the form the path-by-path merge works on. */
type Side = Map<string, Node>

/**
 * For each rename `from -> to` of `renamer`, whether `other`'s change to `from` follows it: `other`
 * changed that file in place — the same content with other attributes, or a content base never
 * had while the old content is nowhere else on `other` (a file moved away, e.g. into a conflict
 * copy, and replaced by another is not an edit) — and `to` is free in base and on `other`.
 */
const followedRenames = (base: Tree, renamer: Tree, other: Tree): Array<[string, string]> => {
  const inBase = pathsByContent(base)
  const onOther = pathsByContent(other)
  const out: Array<[string, string]> = []
  for (const [from, to] of renamesOf(base, renamer)) {
    const b = base.get(from) as FileNode
    const o = other.get(from)
    if (o?.type !== "file" || same(o, b)) continue
    const [id, was] = [contentId(o.content), contentId(b.content)]
    if (id !== was && (inBase.has(id) || onOther.has(was))) continue
    if (base.has(to) || other.has(to)) continue
    out.push([from, to])
  }
  return out
}

/**
 * Conflict copies of `side` that the other side's edit supersedes: a merge on `side` moved base's
 * version of `p` into its conflict copy, while `other` edited `p` in place (new content, and the
 * old content nowhere else on `other`). The edited version is the file's newer version, so the
 * copy of the older one goes; the edit meets whatever `side` has at `p` by the usual rules (found
 * by the convergence property: without this, the old copy came and went with the merge base).
 */
const supersededCopies = (base: Tree, side: Tree, other: Tree): Array<readonly [copy: string, path: string]> => {
  const inBase = pathsByContent(base)
  const inSide = pathsByContent(side)
  const onOther = pathsByContent(other)
  const out: Array<readonly [copy: string, path: string]> = []
  for (const [id, ps] of inBase) {
    const at = inSide.get(id)
    if (ps.length !== 1 || !at || at.length !== 1 || onOther.has(id)) continue
    const [from, copy] = [ps[0]!, at[0]!]
    if (parseConflictName(copy)?.original !== from || base.has(copy) || other.has(copy)) continue
    const o = other.get(from)
    if (o?.type !== "file" || inBase.has(contentId(o.content))) continue
    out.push([copy, from])
  }
  return out
}

const moved = (m: Side, moves: ReadonlyArray<readonly [string, string]>): Side => {
  for (const [from, to] of moves) {
    const n = m.get(from)
    if (!n) continue
    m.delete(from)
    m.set(to, n)
  }
  return m
}

// ---------------------------------------------------------------------------------------------
// The merge

export const merge = (base: Tree, ours: Tree, theirs: Tree, options?: MergeOptions): MergeResult => {
  const hostLabel = options?.hostLabel ?? defaultHostLabel
  // 1. Changes made in place on one side follow the other side's renames.
  const followOurs = followedRenames(base, ours, theirs) // theirs' changes move to our new names
  const followTheirs = followedRenames(base, theirs, ours) // and ours to theirs'
  const b: Side = moved(new Map(base.entries()), [...followOurs, ...followTheirs])
  const o: Side = moved(new Map(ours.entries()), followTheirs)
  const t: Side = moved(new Map(theirs.entries()), followOurs)
  // A path whose base version one side had moved into a conflict copy: that side's version there
  // is not an edit of the base's, so no text merge of the two against it (it would read the base's
  // lines as common history and drop them, with the copy that held them gone: convergence property).
  const noTextMerge = new Set<string>()
  for (const [side, other, m] of [[ours, theirs, o], [theirs, ours, t]] as const) {
    for (const [copy, p] of supersededCopies(base, side, other)) {
      m.delete(copy)
      noTextMerge.add(p)
    }
  }

  // 2. Path by path.
  const out = new Map<string, Node>()
  const losers: Array<[string, Node]> = []
  for (const p of new Set<string>([...b.keys(), ...o.keys(), ...t.keys()])) {
    const d = mergeNode(b.get(p), o.get(p), t.get(p), noTextMerge.has(p) ? undefined : options?.textMerged)
    if (d.node) out.set(p, d.node)
    if (d.loser) losers.push([p, d.loser])
  }

  // A content both sides still hold is kept, even when each side deleted a different copy of it
  // (as happens when two lineages kept the same losing version under different names).
  const onBoth = new Map<string, Array<string>>()
  const ids = (m: Side) => {
    const s = new Map<string, Array<string>>()
    for (const [p, n] of m) if (n.type === "file") s.set(contentId(n.content), [...(s.get(contentId(n.content)) ?? []), p])
    return s
  }
  const [idsO, idsT, idsOut] = [ids(o), ids(t), ids(out)]
  for (const [id, ps] of idsO) if (idsT.has(id) && !idsOut.has(id)) onBoth.set(id, [...new Set([...ps, ...idsT.get(id)!])].sort(cmp))
  for (const id of [...onBoth.keys()].sort(cmp)) {
    const ps = onBoth.get(id)!
    const at = ps.find((p) => !out.has(p))
    const here = at ?? ps[0]!
    const [x, y] = [o.get(here), t.get(here)]
    const node = x?.type === "file" && contentId(x.content) === id ? (y?.type === "file" && contentId(y.content) === id ? join(x, y)! : x) : y!
    if (at !== undefined) out.set(at, node)
    else losers.push([here, node])
  }

  // 3. Directories a surviving entry needs: a non-directory in the way moves to a conflict copy.
  for (const p of [...out.keys()].sort(cmp)) {
    if (!out.has(p)) continue
    for (const a of ancestorsOf(p)) {
      const existing = out.get(a)
      if (existing && existing.type !== "dir") {
        out.delete(a)
        losers.push([a, existing])
      }
      if (!out.has(a)) out.set(a, { type: "dir" })
    }
  }

  // 4. Conflict copies, in a canonical order so that numbered names come out the same everywhere.
  const conflicts: Array<Conflict> = []
  losers.sort(([p, m], [q, n]) => cmp(p, q) || cmp(nodeKey(m), nodeKey(n)))
  for (const [p, n] of losers) {
    if (n.type === "dir") continue
    const tag = `${labelOf(n, hostLabel)}-${versionTag(n)}`
    // The same losing content at the same path is the same copy, whichever merge made it first
    // (attributes joined); another content that happens to get the same name is numbered.
    let copy = conflictName(p, tag)
    let node: Node = n
    for (let i = 2; ; i++) {
      const existing = out.get(copy)
      const joined = existing && join(existing, n)
      if (!existing || joined) {
        node = joined ?? n
        break
      }
      copy = conflictName(p, `${tag}-${i}`)
    }
    out.set(copy, node)
    conflicts.push({ path: p, copy })
  }
  return { tree: Tree.from([...out].sort(([p], [q]) => p.split("/").length - q.split("/").length || cmp(p, q))), conflicts }
}

// ---------------------------------------------------------------------------------------------
// Settling

/**
 * A total order on trees, writers included: the tree that keeps more versions (distinct file
 * contents) first, then more entries, then by the sorted entries. Negative when `a` comes first.
 */
export const compareTrees = (a: Tree, b: Tree): number => {
  const versions = (t: Tree) => {
    const s = new Set<string>()
    for (const [, n] of t.entries()) if (n.type === "file") s.add(contentId(n.content))
    return s.size
  }
  const d = versions(b) - versions(a) || b.size - a.size
  if (d !== 0) return d
  const lines = (t: Tree) => t.toSorted().map(([p, n]) => `${p}\0${nodeKey(n)}`)
  const [la, lb] = [lines(a), lines(b)]
  for (let i = 0; i < la.length; i++) if (la[i] !== lb[i]) return cmp(la[i]!, lb[i]!)
  return 0
}

/**
 * The tree two hosts settle on when their heads hold the same user commits (neither has a
 * non-merge commit the other lacks) but different trees: the first in `compareTrees` order.
 *
 * Three-way merges are not associative, so hosts that merged the same commits in different orders
 * (or over different merge bases) can hold different trees, and merging such trees again can go
 * on flipping between them (two identical directories created on two hosts, one of them deleted:
 * whether the other survives depends on the merge base). Differences between such trees are
 * artefacts of merge order, not anyone's edit, so the sync picks one deterministically: after one
 * round of all-pairs syncs brings every host every user commit, a second round leaves every host
 * with the same tree (test/property/convergence.property.test.ts).
 */
export const settle = (ours: Tree, theirs: Tree): Tree => (compareTrees(ours, theirs) <= 0 ? ours : theirs)
