/**
 * `.shareboxignore`: which paths live on this host only (docs/layout.md, "Paths kept on this
 * host"). Pure: the rule files' texts come in, a decision comes out.
 *
 * Matching is the `ignore` package's (what eslint uses; pure JavaScript, no I/O at import). Git
 * reads one rule file per directory and lets a deeper file's rules come after its parents'; the
 * package reads one list. So each file's rules are rewritten to be relative to the tree's root
 * (`build/` in `a/b/.shareboxignore` becomes `a/b/**\/build/`, `/x` becomes `a/b/x`) and put in one
 * list, shallow files first: the last rule that matches wins, and a path below an ignored folder is
 * ignored whatever comes after (gitignore: a file cannot be re-included if a parent directory is
 * excluded), as the package does for one list. A property test holds this to `git ls-files -i`.
 */
import ignore from "ignore"
import { VIRTUAL_ROOT } from "./paths.js"

/** The name of a rule file. */
export const IGNORE_FILE = ".shareboxignore"

/**
 * The bounds a rule file from a peer is held to: a bigger file, or one with more rules, gives no
 * rules at all (one warning says so), so that nothing a peer writes can make every lookup slow.
 */
export const MAX_IGNORE_BYTES = 64 * 1024
export const MAX_IGNORE_RULES = 1000
/** Rule files past this many rules in all (deepest last) are left out the same way. */
export const MAX_TOTAL_RULES = 10000

/** A rule file's folder ("" for the root) and its text. */
export interface RuleFile {
  readonly dir: string
  readonly text: string
}

/** The rules of a tree, compiled once and asked many times. */
export interface IgnoreRules {
  /** true when no file gave a rule: nothing is ignored */
  readonly empty: boolean
  /** ignored, for a path and whether it is a folder */
  readonly test: (path: string, isDir: boolean) => boolean
  /** the rule files left out, and why (too big, too many rules) */
  readonly refused: ReadonlyArray<{ readonly dir: string; readonly reason: string }>
}

/**
 * Rules that ask for a literal `*` or `?` (`\*`, `[*?]`): the package reads `\*` as "anything" and
 * `[*]` as nothing, where git matches the character. Such a rule is left out (it matches nothing):
 * the worst it does is keep a file shared, never hide one.
 */
const UNMATCHABLE = /\\[*?]|\[[^\]]*[*?][^\]]*\]/

/** Characters the package reads as pattern syntax, escaped in a folder's name. */
const SPECIAL = /[\\*?[\]!# ]/g

/** The lines of a rule file as rules of the root: comments and blank lines dropped. */
export const rootedRules = (dir: string, text: string): Array<string> => {
  const out: Array<string> = []
  const prefix = dir === "" ? "" : dir.replace(SPECIAL, (c) => "\\" + c) + "/"
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/\r$/, "")
    if (line === "" || line.startsWith("#")) continue
    if (prefix === "") {
      out.push(line)
      continue
    }
    const negated = line.startsWith("!")
    const body = negated ? line.slice(1) : line
    // a separator at the start or in the middle anchors the pattern to its file's folder;
    // otherwise it matches at any depth below it
    const stripped = body.replace(/\/+$/, "")
    if (stripped.trim() === "") continue
    const anchored = stripped.includes("/")
    const rooted = anchored ? prefix + body.replace(/^\//, "") : prefix + "**/" + body
    out.push((negated ? "!" : "") + rooted)
  }
  return out
}

const isSpecial = (p: string): boolean => p === VIRTUAL_ROOT || p.startsWith(VIRTUAL_ROOT + "/")
const baseName = (p: string): string => p.slice(p.lastIndexOf("/") + 1)

/** Compiles rule files (any order: they are sorted shallow first). Total: a rule the package cannot read is dropped. */
export const compileRules = (files: ReadonlyArray<RuleFile>): IgnoreRules => {
  const refused: Array<{ dir: string; reason: string }> = []
  const sorted = [...files].sort((a, b) => depth(a.dir) - depth(b.dir) || (a.dir < b.dir ? -1 : a.dir > b.dir ? 1 : 0))
  const ig = ignore({ ignorecase: false })
  let total = 0
  for (const f of sorted) {
    if (f.text.length > MAX_IGNORE_BYTES) {
      refused.push({ dir: f.dir, reason: `more than ${MAX_IGNORE_BYTES} bytes` })
      continue
    }
    const rules = rootedRules(f.dir, f.text)
    if (rules.length > MAX_IGNORE_RULES) {
      refused.push({ dir: f.dir, reason: `more than ${MAX_IGNORE_RULES} rules` })
      continue
    }
    if (total + rules.length > MAX_TOTAL_RULES) {
      refused.push({ dir: f.dir, reason: `more than ${MAX_TOTAL_RULES} rules in all the files` })
      continue
    }
    for (const r of rules) {
      if (UNMATCHABLE.test(r)) continue
      try {
        ig.add(r)
        total++
      } catch {
        // a pattern the package cannot compile matches nothing
      }
    }
  }
  const empty = total === 0
  const test = (path: string, isDir: boolean): boolean => {
    if (empty || path === "" || isSpecial(path) || baseName(path) === IGNORE_FILE) {
      // a rule file is never ignored itself, but one inside an ignored folder is with its folder
      return !empty && path.includes("/") && !isSpecial(path) && ancestorIgnored(path)
    }
    try {
      return ig.ignores(isDir ? path + "/" : path)
    } catch {
      return false
    }
  }
  const ancestorIgnored = (path: string): boolean => {
    const parent = path.slice(0, path.lastIndexOf("/"))
    try {
      return ig.ignores(parent + "/")
    } catch {
      return false
    }
  }
  return { empty, test, refused }
}

const depth = (dir: string): number => (dir === "" ? 0 : dir.split("/").length)

/** Whether `path` is ignored by rule files `files`: the decision, in one call. */
export const isIgnored = (files: ReadonlyArray<RuleFile>, path: string, isDir: boolean): boolean => compileRules(files).test(path, isDir)

/** The rule file at `path`'s folder, or undefined when `path` is not a rule file. */
export const ruleFileDir = (path: string): string | undefined => {
  if (baseName(path) !== IGNORE_FILE) return undefined
  const i = path.lastIndexOf("/")
  return i < 0 ? "" : path.slice(0, i)
}
