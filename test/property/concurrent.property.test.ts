/**
 * Laws of `keepConcurrent` (src/domain/concurrent.ts): a host records writes, unlinks and renames
 * against the view it had (each write's base is the version it replaced, as a write session
 * records it), while a sync brought peers' versions into the committed tree. Replaying what
 * keepConcurrent returns over that tree loses no version the host never saw, makes no copy when
 * nothing came in, and leaves every other path as the raw events would.
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { keepConcurrent, rebaseEvent } from "../../src/domain/concurrent.js"
import { openConflicts, parseConflictName } from "../../src/domain/conflictnames.js"
import type { Event } from "../../src/domain/events.js"
import { sha256Key } from "../../src/domain/key.js"
import { applyInPlace, reduceAll } from "../../src/domain/reduce.js"
import { type Node, Tree, contentId, sameNode } from "../../src/domain/tree.js"
import { hostPool, keyPool, show } from "./arbitraries.js"

const FILES = ["a.txt", "b.txt", "c", "d/e.txt"]
const HERE = hostPool[0]!
const PEER = hostPool[1]!

const file = (key: string, host: string, mtime: number): Node => ({ type: "file", content: { kind: "key", key }, executable: false, mtime, host })

/** What the host had when its pending events began: files of its own (and maybe a symlink), `d` a folder. */
const start: fc.Arbitrary<Tree> = fc
  .array(fc.tuple(fc.constantFrom(...FILES), fc.constantFrom(...keyPool), fc.boolean()), { maxLength: 4 })
  .map((es) => {
    const t = Tree.from([["d", { type: "dir" }]])
    for (const [p, k, link] of es) t.set(p, link && p === "c" ? { type: "symlink", target: "a.txt", mtime: 5 } : file(k, HERE, 10))
    return t
  })

/** A sync's changes by a peer: a new version (often one the host also has elsewhere), a symlink, or a deletion. */
const peerChanges = fc.array(fc.tuple(fc.constantFrom(...FILES), fc.constantFrom("version", "version", "symlink", "delete"), fc.constantFrom(...keyPool)), {
  maxLength: 4
})

const applyPeer = (t: Tree, changes: ReadonlyArray<[string, string, string]>): Tree => {
  const b = t.clone()
  for (const [p, what, k] of changes) {
    if (what === "delete") b.delete(p)
    else b.set(p, what === "symlink" ? { type: "symlink", target: "b.txt", mtime: 20 } : file(k, PEER, 20))
  }
  return b
}

type Spec = ["write" | "unlink" | "rename", string, string, boolean]
const specs = fc.array(fc.tuple(fc.constantFrom<Spec[0]>("write", "write", "write", "unlink", "rename"), fc.constantFrom(...FILES), fc.constantFrom(...FILES), fc.boolean()), {
  maxLength: 12
})

/**
 * The events the host records over `view` (changed in place): a write's base is the file it
 * replaced, null for a new one, as a write session records it; a write with `again` flushes the
 * same staging file as the path's last write (a second flush of one session). Writes go only where
 * a session can open (no folder, no symlink: the kernel follows those).
 */
const record = (view: Tree, ss: ReadonlyArray<Spec>): Array<Event> => {
  const out: Array<Event> = []
  const lastId = new Map<string, string>()
  ss.forEach(([op, p, to, again], i) => {
    const stamp = { v: 1, seq: i + 1, host: HERE, time: 100 + i }
    const there = view.get(p)
    let e: Event
    if (op === "write") {
      if (there?.type === "dir" || there?.type === "symlink") return
      const id = again && lastId.has(p) ? lastId.get(p)! : `s${i}`
      lastId.set(p, id)
      e = { op, path: p, content: { kind: "staged", id, size: i }, executable: false, base: there?.type === "file" ? contentId(there.content) : null, ...stamp }
    } else e = op === "unlink" ? { op, path: p, ...stamp } : { op, path: p, to, ...stamp }
    if (applyInPlace(view, e, e.time, e.host) === undefined) out.push(e)
  })
  return out
}

/** The versions the raw events would replace without having seen them: [the write, the version]. */
const unseen = (committed: Tree, raw: ReadonlyArray<Event>): Array<[Event, Node]> => {
  const work = committed.clone()
  const out: Array<[Event, Node]> = []
  for (const e of raw) {
    const n = e.op === "write" ? work.get(e.path) : undefined
    if (e.op === "write" && n && n.type !== "dir" && (n.type !== "file" || contentId(n.content) !== e.base)) out.push([e, n])
    applyInPlace(work, e, e.time, e.host)
  }
  return out
}

const isCopy = (p: string) => !FILES.includes(p) && parseConflictName(p) !== undefined
const withoutCopies = (t: Tree): Tree => Tree.from([...t.entries()].filter(([p]) => !isCopy(p)))

const scenario = fc.tuple(start, peerChanges, specs).map(([l0, peer, ss]) => {
  const raw = record(l0.clone(), ss)
  return { l0, committed: applyPeer(l0, peer), raw }
})

describe("keepConcurrent", () => {
  it("law: every version a write would replace unseen is in the tree after the replay, as a conflict copy of that path, as it was (writer and mtime too)", () => {
    fc.assert(
      fc.property(scenario, ({ committed, raw }) => {
        const { events, kept } = keepConcurrent(committed, raw)
        const after = reduceAll(committed, events).tree
        const lost = unseen(committed, raw)
        expect(kept).toHaveLength(lost.length)
        for (const [e, n] of lost) {
          const copies = [...after.entries()].filter(([q, m]) => parseConflictName(q)?.original === e.path && sameNode(m, n) && (m.type !== "file" || m.host === (n as { host?: string }).host))
          expect(copies.length, `${e.path}: ${JSON.stringify(n)} in ${JSON.stringify(show(after))}`).toBeGreaterThan(0)
        }
        // listed like a merge's conflicts
        const open = openConflicts(after)
        for (const k of kept) expect(open).toContainEqual(k)
      }),
      { numRuns: 400 }
    )
  })

  it("law: apart from the copies, the tree is what the raw events make of it (the local edits land as before)", () => {
    fc.assert(
      fc.property(scenario, ({ committed, raw }) => {
        const { events } = keepConcurrent(committed, raw)
        expect(show(withoutCopies(reduceAll(committed, events).tree))).toEqual(show(withoutCopies(reduceAll(committed, raw).tree)))
      }),
      { numRuns: 400 }
    )
  })

  it("law: with nothing come in since the events were recorded, no copy: the events replay as they are", () => {
    fc.assert(
      fc.property(scenario, ({ l0, raw }) => {
        const r = keepConcurrent(l0, raw)
        expect(r.kept).toEqual([])
        expect(r.events).toBe(raw)
      }),
      { numRuns: 400 }
    )
  })

  it("law: the host's own earlier writes replayed meanwhile are no copy either, once the rest are rebased on their keys", () => {
    fc.assert(
      fc.property(scenario, fc.nat(), ({ l0, raw }, cut) => {
        // a replay stops at the first write of a file still open, so the flushes of one session
        // (one staging file) are never split: all replay, or none
        const idOf = (e: Event) => (e.op === "write" && e.content.kind === "staged" ? e.content.id : undefined)
        let k = raw.length === 0 ? 0 : cut % (raw.length + 1)
        while (k > 0 && raw.slice(k).some((e) => idOf(e) !== undefined && raw.slice(0, k).some((f) => idOf(f) === idOf(e)))) k--
        const keys = new Map<string, string>()
        const replayed = raw.slice(0, k).map((e): Event => {
          if (e.op !== "write" || e.content.kind !== "staged") return e
          const key = keys.get(e.content.id) ?? sha256Key(e.content.id.padStart(64, "0").replace(/[^0-9a-f]/g, "0"), e.content.size, "x.txt")
          keys.set(e.content.id, key)
          return { ...e, content: { kind: "key", key } }
        })
        const committed = reduceAll(l0, replayed).tree
        const rest = raw.slice(k).map((e) => rebaseEvent(e, keys))
        expect(keepConcurrent(committed, rest).kept).toEqual([])
      }),
      { numRuns: 400 }
    )
  })

  it("a peer's version of a file open here is kept beside it, named after its writer", () => {
    const before = Tree.from([["notes.txt", file(keyPool[0]!, HERE, 1)]])
    const committed = Tree.from([["notes.txt", file(keyPool[1]!, PEER, 2)]])
    const write: Event = { op: "write", path: "notes.txt", content: { kind: "staged", id: "s", size: 3 }, executable: false, base: keyPool[0]!, v: 1, seq: 7, host: HERE, time: 3 }
    const { events, kept } = keepConcurrent(committed, [write], (u) => (u === PEER ? "bravo" : "alpha"))
    expect(kept).toHaveLength(1)
    expect(kept[0]!.copy).toMatch(/^notes\.conflict-bravo-[0-9a-f]{6}\.txt$/)
    expect(events.map((e) => e.op)).toEqual(["rename", "write"])
    const after = reduceAll(committed, events).tree
    expect(after.get(kept[0]!.copy)).toEqual(committed.get("notes.txt"))
    expect(after.get("notes.txt")).toMatchObject({ content: write.content, host: HERE })
    expect(keepConcurrent(before, [write]).kept).toEqual([])
  })
})
