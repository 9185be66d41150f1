/**
 * Three-way merge of trees, path by path. Symmetric: which side is "ours" never changes the result.
 * Nothing is lost: when both sides changed a path differently, one version keeps the path and the
 * other becomes a conflict copy beside it, named from its content so every host derives the same
 * name.
 */
import { ancestorsOf, baseName, joinPath, nameProblem, parentOf } from "./paths.js"
import { type Node, Tree, contentId, sameNode } from "./tree.js"

export interface Conflict {
  readonly path: string
  /** where the losing version went */
  readonly copy: string
}

export interface MergeResult {
  readonly tree: Tree
  readonly conflicts: ReadonlyArray<Conflict>
}

/** A short, stable tag for a node's version. */
const versionTag = (n: Node): string => {
  const raw = n.type === "file" ? contentId(n.content) : n.type === "symlink" ? `link:${n.target}` : "dir"
  const hex = /--([0-9a-f]{6,})/.exec(raw)?.[1] ?? fnv(raw)
  return hex.slice(0, 6)
}

const fnv = (s: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, "0")
}

/** `dir/report.pdf` + `3fa9c2` -> `dir/report.conflict-3fa9c2.pdf`; the extension stays last. */
export const conflictName = (path: string, tag: string): string => {
  const name = baseName(path)
  const dot = name.lastIndexOf(".")
  const mark = `.conflict-${tag}`
  const tooLong = (n: string) => nameProblem(n) === "name-too-long"
  // A copy of a name near the byte limit must still be a valid name: the stem is shortened, and an
  // extension too long to leave room for any stem counts as part of the stem.
  const [stem, ext] = dot > 0 && !tooLong("xxxx" + mark + name.slice(dot)) ? [name.slice(0, dot), name.slice(dot)] : [name, ""]
  const chars = [...stem]
  while (chars.length > 1 && tooLong(chars.join("") + mark + ext)) chars.pop()
  return joinPath(parentOf(path), `${chars.join("")}${mark}${ext}`)
}

/** Orders two differing versions; the first wins. Later mtime wins, then the greater id. */
const ranks = (a: Node, b: Node): boolean => {
  if (a.type === "dir" || b.type === "dir") return a.type === "dir"
  if (a.mtime !== b.mtime) return a.mtime > b.mtime
  return versionTag(a) + JSON.stringify(a) >= versionTag(b) + JSON.stringify(b)
}

const mergeSameContent = (b: Node | undefined, o: Node, t: Node): Node | undefined => {
  if (o.type !== "file" || t.type !== "file" || contentId(o.content) !== contentId(t.content)) return undefined
  const base = b?.type === "file" ? b : undefined
  // A side that changed the bit wins; two new files disagreeing keep it set, whichever side is ours.
  const executable = base ? (o.executable !== base.executable ? o.executable : t.executable) : o.executable || t.executable
  return { ...o, executable, mtime: Math.max(o.mtime, t.mtime) }
}

export const merge = (base: Tree, ours: Tree, theirs: Tree): MergeResult => {
  const out = new Map<string, Node>()
  const losers: Array<[string, Node]> = []
  const paths = new Set<string>([...base.paths(), ...ours.paths(), ...theirs.paths()])
  for (const p of paths) {
    const b = base.get(p)
    const o = ours.get(p)
    const t = theirs.get(p)
    let r: Node | undefined
    if (sameNode(o, t)) r = o
    else if (sameNode(o, b)) r = t
    else if (sameNode(t, b)) r = o
    else if (!o) r = t // deleted here, changed there: the change wins
    else if (!t) r = o
    else if (o.type === "dir" && t.type === "dir") r = o
    else {
      const same = mergeSameContent(b, o, t)
      if (same) r = same
      else {
        const [win, lose] = ranks(o, t) ? [o, t] : [t, o]
        r = win
        losers.push([p, lose])
      }
    }
    if (r) out.set(p, r)
  }
  // Directories a surviving entry needs: a non-directory in the way moves to a conflict copy.
  for (const [p, n] of [...out]) {
    for (const a of ancestorsOf(p)) {
      const existing = out.get(a)
      if (existing && existing.type !== "dir") {
        out.delete(a)
        losers.push([a, existing])
      }
      if (!out.has(a)) out.set(a, { type: "dir" })
    }
    void n
  }
  const conflicts: Array<Conflict> = []
  for (const [p, n] of losers.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (n.type === "dir") continue
    let copy = conflictName(p, versionTag(n))
    for (let i = 2; out.has(copy) && !sameNode(out.get(copy), n); i++) copy = conflictName(p, `${versionTag(n)}-${i}`)
    out.set(copy, n)
    conflicts.push({ path: p, copy })
  }
  return { tree: Tree.from([...out].sort(([a], [b]) => a.split("/").length - b.split("/").length)), conflicts }
}
