/**
 * Shared fast-check generators for the domain property tests.
 *
 * Paths are drawn from small alphabets on purpose: with a handful of names, events and merges keep
 * hitting paths that already exist, which is where the interesting cases are.
 */
import fc from "fast-check"
import type { Event, Operation } from "../../src/domain/events.js"
import { sha256Key } from "../../src/domain/key.js"
import { applyInPlace } from "../../src/domain/reduce.js"
import { nameProblem, parentOf } from "../../src/domain/paths.js"
import { type Content, type Node, Tree, contentId, dirMode, dirWithMode, fileMode, fileModeFields } from "../../src/domain/tree.js"

// ---------------------------------------------------------------------------------------------
// Names and paths

/** Valid mount names that exercise escaping, odd bytes and multi-byte UTF-8. */
export const specialNames: ReadonlyArray<string> = [
  ".git",
  ".GIT",
  ".Git~",
  ".git~",
  ".git~~",
  ".shareboxdir",
  ".SHAREBOXDIR",
  ".shareboxdir~",
  ".sharebox",
  "...",
  ".hidden",
  "a b",
  "tab\tname",
  "new\nline",
  "back\\slash",
  "é",
  "日本語",
  "🙂",
  "report.pdf",
  "x.tar.gz"
]

/** Any single valid mount name (`.git` and `.shareboxdir` included: they are escaped in storage). */
export const mountName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...specialNames),
  fc.string({ unit: "binary", minLength: 1, maxLength: 12 }).filter((n) => nameProblem(n) === undefined),
  fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 8 }).filter((n) => nameProblem(n) === undefined)
)

/** A name of 245..260 UTF-8 bytes, so the 255-byte limit is hit from both sides. */
export const boundaryName: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 241, max: 256 }), fc.constantFrom("", "é", "日", "🙂"))
  .map(([n, tail]) => "a".repeat(n) + tail)

/** Paths of 1..maxDepth names, shallow ones more often (deep paths rarely have a parent). */
const pathOver = (names: fc.Arbitrary<string>, maxDepth: number): fc.Arbitrary<string> =>
  fc.oneof(
    ...Array.from({ length: maxDepth }, (_, i) => ({
      weight: (maxDepth - i) ** 2,
      arbitrary: fc.array(names, { minLength: i + 1, maxLength: i + 1 }).map((ns) => ns.join("/"))
    }))
  )

/** Names for trees stored in git: few enough to collide, odd enough to need escaping. */
export const treeNames: ReadonlyArray<string> = ["a", "b", "x.txt", ".git", ".git~", ".shareboxdir", "日本", "new\nline"]

/** Names for event sequences: valid stored names only, so most events apply. */
export const eventNames: ReadonlyArray<string> = ["a", "b", "é"]

export const treePath: fc.Arbitrary<string> = pathOver(fc.constantFrom(...treeNames), 3)

/** A path for an event: usually over the small alphabet, sometimes invalid. */
export const eventPath: fc.Arbitrary<string> = fc.oneof(
  { weight: 12, arbitrary: pathOver(fc.constantFrom(...eventNames), 3) },
  { weight: 1, arbitrary: fc.constantFrom("", "/a", "a/", "a//b", "./a", "a/..", ".git", "a/.GIT/b", "a\0") }
)

// ---------------------------------------------------------------------------------------------
// Contents and nodes

const hexDigest = (seed: number): string => {
  let h = (seed * 2654435761) >>> 0
  let out = ""
  while (out.length < 64) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0
    out += h.toString(16).padStart(8, "0")
  }
  return out.slice(0, 64)
}

/** A small pool of annex keys, so both sides of a merge often hold the same content. */
export const keyPool: ReadonlyArray<string> = [0, 1, 2, 3, 4, 5].map((i) =>
  sha256Key(hexDigest(i), i * 1000 + 7, ["f.txt", "g.tar.gz", "noext", "h.JPG", ".dotfile", "x.y"][i]!)
)

export const keyContent: fc.Arbitrary<Content> = fc.constantFrom(...keyPool).map((key) => ({ kind: "key" as const, key }))

/** Sizes derive from ids: the same id always names the same bytes. */
export const stagedContent: fc.Arbitrary<Content> = fc
  .integer({ min: 0, max: 3 })
  .map((i) => ({ kind: "staged" as const, id: `st${i}`, size: i * 10 }))

export const blobContent: fc.Arbitrary<Content> = fc
  .integer({ min: 0, max: 3 })
  .map((i) => ({ kind: "blob" as const, oid: hexDigest(100 + i).slice(0, 40), size: 2000 + i }))

export const anyContent: fc.Arbitrary<Content> = fc.oneof(keyContent, stagedContent, blobContent)

/** Symlink targets that are not annex object links (those read back as annexed files). */
export const symlinkTarget: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom("a", "../b", "/etc/hosts", "日本/x", "with space", ".git/config"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 10 }).filter((s) => !s.includes("\0"))
)

/** Mtimes in a tiny range so that ties (equal mtimes on both sides of a merge) are common. */
export const smallMtime: fc.Arbitrary<number> = fc.integer({ min: 0, max: 3 }).map((i) => 1_700_000_000_000 + i * 1000)

/** git-annex UUIDs of a few hosts, for files' writers. */
export const hostPool: ReadonlyArray<string> = [
  "1b4e28ba-2fa1-11d2-883f-0016d3cca427",
  "6fa459ea-ee8a-3ca4-894e-db77e160355e",
  "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"
]

/** A writer, or none (files read from old markers, or written by plain git). */
export const anyHost: fc.Arbitrary<string | undefined> = fc.option(fc.constantFrom(...hostPool), { nil: undefined })

/** Permission bits: the defaults most often, and modes the markers keep. */
export const anyMode: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(0o644, 0o755) },
  { weight: 2, arbitrary: fc.constantFrom(0o600, 0o700, 0o640, 0o444, 0o711, 0o1777, 0o000, 0o011) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 0o1777 }) }
)

/**
 * File nodes get a writer from `host` when it is given (and the writer is not undefined); one in
 * four annexed files that are not executable is unlocked (a plain git-annex peer's pointer file).
 */
export const nodeOf = (content: fc.Arbitrary<Content>, mtime: fc.Arbitrary<number>, host?: fc.Arbitrary<string | undefined>): fc.Arbitrary<Node> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(fc.record({ type: fc.constant("file" as const), content, mode: anyMode, mtime }), host ?? fc.constant(undefined), fc.nat(3))
        .map(([{ mode, ...f }, h, u]): Node => {
          const fields = fileModeFields(mode)
          const unlocked = u === 0 && f.content.kind === "key" && !fields.executable ? { unlocked: true as const } : {}
          return h === undefined ? { ...f, ...fields, ...unlocked } : { ...f, ...fields, host: h, ...unlocked }
        })
    },
    { weight: 1, arbitrary: fc.record({ type: fc.constant("symlink" as const), target: symlinkTarget, mtime }) },
    { weight: 2, arbitrary: anyMode.map(dirWithMode) }
  )

/** A tree built by `Tree.set`, which turns non-directory ancestors into directories. */
export const treeOf = (path: fc.Arbitrary<string>, node: fc.Arbitrary<Node>, maxEntries = 12): fc.Arbitrary<Tree> =>
  fc.array(fc.tuple(path, node), { maxLength: maxEntries }).map((es) => Tree.from(es))

export const anyTree: fc.Arbitrary<Tree> = treeOf(treePath, nodeOf(anyContent, smallMtime))

// ---------------------------------------------------------------------------------------------
// Events

export const operationOver = (path: fc.Arbitrary<string>, content: fc.Arbitrary<Content>, text: fc.Arbitrary<string>): fc.Arbitrary<Operation> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant("write" as const),
        path,
        content,
        executable: fc.boolean(),
        base: fc.option(fc.oneof(content.map(contentId), text), { nil: null })
      })
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constant("write" as const),
        path,
        content,
        executable: fc.boolean(),
        mode: anyMode,
        base: fc.option(fc.oneof(content.map(contentId), text), { nil: null })
      })
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("mkdir" as const), path }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("mkdir" as const), path, mode: anyMode }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("rmdir" as const), path }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant("unlink" as const), path }) },
    { weight: 3, arbitrary: fc.record({ op: fc.constant("rename" as const), path, to: path }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("symlink" as const), path, target: text }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("chmod" as const), path, executable: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("chmod" as const), path, executable: fc.boolean(), mode: anyMode }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("chmod" as const), path, executable: fc.boolean(), mode: anyMode, dir: fc.constant(true as const) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant("utimens" as const), path, mtime: fc.integer({ min: 0, max: 2 ** 42 }) }) }
  )

const stamp = fc.record({
  v: fc.constant(1),
  seq: fc.nat(),
  host: fc.constantFrom("laptop-uuid", "desktop-uuid", "phone-uuid"),
  time: fc.integer({ min: 0, max: 2 ** 42 })
})

/** One event over the small path alphabet. */
export const treeEvent: fc.Arbitrary<Event> = fc
  .tuple(operationOver(eventPath, anyContent, symlinkTarget), stamp)
  .map(([op, s]) => ({ ...op, ...s }) as Event)

/** A sequence of events with increasing sequence numbers, as one host records them. */
export const eventSequence = (maxLength = 30): fc.Arbitrary<Array<Event>> =>
  fc.array(treeEvent, { maxLength }).map((es) => es.map((e, i) => ({ ...e, seq: i + 1 })))

/**
 * A start tree and events over it, where about half the events are retargeted at a path that
 * exists at that point (found by replaying the earlier events), so renames, unlinks and rmdirs
 * apply often enough to matter.
 */
export const treeAndEvents = (start: fc.Arbitrary<Tree>, maxLength = 30): fc.Arbitrary<[Tree, Array<Event>]> =>
  fc
    .tuple(start, fc.array(fc.tuple(treeEvent, fc.nat(), fc.nat(), fc.boolean(), fc.boolean()), { maxLength }))
    .map(([t0, templates]) => {
      const t = t0.clone()
      const es = templates.map(([e, i, j, existing, existingTo], k) => {
        const paths = [...t.paths()].sort()
        let ev: Event = { ...e, seq: k + 1 }
        if (existing && paths.length > 0) ev = { ...ev, path: paths[i % paths.length]! }
        if (ev.op === "rename" && existingTo && paths.length > 0) ev = { ...ev, to: paths[j % paths.length]! }
        applyInPlace(t, ev, ev.time)
        return ev
      })
      return [t0, es]
    })

/** Strings that stress serialisation: JSON escapes, tabs, newlines, U+2028, astral characters. */
const nastyText: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.string({ unit: "grapheme-ascii", maxLength: 20 }),
  fc.constantFrom("\t", "\n", "a\tb\n", "\u2028\u2029", '"\\', "\ud800", "\udfff\ud800", "🙂".repeat(3))
)

const anyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((x) => !Object.is(x, -0))
)

const anyContentWithText: fc.Arbitrary<Content> = fc.oneof(
  nastyText.map((key) => ({ kind: "key" as const, key })),
  fc.record({ kind: fc.constant("staged" as const), id: nastyText, size: anyNumber }),
  fc.record({ kind: fc.constant("blob" as const), oid: nastyText, size: anyNumber })
)

/** Any well-typed event, with arbitrary strings and numbers in every field. */
export const anyEvent: fc.Arbitrary<Event> = fc
  .tuple(
    operationOver(nastyText, anyContentWithText, nastyText),
    fc.record({ v: anyNumber, seq: anyNumber, host: nastyText, time: anyNumber })
  )
  .map(([op, s]) => ({ ...op, ...s }) as Event)

// ---------------------------------------------------------------------------------------------
// Checks shared by several files

/**
 * Why a tree is not well-formed, or undefined: every node's parent is a directory in the tree, and
 * the children index lists exactly the nodes below each directory.
 */
export const treeProblem = (t: Tree): string | undefined => {
  const byParent = new Map<string, Set<string>>([["", new Set()]])
  for (const [p, n] of t.entries()) {
    const parent = parentOf(p)
    if (!t.isDir(parent)) return `parent of ${JSON.stringify(p)} is not a directory`
    if (n.type === "dir" && !byParent.has(p)) byParent.set(p, new Set())
    if (!byParent.has(parent)) byParent.set(parent, new Set())
    byParent.get(parent)!.add(p.slice(parent === "" ? 0 : parent.length + 1))
  }
  for (const [p, n] of [["", { type: "dir" }] as [string, Node], ...t.entries()]) {
    const listed = [...t.list(p)].sort()
    const expected = n.type === "dir" ? [...(byParent.get(p) ?? [])].sort() : []
    if (JSON.stringify(listed) !== JSON.stringify(expected)) {
      return `children of ${JSON.stringify(p)}: index says ${JSON.stringify(listed)}, nodes say ${JSON.stringify(expected)}`
    }
    if (t.childCount(p) !== expected.length) return `child count of ${JSON.stringify(p)} is ${t.childCount(p)}`
  }
  // The index must not keep entries for paths that are no longer directories.
  const kids = (t as unknown as { kids: Map<string, Set<string>> }).kids
  for (const d of kids.keys()) if (!t.isDir(d)) return `children index has an entry for non-directory ${JSON.stringify(d)}`
  const walked = [...t.walk()].map(([p]) => p).sort()
  const stored = [...t.paths()].sort()
  if (JSON.stringify(walked) !== JSON.stringify(stored)) return "walk does not visit exactly the stored paths"
  return undefined
}

/** A tree as sorted, readable lines (writers included), for comparisons with useful diffs. */
export const show = (t: Tree): Array<string> =>
  t.toSorted().map(([p, n]) =>
    n.type === "dir"
      ? `${JSON.stringify(p)} dir ${dirMode(n).toString(8)}`
      : n.type === "symlink"
        ? `${JSON.stringify(p)} -> ${JSON.stringify(n.target)} @${n.mtime}`
        : `${JSON.stringify(p)} ${contentId(n.content)} ${fileMode(n).toString(8)} @${n.mtime}${n.host === undefined ? "" : ` by ${n.host}`}`
  )
