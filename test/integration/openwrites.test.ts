/**
 * A file open for writing here while a sync brings a peer's version of it (docs/conflicts.md, "A
 * peer's version arriving while a file is open here"). An editor's buffer was based on this host's
 * version; the peer's version (or a text merge of both) came in meanwhile and was never seen by the
 * editor, so when it saves, both survive: the save in the file, the version that came in as a
 * conflict copy, listed, notified and resolved like any other. Ordinary editing makes no copy: a
 * sync that brings nothing new for the file, or this host's own earlier write of the file reaching
 * history (at a sync, or by write-back) while it is open.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { BASE, copiesIn, edit, editedOnBoth, syncOk } from "./edits.js"
import { type HostDirs, type World, conflictsJson, eventually, git, read, sharebox, sleep, snapshot, useWorld, write } from "./harness.js"

/** alpha's editor's save: its own first-line edit, and line 2 */
const SAVE = edit(["alpha's first line\n", ...BASE.slice(1)], 1, "alpha's line 2\n")
const BRAVO = edit(BASE, 7, "bravo's last line\n")
const MERGED = ["alpha's first line\n", ...BASE.slice(1, 7), "bravo's last line\n"].join("")

/** The same tree on both hosts, and its conflict copies of notes.txt with their texts. */
const copiesOnBoth = (a: HostDirs, b: HostDirs): Array<[string, string]> => {
  const s = snapshot(a.mnt, { mtimes: false })
  expect(snapshot(b.mnt, { mtimes: false }), "bravo shows what alpha shows").toEqual(s)
  return copiesIn(s)
    .filter((p) => p.startsWith("notes."))
    .map((p) => [p, read(path.join(a.mnt, p))])
}

/** Writes `text` over the open file as an editor saves: truncate, write, close. */
const save = (fd: number, text: string): void => {
  try {
    fs.ftruncateSync(fd, 0)
    fs.writeSync(fd, text, 0)
  } finally {
    fs.closeSync(fd)
  }
}

/**
 * alpha's editor holds notes.txt open while bravo's sync (which has alpha write back first) sends
 * bravo's version or the merge to alpha and alpha's sync takes it; then the editor saves, and both
 * hosts sync twice. `notified`: where each host's notifycmd writes its messages.
 */
const openAcrossPeerSync = (label: string, options: ReadonlyArray<string>, bravoLast: boolean) => {
  const w = useWorld(label)
  const s = { a: undefined as unknown as HostDirs, b: undefined as unknown as HostDirs, notified: "" }
  beforeAll(async () => {
    s.notified = path.join(w.root, "notified")
    const script = path.join(w.root, "notify.sh")
    fs.writeFileSync(script, '#!/bin/sh\nfor last; do :; done\nprintf \'%s\\n\' "$last" >> "$NOTIFY_FILE"\n', { mode: 0o755 })
    ;[s.a, s.b] = await editedOnBoth(w, [...options, `notifycmd=NOTIFY_FILE=${s.notified} ${script}`], bravoLast)
    const fd = fs.openSync(path.join(s.a.mnt, "notes.txt"), "r+")
    syncOk(w, s.b)
    syncOk(w, s.a)
    save(fd, SAVE)
    await sleep(500) // the kernel's release of the handle, after close() returns
    for (let i = 0; i < 2; i++) for (const h of [s.a, s.b]) syncOk(w, h)
  }, 120_000)
  return { w, s }
}

/** What both scenarios check once the save and the version that came in are both kept. */
const keptBoth = (s: { a: HostDirs; b: HostDirs; notified: string }, incoming: string) => {
  it("on both hosts: alpha's save is in notes.txt, the version that came in is a conflict copy beside it", () => {
    for (const h of [s.a, s.b]) expect(read(path.join(h.mnt, "notes.txt")), h.name).toBe(SAVE)
    const copies = copiesOnBoth(s.a, s.b)
    expect(
      copies.filter(([, t]) => t === incoming),
      JSON.stringify(copies)
    ).toHaveLength(1)
  })

  it("`sharebox conflicts` lists the copy on both hosts, and each host's notifycmd told of it once", () => {
    const copy = copiesOnBoth(s.a, s.b).find(([, t]) => t === incoming)![0]
    for (const h of [s.a, s.b]) expect(conflictsJson(h), h.name).toContainEqual(expect.objectContaining({ path: "notes.txt", copy }))
    const told = read(s.notified)
      .split("\n")
      .filter((l) => l.includes(copy))
    expect(told, read(s.notified)).toHaveLength(2)
    for (const l of told) expect(l).toContain("conflict on notes.txt")
  })
}

/** Then `sharebox resolve --keep both` on alpha: the copy becomes a plain file on both hosts. */
const resolvesBoth = (w: World, s: { a: HostDirs; b: HostDirs }, incoming: string) => {
  it("`sharebox resolve --keep both` on alpha keeps it under a plain name, on both hosts after a sync", () => {
    const copy = copiesOnBoth(s.a, s.b).find(([, t]) => t === incoming)![0]
    const r = sharebox(["resolve", "--keep", "both", path.join(s.a.mnt, copy)])
    expect(r.code, r.stderr).toBe(0)
    for (const h of [s.a, s.b]) syncOk(w, h)
    const plain = copy.replace(".conflict-", ".")
    for (const h of [s.a, s.b]) {
      expect(fs.existsSync(path.join(h.mnt, copy)), `${h.name}: ${copy} gone`).toBe(false)
      expect(read(path.join(h.mnt, plain)), h.name).toBe(incoming)
      expect(read(path.join(h.mnt, "notes.txt")), h.name).toBe(SAVE)
      expect(conflictsJson(h).map((c) => c.copy), h.name).not.toContain(copy)
    }
  })
}

describe("a peer's merged text arriving while the file is open here", () => {
  const { w, s } = openAcrossPeerSync("sharebox-open-peer-merge", [], false)
  keptBoth(s, MERGED)
  resolvesBoth(w, s, MERGED)
})

describe("-o automerge=off: the peer's version won the conflict while the file was open here", () => {
  const { w, s } = openAcrossPeerSync("sharebox-open-peer-won", ["automerge=off"], true)
  keptBoth(s, BRAVO)

  it("alpha's version before the save, the loser of bravo's merge, is still a copy too", () => {
    expect(copiesOnBoth(s.a, s.b).map(([, t]) => t)).toContain(edit(BASE, 0, "alpha's first line\n"))
  })

  resolvesBoth(w, s, BRAVO)
})

describe("ordinary editing makes no conflict copy", () => {
  describe("a file open across a sync that brings nothing new for it, and that replays this host's own earlier write of it", () => {
    const w = useWorld("sharebox-open-nothing-new")
    let a: HostDirs
    let b: HostDirs
    beforeAll(async () => {
      a = w.host("alpha")
      b = w.host("bravo")
      for (const h of [a, b]) w.mount(h, "writeback=off")
      w.connectAll()
      write(path.join(a.mnt, "notes.txt"), BASE.join(""))
      write(path.join(a.mnt, "other.txt"), "other\n")
      for (const h of [a, b]) syncOk(w, h)
      // alpha's own edit, pending (write-back off) until the sync below replays it
      write(path.join(a.mnt, "notes.txt"), edit(BASE, 0, "alpha's first line\n"))
      await sleep(500)
      const fd = fs.openSync(path.join(a.mnt, "notes.txt"), "r+")
      write(path.join(b.mnt, "other.txt"), "bravo's other\n")
      syncOk(w, b)
      syncOk(w, a)
      save(fd, SAVE)
      await sleep(500)
      for (let i = 0; i < 2; i++) for (const h of [a, b]) syncOk(w, h)
    }, 120_000)

    it("the save is in notes.txt on both hosts, bravo's edit of the other file too, and no conflict copy", () => {
      for (const h of [a, b]) {
        expect(read(path.join(h.mnt, "notes.txt")), h.name).toBe(SAVE)
        expect(read(path.join(h.mnt, "other.txt")), h.name).toBe("bravo's other\n")
        expect(copiesIn(snapshot(h.mnt, { mtimes: false })), h.name).toEqual([])
        expect(conflictsJson(h), h.name).toEqual([])
      }
    })
  })

  describe("write-back replays this host's earlier write of a file while it is open (written and fsynced meanwhile, or only open)", () => {
    const w = useWorld("sharebox-open-writeback")
    let a: HostDirs
    const commits = () => Number(git(a.gitdir, ["rev-list", "--count", "HEAD"]).stdout.trim() || 0)
    const replayed = (after: number) => eventually(() => commits() > after, 20_000)
    beforeAll(async () => {
      a = w.host("alpha")
      w.mount(a) // write-back on: a replay once nothing was written for a second
      write(path.join(a.mnt, "notes.txt"), BASE.join(""))
      write(path.join(a.mnt, "other.txt"), "other\n")
      expect(await replayed(0), "the first write-back").toBe(true)
      write(path.join(a.mnt, "notes.txt"), edit(BASE, 0, "alpha's first line\n"))
      write(path.join(a.mnt, "other.txt"), "other, edited\n")
      await sleep(300)
      const before = commits()
      // notes.txt: written and fsynced while open, so that write waits in the journal, based on the
      // write before it, while that one replays; other.txt: only open
      const notes = fs.openSync(path.join(a.mnt, "notes.txt"), "r+")
      const other = fs.openSync(path.join(a.mnt, "other.txt"), "r+")
      fs.writeSync(notes, "ALPHA", 0)
      fs.fsyncSync(notes)
      expect(await replayed(before), "the write-back of the edits before the opens").toBe(true)
      save(notes, SAVE)
      save(other, "other, saved\n")
      await sleep(500)
      syncOk(w, a)
    }, 120_000)

    it("the saves are in the files, and no conflict copy", () => {
      expect(read(path.join(a.mnt, "notes.txt"))).toBe(SAVE)
      expect(read(path.join(a.mnt, "other.txt"))).toBe("other, saved\n")
      expect(copiesIn(snapshot(a.mnt, { mtimes: false }))).toEqual([])
      expect(conflictsJson(a)).toEqual([])
    })
  })
})

// Regression (found by randomio.test.ts): a new file open for writing is in the view before the
// journal has it, so a rename of it over another file journalled a rename of nothing. The replay
// then found the file the rename had replaced under the new file's write, and kept it as a
// conflict copy: a file the mount no longer showed came back, in the work tree and in the mount.
describe("a new file renamed over another while still open for writing", () => {
  const w = useWorld("sharebox-open-rename-over")
  let a: HostDirs
  /**
   * Each case's folder holds `target` ("old\n"); its steps make `tmp`, write it, rename it over
   * `target`, and close it, in the case's order, and `target` must then hold `written`.
   */
  type Step = "open target" | "create tmp" | "write" | "rename" | "close" | "close target"
  const cases: Record<string, { readonly written: string; readonly steps: ReadonlyArray<Step> }> = {
    "written after the rename": { written: "new", steps: ["create tmp", "rename", "write", "close"] },
    "written before the rename": { written: "new", steps: ["create tmp", "write", "rename", "close"] },
    "never written": { written: "", steps: ["create tmp", "rename", "close"] },
    "the file replaced was open too": { written: "new", steps: ["open target", "create tmp", "rename", "write", "close", "close target"] }
  }
  const run = (dir: string, steps: ReadonlyArray<Step>): void => {
    let fd = -1
    let old = -1
    for (const step of steps) {
      if (step === "open target") old = fs.openSync(path.join(dir, "target"), "r+")
      else if (step === "create tmp") fd = fs.openSync(path.join(dir, "tmp"), "w")
      else if (step === "write") fs.writeSync(fd, "new", 0)
      else if (step === "rename") fs.renameSync(path.join(dir, "tmp"), path.join(dir, "target"))
      else if (step === "close") fs.closeSync(fd)
      else fs.closeSync(old)
    }
  }
  beforeAll(async () => {
    a = w.host("alpha")
    w.mount(a, "writeback=off")
    for (const name of Object.keys(cases)) {
      fs.mkdirSync(path.join(a.mnt, name))
      write(path.join(a.mnt, name, "target"), "old\n")
    }
    // half the cases with the file they replace already replayed, half with it still pending
    syncOk(w, a)
    for (const [name, c] of Object.entries(cases)) run(path.join(a.mnt, name), c.steps)
    for (const name of Object.keys(cases)) write(path.join(a.mnt, name, "pending"), "p\n")
    for (const name of Object.keys(cases)) {
      const fd = fs.openSync(path.join(a.mnt, name, "pending"), "w")
      fs.renameSync(path.join(a.mnt, name, "pending"), path.join(a.mnt, name, "pending-target"))
      fs.closeSync(fd)
    }
    await sleep(500) // the kernel's releases, after close() returns
    syncOk(w, a)
  }, 120_000)

  it("the folder holds the renamed file only, with what was written to it, in the mount and in the work tree; no conflict", () => {
    for (const [name, c] of Object.entries(cases)) {
      for (const dir of [path.join(a.mnt, name), path.join(a.gitdir, name)]) {
        expect(fs.readdirSync(dir).filter((n) => n !== ".shareboxdir").sort(), dir).toEqual(["pending-target", "target"])
        expect(read(path.join(dir, "target")), dir).toBe(c.written)
        expect(read(path.join(dir, "pending-target")), dir).toBe("")
      }
    }
    expect(conflictsJson(a)).toEqual([])
  })
})
