/**
 * The names of conflict copies (docs/conflicts.md, "Conflict copies"): built only from shared data,
 * the losing version's writer and content, so every host that makes the same merge names its copies
 * alike, and parsed back so every host lists the same open conflicts from the tree alone.
 */
import type { Operation } from "./events.js"
import { baseName, joinPath, nameProblem, parentOf } from "./paths.js"
import { type Node, Tree, contentId } from "./tree.js"

/** Code-unit order, the same on every host (no locale). */
export const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

const fnv = (s: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, "0")
}

/** Six hex digits naming a node's version: from the key's hash when there is one. */
export const versionTag = (n: Node): string => {
  const raw = n.type === "file" ? contentId(n.content) : n.type === "symlink" ? `link:${n.target}` : "dir"
  const hex = /--([0-9a-f]{6,})/.exec(raw)?.[1] ?? fnv(raw)
  return hex.slice(0, 6)
}

const MAX_LABEL = 32

/** A host label as it appears in a copy name: letters, digits and `_` only, never empty. */
export const sanitiseLabel = (label: string): string => {
  const clean = [...label.replace(/[^\p{L}\p{N}_]/gu, "_")].slice(0, MAX_LABEL).join("")
  return clean.length === 0 || /^_+$/.test(clean) ? "unknown" : clean
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** A host with no description: a UUID's first 8 digits; a plain peer's writer (plainwriters.ts) as it is. */
export const defaultHostLabel = (host: string): string => (UUID.test(host) ? host.slice(0, 8) : host)

/** The label of a version's writer: "unknown" when the version has none (symlinks, old files). */
export const labelOf = (n: Node, hostLabel: (uuid: string) => string): string =>
  n.type === "file" && n.host !== undefined && n.host !== "" ? sanitiseLabel(hostLabel(n.host)) : "unknown"

/**
 * `dir/report.pdf` + `laptop-3fa9c2` -> `dir/report.conflict-laptop-3fa9c2.pdf`: the extension
 * stays last, and a name near the 255-byte limit has its stem shortened so the copy is still valid.
 */
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

/** `stem.conflict-<label>-<hex>[-<n>][.ext]` */
const COPY_NAME = /^(.+)\.conflict-([\p{L}\p{N}_]+)-([0-9a-f]{6})(?:-([0-9]+))?(\.[^.]*)?$/su

/** The parts of a conflict copy's name, or undefined when the name is not one. */
export const parseConflictName = (
  path: string
): { readonly original: string; readonly label: string; readonly tag: string } | undefined => {
  const m = COPY_NAME.exec(baseName(path))
  if (!m) return undefined
  return { original: joinPath(parentOf(path), m[1]! + (m[5] ?? "")), label: m[2]!, tag: m[3]! }
}

/** git-annex's own conflict files, from a plain git-annex peer's merge: `stem.variant-<hex>[.ext]`. */
const VARIANT_NAME = /^(.+)\.variant-([0-9a-f]{4,})(\.[^.]*)?$/su

/** The original of one of git-annex's `.variant-` files, or undefined when the name is not one. */
export const parseVariantName = (path: string): { readonly original: string } | undefined => {
  const m = VARIANT_NAME.exec(baseName(path))
  return m ? { original: joinPath(parentOf(path), m[1]! + (m[3] ?? "")) } : undefined
}

/**
 * The open conflicts of a tree: every conflict copy in it, and every `.variant-` file a plain
 * git-annex peer's merge left, with the path of its original (which may no longer exist: git-annex
 * gives both versions variant names). Pure and derived from the tree alone, so every host lists the
 * same ones. The original of a copy whose stem was shortened to fit the name limit is the shortened
 * name.
 */
export const openConflicts = (tree: Tree): Array<{ path: string; copy: string }> => {
  const out: Array<{ path: string; copy: string }> = []
  for (const [p, n] of tree.entries()) {
    if (n.type === "dir") continue
    const parsed = parseConflictName(p) ?? parseVariantName(p)
    if (parsed) out.push({ path: parsed.original, copy: p })
  }
  return out.sort((a, b) => cmp(a.copy, b.copy))
}

/** What a person keeps of a conflict: the file as it is, the other version (the copy), or both. */
export type Keep = "winner" | "copy" | "both"

/**
 * The ordinary operation that resolves a conflict the way chosen (it syncs like any edit), and
 * what to tell the person. Keeping both gives the copy its name without the conflict mark.
 */
export const resolutionOf = (c: { readonly path: string; readonly copy: string }, keep: Keep): { readonly op: Operation; readonly outcome: string } => {
  switch (keep) {
    case "winner":
      return { op: { op: "unlink", path: c.copy }, outcome: `kept ${c.path}; removed ${c.copy}` }
    case "copy":
      return { op: { op: "rename", path: c.copy, to: c.path }, outcome: `${c.path} now has the other version` }
    case "both": {
      const to = c.copy.replace(/\.(?:conflict|variant)-(?=[^/]*$)/, ".")
      return { op: { op: "rename", path: c.copy, to }, outcome: `kept both: ${c.path} and ${to}` }
    }
  }
}
