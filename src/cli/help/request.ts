/**
 * Which command lines ask for help (`sharebox`, `help [COMMAND]`, `--help` or `-h` anywhere before
 * `--`), and which name a command that does not exist. The older mount form, `sharebox MOUNTPOINT
 * -o gitdir=DIR`, has no verb, so a first word that is not a command is read as a mount point when
 * it can be one: when `-o` is given, or the word is a path (it has a slash, or names something
 * here). Otherwise it is an unknown command, said in one line, not a mount that lacks a gitdir.
 */
import { VERBS, normaliseArgv } from "../argv.js"

export type HelpRequest =
  | { readonly _tag: "Help"; readonly command?: string }
  | { readonly _tag: "Unknown"; readonly word: string; readonly nearest?: string }

const isVerb = (w: string | undefined): w is (typeof VERBS)[number] => w !== undefined && (VERBS as ReadonlyArray<string>).includes(w)

/** Flags the parser keeps for itself; a command line with one goes to it unchanged (as in normaliseArgv). */
const PARSER_FLAGS = new Set(["--version", "--completions", "--wizard", "--log-level"])

/** Levenshtein distance: the number of letters to add, drop or change to make `a` into `b`. */
const distance = (a: string, b: string): number => {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    row = next
  }
  return row[b.length]!
}

/** The command a misspelt word most likely meant: at most two letters off, and fewer than half of it. */
export const nearestVerb = (word: string): string | undefined => {
  const scored = VERBS.map((v) => [v, distance(word, v)] as const).filter(([v, d]) => d <= 2 && d * 2 < Math.max(v.length, word.length))
  return scored.sort((x, y) => x[1] - y[1])[0]?.[0]
}

const unknown = (word: string): HelpRequest => {
  const nearest = nearestVerb(word)
  return nearest === undefined ? { _tag: "Unknown", word } : { _tag: "Unknown", word, nearest }
}

/** The line an unknown command gets (exit 64). */
export const unknownLine = (r: { readonly word: string; readonly nearest?: string }, shown: (s: string) => string): string =>
  `unknown command '${shown(r.word)}'${r.nearest ? `; did you mean '${r.nearest}'?` : ""} (sharebox --help lists them)`

/**
 * Help asked for, an unknown command, or undefined for a command line the parser (or the plain
 * mount) takes. `exists` says whether a word names something in the file system.
 */
export const helpRequest = (args: ReadonlyArray<string>, exists: (p: string) => boolean): HelpRequest | undefined => {
  if (args.length === 0) return { _tag: "Help" }
  if (args[0] === "help") {
    const w = args.slice(1).find((a) => !a.startsWith("-"))
    return w === undefined || w === "help" ? { _tag: "Help" } : isVerb(w) ? { _tag: "Help", command: w } : unknown(w)
  }
  const end = args.indexOf("--")
  const before = end < 0 ? args : args.slice(0, end)
  const hasO = before.some((a) => a.startsWith("-o"))
  if (before.includes("--help") || before.includes("-h")) {
    const first = normaliseArgv(before)[0]
    return { _tag: "Help", ...(isVerb(first) ? { command: first } : hasO ? { command: "mount" } : {}) }
  }
  if (before.some((a) => PARSER_FLAGS.has(a) || [...PARSER_FLAGS].some((f) => a.startsWith(`${f}=`)))) return undefined
  const commandAt = before.findIndex((a) => a === "--command" || a.startsWith("--command="))
  if (commandAt >= 0) {
    const a = before[commandAt]!
    const named = a === "--command" ? before[commandAt + 1] : a.slice("--command=".length)
    return named === undefined || isVerb(named) ? undefined : unknown(named)
  }
  const word = before.find((a, i) => !a.startsWith("-") && before[i - 1] !== "-o")
  if (word === undefined || isVerb(word) || hasO || word.includes("/") || exists(word)) return undefined
  return unknown(word)
}
