/**
 * How a tree is stored in git, and read back.
 *
 * - an annexed file is a git-annex symlink to its object (locked), or, when executable, an
 *   unlocked pointer file with mode 100755 (git keeps the executable bit only on regular files);
 *   a pointer file with mode 100644 (a plain git-annex peer's `git annex unlock`) reads back as an
 *   `unlocked` file and is written back as one;
 * - a symlink is a git symlink; a plain git blob stays a plain git blob;
 * - every directory holds a marker `.shareboxdir` listing the mtimes of its files and symlinks
 *   (`name\tmtime` lines, sorted; `\` and newline in names escaped as `\\` and `\n`), which also
 *   makes empty directories exist in git; a file whose writer is known has a third column,
 *   `name\tmtime\thost` (the writer's git-annex UUID; see `storableHost`); a file or directory
 *   whose permission bits are not the default (0644, 0755 for executable files and directories)
 *   has a line `/mode\tOCTAL\tname` (no name holds `/`, so a reader that knows no such line
 *   takes it for the mtime of a name that is never there);
 * - names `.git` and `.shareboxdir` in the tree are escaped (see paths.ts).
 */
import { keyOfAnnexLink, parsePointer, pointerText } from "./key.js"
import { DIR_MARKER, baseName, decodePath, encodeName, encodePath, joinPath, parentOf, viewPathProblem } from "./paths.js"
import { isSaneTime } from "./time.js"
import { type Node, Tree, dirNode, dirWithMode, executableMode, fileMode, fileModeFields } from "./tree.js"

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
  /**
   * For a symlink the reader found to be an annex link (`keyOfAnnexLink` of its target), the key,
   * in a string of its own; `data` may then be left out. A key cut from the target string would
   * keep all of the target alive: 15 MB over 100,000 files.
   */
  readonly linkKey?: string
  /** the stored path's bytes, when they are not valid UTF-8 (such an entry is always skipped) */
  readonly rawPath?: Uint8Array
}

/** Entries at most this size are read to detect pointer files and markers. */
export const SMALL_BLOB = 1024

/** A symlink target longer than a path can be is no annex link, nor a link a kernel follows: never read. */
export const MAX_LINK_BYTES = 4096

/** Markers are read up to this size (100,000 names take about 10 MB); a larger one counts as none. */
export const MAX_MARKER_BYTES = 32 * 1024 * 1024

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
      return node.executable || node.unlocked
        ? { path: sp, mode: node.executable ? "100755" : "100644", data: pointerText(c.key) }
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

/** What starts a marker's line of a mode. */
const MODE_LINE = "/mode\t"

/** The mode a marker's mode line keeps for a node, when it is not the default. */
const storedMode = (n: Node): number | undefined => (n.type === "symlink" ? undefined : n.mode)

/**
 * The marker of a directory: its files' and symlinks' mtimes, the writers of its files, and the
 * modes of its entries that are not the default.
 */
export const markerText = (t: Tree, dir: string): string => {
  const lines: Array<string> = []
  const modes: Array<string> = []
  for (const name of [...t.list(dir)].sort()) {
    const n = t.get(joinPath(dir, name))!
    const mode = storedMode(n)
    if (mode !== undefined) modes.push(`${MODE_LINE}${mode.toString(8).padStart(4, "0")}\t${escapeMarkerName(encodeName(name))}`)
    if (n.type === "dir") continue
    const host = n.type === "file" && storableHost(n.host) ? `\t${n.host}` : ""
    lines.push(`${escapeMarkerName(encodeName(name))}\t${Math.round(n.mtime)}${host}`)
  }
  lines.push(...modes)
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

const utf8 = new TextEncoder()

/** A tree read back from git, and the stored paths left out of it (see `decodeStored`). */
export interface LoadedTree {
  readonly tree: Tree
  /** stored paths left out, as text (lossy for names that are not UTF-8) */
  readonly skipped: Array<string>
  /** the exact stored bytes of each skipped path, in the same order */
  readonly skippedBytes: Array<Uint8Array>
}

interface MarkerEntry {
  readonly mtime: number
  readonly host: string | undefined
}

/** A marker read: its names' mtimes and writers, and the modes it names. */
interface Marker {
  readonly entries: Map<string, MarkerEntry>
  /** stored name -> permission bits (only set-user-ID and set-group-ID are never taken) */
  readonly modes: Map<string, number>
}

/** Reads `name\tmtime` (older markers), `name\tmtime\thost` and `/mode\tOCTAL\tname` lines; see `storableHost`. */
const parseMarker = (text: string): Marker => {
  const m = new Map<string, MarkerEntry>()
  const modes = new Map<string, number>()
  for (const line of text.split("\n")) {
    if (line.startsWith(MODE_LINE)) {
      const tab = line.indexOf("\t", MODE_LINE.length)
      const octal = line.slice(MODE_LINE.length, tab)
      // a peer writes what it likes here: only the bits sharebox keeps are taken
      if (tab > 0 && /^[0-7]{1,6}$/.test(octal)) modes.set(unescapeMarkerName(line.slice(tab + 1)), parseInt(octal, 8) & 0o1777)
      continue
    }
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
    // a peer writes what it likes here: a time no date can hold (1e20) is as good as none
    if (last.trim() !== "" && isSaneTime(t)) m.set(unescapeMarkerName(line.slice(0, tab)), { mtime: t, host })
  }
  return { entries: m, modes }
}

/**
 * A file's mode from its marker, made to agree with git's executable bit (git's wins: a plain git
 * peer's `chmod +x` is a change of mode): execute bits are added where the mode reads, or taken away.
 */
const agreeingMode = (marked: number | undefined, executable: boolean): number => {
  if (marked === undefined || executableMode(marked) === executable) return fileMode({ executable, mode: marked })
  return executable ? marked | 0o100 | ((marked & 0o044) >> 2) : marked & ~0o111
}

/** A component that is `.git` or `.shareboxdir` (escaped or not, any case): only then is there anything to decode. */
const MAYBE_ESCAPED = /(?:^|\/)\.(?:git|shareboxdir)(?:~|\/|$)/i

/**
 * The mount path of a stored path, or undefined when it has none: a name no mount name encodes to,
 * or one no local filesystem could hold (`.`, `..`, empty, over 255 bytes, NUL), or `.sharebox`
 * at the root. sharebox never stores such a path; a peer's tree may hold any, and one of them
 * once reached the view, was committed and pushed on, and broke `read-tree` on every host.
 */
export const mountPathOf = (p: string): string | undefined => {
  const d = MAYBE_ESCAPED.test(p) ? decodePath(p) : p
  return d !== undefined && viewPathProblem(d) === undefined ? d : undefined
}

/**
 * Builds a tree from stored entries as they arrive, in any order (a tree of 100,000 entries is
 * built while git is still listing it). An entry is placed as soon as its directory's marker has
 * given its mtime; entries whose directory has no marker, or whose name the marker lacks, wait for
 * `finish`, which knows the default mtime. Entries that cannot be represented (a name no mount
 * name encodes to) are reported and skipped.
 */
export class StoredTreeBuilder {
  private readonly tree = new Tree()
  private readonly skipped: Array<string> = []
  /** the exact stored bytes of each skipped path, in the same order (a name that is not UTF-8 has a lossy string) */
  private readonly skippedBytes: Array<Uint8Array> = []
  /** directory -> its marker's lines, for the markers read so far */
  private readonly marks = new Map<string, Marker>()
  /** directory -> its entries read before its marker */
  private readonly early = new Map<string, Array<readonly [string, RawEntry]>>()
  /** entries that get the default mtime (or find their marker's line only at the end) */
  private readonly late: Array<readonly [string, RawEntry]> = []

  add(e: RawEntry): void {
    if (e.rawPath !== undefined) return this.skip(e)
    if (baseName(e.path) === DIR_MARKER) {
      const storedDir = parentOf(e.path)
      const dir = storedDir === "" ? "" : mountPathOf(storedDir)
      if (dir === undefined) return this.skip(e)
      if (dir !== "") this.tree.set(dir, dirNode)
      const marks = parseMarker(e.data ?? "")
      this.marks.set(dir, marks)
      const early = this.early.get(dir)
      if (early) {
        this.early.delete(dir)
        for (const [p, x] of early) this.placeOrWait(p, x, marks)
      }
      return
    }
    const p = mountPathOf(e.path)
    if (p === undefined) return this.skip(e)
    const dir = parentOf(p)
    const marks = this.marks.get(dir)
    if (marks) return this.placeOrWait(p, e, marks)
    const early = this.early.get(dir)
    if (early) early.push([p, e])
    else this.early.set(dir, [[p, e]])
  }

  finish(defaultMtime: number): LoadedTree {
    for (const [p, e] of this.late) this.place(p, e, this.marks.get(parentOf(p))?.entries.get(encodeName(baseName(p))), defaultMtime)
    for (const early of this.early.values()) for (const [p, e] of early) this.place(p, e, undefined, defaultMtime)
    this.late.length = 0
    this.early.clear()
    // directories' modes, once every directory is there (a directory's marker may come before or after its parent's)
    for (const [dir, marker] of this.marks) {
      for (const [name, mode] of marker.modes) {
        const p = mountPathOf(dir === "" ? name : joinPath(encodePath(dir), name))
        if (p !== undefined && this.tree.get(p)?.type === "dir") this.tree.set(p, dirWithMode(mode))
      }
    }
    return { tree: this.tree, skipped: this.skipped, skippedBytes: this.skippedBytes }
  }

  private placeOrWait(p: string, e: RawEntry, marks: Marker): void {
    const marked = marks.entries.get(encodeName(baseName(p)))
    if (marked) this.place(p, e, marked, 0)
    else this.late.push([p, e])
  }

  private place(p: string, e: RawEntry, marked: MarkerEntry | undefined, defaultMtime: number): void {
    const mtime = marked?.mtime ?? defaultMtime
    const host = marked?.host !== undefined ? { host: marked.host } : {}
    const modes = this.marks.get(parentOf(p))?.modes
    const markedMode = modes !== undefined && modes.size > 0 ? modes.get(encodeName(baseName(p))) : undefined
    // a path both a file and a directory: git cannot store that, and decoding is one-to-one
    if (this.tree.get(p)?.type === "dir") return this.skip(e)
    if (e.mode === "120000") {
      if (e.data === undefined && e.linkKey === undefined) return this.skip(e) // too long to be read
      const target = e.data ?? ""
      const key = e.linkKey ?? keyOfAnnexLink(target)
      this.tree.set(p, key ? { type: "file", content: { kind: "key", key }, ...fileModeFields(agreeingMode(markedMode, false)), mtime, ...host } : { type: "symlink", target, mtime })
    } else if (e.mode === "100644" || e.mode === "100755") {
      const key = e.data !== undefined && e.size <= SMALL_BLOB ? parsePointer(e.data) : undefined
      const mode = fileModeFields(agreeingMode(markedMode, e.mode === "100755"))
      this.tree.set(p, {
        type: "file",
        content: key ? { kind: "key", key } : { kind: "blob", oid: e.oid, size: e.size },
        ...mode,
        mtime,
        ...host,
        // an executable annexed file is a pointer anyway; one that is not was unlocked by a person
        ...(key && !mode.executable ? { unlocked: true as const } : {})
      })
    } else {
      this.skip(e)
    }
  }

  private skip(e: RawEntry): void {
    this.skipped.push(e.path)
    this.skippedBytes.push(e.rawPath ?? utf8.encode(e.path))
  }
}

/**
 * Reads a tree back from stored entries (see `StoredTreeBuilder`). `defaultMtime` is used for
 * entries no marker mentions (files committed by plain git or git-annex).
 */
export const treeFromStored = (entries: Iterable<RawEntry>, defaultMtime: number): LoadedTree => {
  const b = new StoredTreeBuilder()
  for (const e of entries) b.add(e)
  return b.finish(defaultMtime)
}

/** One change to a git tree: delete a path (file or whole directory) or set an entry. */
export type TreeChange =
  | { readonly _tag: "Delete"; readonly path: string; /** the path's bytes, where they are not UTF-8 */ readonly raw?: Uint8Array }
  | { readonly _tag: "Set"; readonly entry: StoredEntry }

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
