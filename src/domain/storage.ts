/**
 * How a tree is stored in git, and read back.
 *
 * - an annexed file is a git-annex symlink to its object (locked), or, when executable, an
 *   unlocked pointer file with mode 100755 (git keeps the executable bit only on regular files);
 * - a symlink is a git symlink; a plain git blob stays a plain git blob;
 * - every directory holds a marker `.shareboxdir` listing the mtimes of its files and symlinks
 *   (`name\tmtime` lines, sorted; `\` and newline in names escaped as `\\` and `\n`), which also
 *   makes empty directories exist in git; a file whose writer is known has a third column,
 *   `name\tmtime\thost` (the writer's git-annex UUID; see `storableHost`);
 * - names `.git` and `.shareboxdir` in the tree are escaped (see paths.ts).
 */
import { keyOfAnnexLink, parsePointer, pointerText } from "./key.js"
import { DIR_MARKER, baseName, decodePath, encodeName, encodePath, joinPath, parentOf } from "./paths.js"
import { type Node, Tree } from "./tree.js"

export type GitMode = "100644" | "100755" | "120000"

/** A blob in a git tree: inline data, or an existing blob by id. */
export type StoredEntry =
  | { readonly path: string; readonly mode: GitMode; readonly data: string }
  | { readonly path: string; readonly mode: GitMode; readonly oid: string }

/** What `ls-tree -r -l` gives, plus the blob text for symlinks, markers and small regular files. */
export interface RawEntry {
  readonly path: string
  readonly mode: string
  readonly oid: string
  readonly size: number
  readonly data?: string
}

/** Entries at most this size are read to detect pointer files and markers. */
export const SMALL_BLOB = 1024

/** Object path of a key relative to the repository top, e.g. `.git/annex/objects/Xx/Yy/KEY/KEY`. */
export type ObjectPathOf = (key: string) => string

const linkTo = (storedPath: string, objectPath: string): string => {
  const depth = storedPath.split("/").length - 1
  return "../".repeat(depth) + objectPath
}

/** The stored entry of one non-directory node at a (mount) path. */
export const storedEntry = (path: string, node: Node, objectPath: ObjectPathOf): StoredEntry | undefined => {
  const sp = encodePath(path)
  switch (node.type) {
    case "dir":
      return undefined
    case "symlink":
      return { path: sp, mode: "120000", data: node.target }
    case "file": {
      const c = node.content
      if (c.kind === "blob") return { path: sp, mode: node.executable ? "100755" : "100644", oid: c.oid }
      if (c.kind === "staged") throw new Error(`staged content reached storage at ${path}`)
      return node.executable
        ? { path: sp, mode: "100755", data: pointerText(c.key) }
        : { path: sp, mode: "120000", data: linkTo(sp, objectPath(c.key)) }
    }
  }
}

export const markerPath = (dir: string): string => joinPath(encodePath(dir), DIR_MARKER).replace(/^\//, "")

// A newline in a name would split its marker line, so names are escaped (`\\` and `\n`).
const escapeMarkerName = (name: string): string => name.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"))
const unescapeMarkerName = (s: string): string => (s.includes("\\") ? s.replace(/\\([\\n])/g, (_, c: string) => (c === "n" ? "\n" : "\\")) : s)

/**
 * Whether a host id can be stored as a marker's third column: non-empty, no whitespace, control
 * characters or backslash, and not a number. A name may contain tabs, so a line is read from its
 * end: a last field that is a number is the mtime of a two-column line; anything else is a host.
 * git-annex UUIDs always qualify; a host id that does not is simply not stored.
 */
export const storableHost = (host: string | undefined): host is string =>
  host !== undefined && host.length > 0 && !/[\s\\\u0000-\u001f\u007f]/.test(host) && !Number.isFinite(Number(host))

/** The marker of a directory: its files' and symlinks' mtimes, and the writers of its files. */
export const markerText = (t: Tree, dir: string): string => {
  const lines: Array<string> = []
  for (const name of [...t.list(dir)].sort()) {
    const n = t.get(joinPath(dir, name))!
    if (n.type === "dir") continue
    const host = n.type === "file" && storableHost(n.host) ? `\t${n.host}` : ""
    lines.push(`${escapeMarkerName(encodeName(name))}\t${Math.round(n.mtime)}${host}`)
  }
  return lines.length ? lines.join("\n") + "\n" : ""
}

/** Every stored entry of a tree (used for full rewrites and tests). */
export const storedTree = (t: Tree, objectPath: ObjectPathOf): Map<string, StoredEntry> => {
  const out = new Map<string, StoredEntry>()
  const addMarker = (dir: string) => {
    const mp = dir === "" ? DIR_MARKER : markerPath(dir)
    out.set(mp, { path: mp, mode: "100644", data: markerText(t, dir) })
  }
  addMarker("")
  for (const [p, n] of t.entries()) {
    if (n.type === "dir") addMarker(p)
    else {
      const e = storedEntry(p, n, objectPath)!
      out.set(e.path, e)
    }
  }
  return out
}

interface MarkerEntry {
  readonly mtime: number
  readonly host: string | undefined
}

/** Reads `name\tmtime` (older markers) and `name\tmtime\thost` lines; see `storableHost`. */
const parseMarker = (text: string): Map<string, MarkerEntry> => {
  const m = new Map<string, MarkerEntry>()
  for (const line of text.split("\n")) {
    let tab = line.lastIndexOf("\t")
    if (tab <= 0) continue
    let host: string | undefined
    let last = line.slice(tab + 1)
    if (!Number.isFinite(Number(last)) || last.trim() === "") {
      if (!storableHost(last)) continue
      host = last
      const rest = line.slice(0, tab)
      tab = rest.lastIndexOf("\t")
      if (tab <= 0) continue
      last = rest.slice(tab + 1)
    }
    const t = Number(last)
    if (last.trim() !== "" && Number.isFinite(t)) m.set(unescapeMarkerName(line.slice(0, tab)), { mtime: t, host })
  }
  return m
}

/** A component that is `.git` or `.shareboxdir` (escaped or not, any case): only then is there anything to decode. */
const MAYBE_ESCAPED = /(?:^|\/)\.(?:git|shareboxdir)(?:~|\/|$)/i
const decodeStored = (p: string): string | undefined => (MAYBE_ESCAPED.test(p) ? decodePath(p) : p)

/**
 * Reads a tree back from stored entries. Entries that cannot be represented (a name no mount name
 * encodes to) are reported and skipped. `defaultMtime` is used for entries no marker mentions
 * (files committed by plain git or git-annex).
 */
export const treeFromStored = (
  entries: Iterable<RawEntry>,
  defaultMtime: number
): { tree: Tree; skipped: Array<string> } => {
  const tree = new Tree()
  const skipped: Array<string> = []
  const mtimes = new Map<string, Map<string, MarkerEntry>>()
  const pending: Array<[string, RawEntry]> = []
  for (const e of entries) {
    if (baseName(e.path) === DIR_MARKER) {
      const storedDir = parentOf(e.path)
      const dir = storedDir === "" ? "" : decodeStored(storedDir)
      if (dir === undefined) {
        skipped.push(e.path)
        continue
      }
      if (dir !== "") tree.set(dir, { type: "dir" })
      mtimes.set(dir, parseMarker(e.data ?? ""))
      continue
    }
    const p = decodeStored(e.path)
    if (p === undefined) {
      skipped.push(e.path)
      continue
    }
    pending.push([p, e])
  }
  for (const [p, e] of pending) {
    const marked = mtimes.get(parentOf(p))?.get(encodeName(baseName(p)))
    const mtime = marked?.mtime ?? defaultMtime
    const host = marked?.host !== undefined ? { host: marked.host } : {}
    const existing = tree.get(p)
    if (existing?.type === "dir") {
      skipped.push(e.path)
      continue
    }
    if (e.mode === "120000") {
      const target = e.data ?? ""
      const key = keyOfAnnexLink(target)
      tree.set(p, key ? { type: "file", content: { kind: "key", key }, executable: false, mtime, ...host } : { type: "symlink", target, mtime })
    } else if (e.mode === "100644" || e.mode === "100755") {
      const key = e.data !== undefined && e.size <= SMALL_BLOB ? parsePointer(e.data) : undefined
      tree.set(p, {
        type: "file",
        content: key ? { kind: "key", key } : { kind: "blob", oid: e.oid, size: e.size },
        executable: e.mode === "100755",
        mtime,
        ...host
      })
    } else {
      skipped.push(e.path)
    }
  }
  return { tree, skipped }
}

/** One change to a git tree: delete a path (file or whole directory) or set an entry. */
export type TreeChange = { readonly _tag: "Delete"; readonly path: string } | { readonly _tag: "Set"; readonly entry: StoredEntry }

/**
 * The git changes that turn `prev` into `next`, looking only at `touched` paths (and the markers of
 * their directories). Deletions come first. Callers pass every path an event touched, including
 * the descendants of a renamed directory.
 */
export const storedChanges = (
  prev: { get(path: string): Node | undefined },
  next: Tree,
  touched: Iterable<string>,
  objectPath: ObjectPathOf
): Array<TreeChange> => {
  const deletes = new Map<string, TreeChange>()
  const sets = new Map<string, TreeChange>()
  const dirs = new Set<string>()
  for (const p of touched) {
    const a = prev.get(p)
    const b = next.get(p)
    dirs.add(parentOf(p))
    if (b?.type === "dir") dirs.add(p)
    if (a && (!b || (a.type === "dir") !== (b.type === "dir"))) {
      deletes.set(encodePath(p), { _tag: "Delete", path: encodePath(p) })
    }
    if (b && b.type !== "dir") {
      const e = storedEntry(p, b, objectPath)!
      sets.set(e.path, { _tag: "Set", entry: e })
    }
  }
  for (const d of dirs) {
    if (!next.isDir(d)) continue
    const mp = d === "" ? DIR_MARKER : markerPath(d)
    sets.set(mp, { _tag: "Set", entry: { path: mp, mode: "100644", data: markerText(next, d) } })
  }
  return [...deletes.values(), ...sets.values()]
}
