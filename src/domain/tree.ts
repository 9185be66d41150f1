/**
 * The tree a host sees: path -> node, with explicit directories. The root ("") is implicit.
 *
 * `Tree` is a plain data structure (no I/O). It keeps a children index so that listing a directory
 * does not scan the whole map; the daemon mutates one instance in place for speed, and the pure
 * functions of the domain (`reduce`, `merge`) work on clones.
 */
import { ancestorsOf, baseName, joinPath, parentOf } from "./paths.js"

/** Where a file's bytes are. */
export type Content =
  /** annexed content, by git-annex key */
  | { readonly kind: "key"; readonly key: string }
  /** written here and not yet replayed: a staging file of this host */
  | { readonly kind: "staged"; readonly id: string; readonly size: number }
  /** a plain git blob (committed by plain git, not annexed) */
  | { readonly kind: "blob"; readonly oid: string; readonly size: number }

export interface FileNode {
  readonly type: "file"
  readonly content: Content
  /** the owner's execute bit: what git keeps (100755) */
  readonly executable: boolean
  /**
   * The permission bits, only when they are not the default for `executable` (0644, 0755); their
   * owner's execute bit is always `executable`. Build them with `fileModeFields`.
   */
  readonly mode?: number
  /** milliseconds since the epoch */
  readonly mtime: number
  /**
   * The git-annex UUID of the host that wrote this version, when known. Conflict copies are named
   * after the losing version's host. Not part of a node's identity: `sameNode` ignores it, so the
   * same content written on two hosts is the same file.
   */
  readonly host?: string
  /**
   * Annexed content stored as a pointer file (100644), not a link: a file a plain git-annex peer
   * unlocked. It stays unlocked when written here (storage.ts); only set with a key's content.
   */
  readonly unlocked?: true
}
export interface SymlinkNode {
  readonly type: "symlink"
  readonly target: string
  readonly mtime: number
}
export interface DirNode {
  readonly type: "dir"
  /** the permission bits, only when they are not the default 0755 */
  readonly mode?: number
}
export type Node = FileNode | SymlinkNode | DirNode

export const dirNode: DirNode = { type: "dir" }

/**
 * The permission bits sharebox keeps: read, write and execute for owner, group and others, and the
 * sticky bit. Set-user-ID and set-group-ID are never kept (a peer could plant such a program).
 */
export const KEPT_MODE = 0o1777
export const DEFAULT_FILE_MODE = 0o644
export const DEFAULT_EXECUTABLE_MODE = 0o755
export const DEFAULT_DIR_MODE = 0o755

/** Whether a mode makes a file executable as git sees it: its owner's execute bit. */
export const executableMode = (mode: number): boolean => (mode & 0o100) !== 0

/** A file's permission bits. */
export const fileMode = (n: { readonly executable: boolean; readonly mode?: number }): number =>
  n.mode ?? (n.executable ? DEFAULT_EXECUTABLE_MODE : DEFAULT_FILE_MODE)

/** A directory's permission bits. */
export const dirMode = (n: DirNode): number => n.mode ?? DEFAULT_DIR_MODE

/** The fields of a file node that say its mode: `mode` only where it is not the default. */
export const fileModeFields = (mode: number): { readonly executable: boolean; readonly mode?: number } => {
  const m = mode & KEPT_MODE
  const executable = executableMode(m)
  return m === (executable ? DEFAULT_EXECUTABLE_MODE : DEFAULT_FILE_MODE) ? { executable } : { executable, mode: m }
}

/** A file node with another mode (every other field kept). */
export const withFileMode = (n: FileNode, mode: number): FileNode => {
  const { mode: _old, ...rest } = n
  return { ...rest, ...fileModeFields(mode) }
}

/** The directory node of a mode. */
export const dirWithMode = (mode: number): DirNode => {
  const m = mode & KEPT_MODE
  return m === DEFAULT_DIR_MODE ? dirNode : { type: "dir", mode: m }
}

/** The node of a file open for writing: its staging file's current size, mode and mtime. */
export const stagedNode = (s: { readonly id: string; readonly size: number; readonly mode: number; readonly mtime: number }): FileNode => ({
  type: "file",
  content: { kind: "staged", id: s.id, size: s.size },
  ...fileModeFields(s.mode),
  mtime: s.mtime
})

export const contentId = (c: Content): string =>
  c.kind === "key" ? c.key : c.kind === "staged" ? `staged:${c.id}` : `blob:${c.oid}`

export const sameContent = (a: Content, b: Content): boolean => contentId(a) === contentId(b)

/** Node identity: type, content, mode, mtime and whether it is unlocked; never the writer (`host`). */
export const sameNode = (a: Node | undefined, b: Node | undefined): boolean => {
  if (a === b) return true
  if (!a || !b || a.type !== b.type) return false
  switch (a.type) {
    case "dir":
      return dirMode(a) === dirMode(b as DirNode)
    case "symlink":
      return a.target === (b as SymlinkNode).target && a.mtime === (b as SymlinkNode).mtime
    case "file": {
      const f = b as FileNode
      return sameContent(a.content, f.content) && fileMode(a) === fileMode(f) && a.mtime === f.mtime && !a.unlocked === !f.unlocked
    }
  }
}

/**
 * Same node and same writer: what storage compares, since the writer is stored (in the directory
 * marker). Callers that rewrite stored trees must use this, not `sameNode`, to find changed paths.
 */
export const sameStored = (a: Node | undefined, b: Node | undefined): boolean =>
  sameNode(a, b) && (a?.type !== "file" || a.host === (b as FileNode).host)

export class Tree {
  private readonly nodes = new Map<string, Node>()
  private readonly kids = new Map<string, Set<string>>([["", new Set()]])
  /**
   * Told every path this tree gains (by `set`, with the parents it makes): the daemon mirrors the
   * view's names outside JavaScript with it. Not copied by `clone`.
   */
  onAdd: ((path: string) => void) | undefined = undefined

  static from(entries: Iterable<readonly [string, Node]>): Tree {
    const t = new Tree()
    for (const [p, n] of entries) t.set(p, n)
    return t
  }

  get size(): number {
    return this.nodes.size
  }

  get(path: string): Node | undefined {
    return path === "" ? dirNode : this.nodes.get(path)
  }

  has(path: string): boolean {
    return path === "" || this.nodes.has(path)
  }

  isDir(path: string): boolean {
    return this.get(path)?.type === "dir"
  }

  /** Names directly inside a directory (empty when it is not one). */
  list(dir: string): ReadonlyArray<string> {
    const k = this.kids.get(dir)
    return k ? [...k] : []
  }

  childCount(dir: string): number {
    return this.kids.get(dir)?.size ?? 0
  }

  /**
   * Sets a node, creating missing parent directories. A non-directory ancestor is replaced by a
   * directory (callers that must not do that check first).
   */
  set(path: string, node: Node): void {
    // a directory's ancestors are all directories: with the parent there, nothing to make
    const parent = parentOf(path)
    if (parent !== "" && this.nodes.get(parent)?.type !== "dir") this.makeAncestors(path)
    const old = this.nodes.get(path)
    if (old === undefined) this.onAdd?.(path)
    else if (old.type === "dir" && node.type !== "dir") this.delete(path)
    this.nodes.set(path, node)
    this.kids.get(parent)!.add(baseName(path))
    if (node.type === "dir" && !this.kids.has(path)) this.kids.set(path, new Set())
  }

  private makeAncestors(path: string): void {
    for (const a of ancestorsOf(path)) {
      const existing = this.nodes.get(a)
      if (existing?.type !== "dir") {
        if (existing) this.delete(a)
        else this.onAdd?.(a)
        this.nodes.set(a, dirNode)
        this.kids.get(parentOf(a))!.add(baseName(a))
        this.kids.set(a, new Set())
      }
    }
  }

  /** Removes a node and everything below it. */
  delete(path: string): void {
    const node = this.nodes.get(path)
    if (!node) return
    if (node.type === "dir") {
      for (const name of this.list(path)) this.delete(joinPath(path, name))
      this.kids.delete(path)
    }
    this.nodes.delete(path)
    this.kids.get(parentOf(path))?.delete(baseName(path))
  }

  /** Every path at or below `dir` (excluding the root itself), parents before children. */
  *walk(dir = ""): Generator<[string, Node]> {
    for (const name of this.list(dir)) {
      const p = joinPath(dir, name)
      const n = this.nodes.get(p)!
      yield [p, n]
      if (n.type === "dir") yield* this.walk(p)
    }
  }

  entries(): IterableIterator<[string, Node]> {
    return this.nodes.entries()
  }

  paths(): IterableIterator<string> {
    return this.nodes.keys()
  }

  clone(): Tree {
    const t = new Tree()
    for (const [p, n] of this.nodes) t.nodes.set(p, n)
    for (const [d, k] of this.kids) t.kids.set(d, new Set(k))
    return t
  }

  /** Moves a subtree; the destination's parent must exist. */
  move(from: string, to: string): void {
    if (from === to) return
    const moved: Array<[string, Node]> = []
    for (const [p, n] of [[from, this.nodes.get(from)!] as [string, Node], ...this.walkIf(from)]) {
      moved.push([to + p.slice(from.length), n])
    }
    this.delete(from)
    if (this.nodes.has(to)) this.delete(to)
    for (const [p, n] of moved) this.set(p, n)
  }

  private *walkIf(path: string): Generator<[string, Node]> {
    if (this.nodes.get(path)?.type === "dir") yield* this.walk(path)
  }

  equals(other: Tree): boolean {
    if (this.size !== other.size) return false
    for (const [p, n] of this.nodes) if (!sameNode(n, other.get(p))) return false
    return true
  }

  /** A canonical, sorted form, for comparisons and test output. */
  toSorted(): Array<[string, Node]> {
    return [...this.nodes.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  }
}

