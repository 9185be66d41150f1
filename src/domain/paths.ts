/**
 * Paths inside a sharebox tree: relative, `/`-separated, validated once at the edge.
 *
 * A path as the mount sees it may contain a component named `.git` (so `git clone` into the mount
 * works); such components are escaped before they reach git, and `.shareboxdir`, the name of the
 * per-directory marker, is escaped the same way. See `encodeName`.
 */

export const MAX_NAME_BYTES = 255

/** The virtual directory at the mount root; never stored, never synced. */
export const VIRTUAL_ROOT = ".sharebox"

/** Name of the per-directory marker file that makes directories explicit in git. */
export const DIR_MARKER = ".shareboxdir"

export type PathProblem =
  | "empty"
  | "absolute"
  | "empty-component"
  | "dot-component"
  | "nul"
  | "name-too-long"
  | "git-component"
  | "reserved"

const utf8Length = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c < 0x80) n += 1
    else if (c < 0x800) n += 2
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4
      i++
    } else n += 3
  }
  return n
}

/** Why a single name (one path component) is not valid, or undefined when it is. */
export const nameProblem = (name: string): PathProblem | undefined => {
  if (name.length === 0) return "empty-component"
  if (name === "." || name === "..") return "dot-component"
  if (name.includes("\0")) return "nul"
  if (name.includes("/")) return "empty-component"
  // a UTF-16 code unit is at most 3 bytes of UTF-8, so most names need no counting
  if (name.length * 3 > MAX_NAME_BYTES && utf8Length(name) > MAX_NAME_BYTES) return "name-too-long"
  return undefined
}

/**
 * Why a stored path (as it appears in git) is invalid, or undefined when valid. Stored paths never
 * contain a `.git` component in any letter case.
 */
export const pathProblem = (path: string): PathProblem | undefined => {
  if (path.length === 0) return "empty"
  if (path.startsWith("/")) return "absolute"
  for (const name of path.split("/")) {
    const p = nameProblem(name)
    if (p) return p
    if (name.toLowerCase() === ".git") return "git-component"
  }
  return undefined
}

export const isValidPath = (path: string): boolean => pathProblem(path) === undefined

/** Mount-level validation: like `pathProblem`, with `.git` allowed (it is escaped) and `.sharebox` at the root reserved. */
export const viewPathProblem = (path: string): PathProblem | undefined => {
  if (path.length === 0) return "empty"
  if (path.startsWith("/")) return "absolute"
  const names = path.split("/")
  if (names[0] === VIRTUAL_ROOT) return "reserved"
  for (const name of names) {
    const p = nameProblem(name)
    if (p) return p
  }
  return undefined
}

/**
 * A path of the tree as the mount sees it: valid like a stored path, except that `.git`
 * components are allowed (they are escaped when stored). `.sharebox` at the root is refused at the
 * FUSE edge, not here: a peer may have committed one.
 */
export const isTreePath = (path: string): boolean => {
  const p = viewPathProblem(path)
  return p === undefined || p === "reserved"
}

const ESCAPABLE = /^(\.git|\.shareboxdir)(~*)$/i

/** Mount name -> stored name: `.git` becomes `.git~`, `.git~` becomes `.git~~`, and so on. */
export const encodeName = (name: string): string => (ESCAPABLE.test(name) ? name + "~" : name)

/** Stored name -> mount name; the inverse of `encodeName`. Returns undefined for names no mount name encodes to. */
export const decodeName = (name: string): string | undefined => {
  const m = ESCAPABLE.exec(name)
  if (!m) return name
  if (m[2]!.length === 0) return undefined
  return name.slice(0, -1)
}

export const encodePath = (path: string): string => path.split("/").map(encodeName).join("/")

export const decodePath = (path: string): string | undefined => {
  const out: Array<string> = []
  for (const name of path.split("/")) {
    const d = decodeName(name)
    if (d === undefined) return undefined
    out.push(d)
  }
  return out.join("/")
}

/** Parent of a path; "" for top-level entries. */
export const parentOf = (path: string): string => {
  const i = path.lastIndexOf("/")
  return i < 0 ? "" : path.slice(0, i)
}

export const baseName = (path: string): string => {
  const i = path.lastIndexOf("/")
  return i < 0 ? path : path.slice(i + 1)
}

export const joinPath = (dir: string, name: string): string => (dir === "" ? name : `${dir}/${name}`)

/** Every proper ancestor of a path, outermost first ("a/b/c" -> ["a", "a/b"]). */
export const ancestorsOf = (path: string): Array<string> => {
  const out: Array<string> = []
  let i = path.indexOf("/")
  while (i >= 0) {
    out.push(path.slice(0, i))
    i = path.indexOf("/", i + 1)
  }
  return out
}

/** True when `path` is `dir` itself or lies below it. */
export const isWithin = (path: string, dir: string): boolean =>
  path === dir || path.startsWith(dir + "/")

/** "/a/b" as FUSE gives it -> "a/b"; "/" -> "". */
export const fromFusePath = (p: string): string => (p === "/" ? "" : p.replace(/^\/+/, ""))

export const describeProblem = (p: PathProblem): string => {
  switch (p) {
    case "empty":
      return "the path is empty"
    case "absolute":
      return "the path is absolute"
    case "empty-component":
      return "the path has an empty component"
    case "dot-component":
      return "the path has a '.' or '..' component"
    case "nul":
      return "the path contains a NUL byte"
    case "name-too-long":
      return `a name is longer than ${MAX_NAME_BYTES} bytes`
    case "git-component":
      return "a component is named .git"
    case "reserved":
      return `${VIRTUAL_ROOT} at the root is reserved`
  }
}
