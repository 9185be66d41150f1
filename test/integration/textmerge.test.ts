/**
 * Text merges end to end, on real mounts: two hosts edit one text file offline (`-o writeback=off`),
 * then sync both ways. Edits of different lines merge (no conflict copy, the same merged text on
 * both hosts, a version with both writers in `sharebox versions`); edits of the same line, and any
 * edits of a binary file, give a conflict copy as before; so does every edit with -o automerge=off.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { BASE, copiesIn, edit, editedOnBoth, syncOk } from "./edits.js"
import { type HostDirs, type SnapEntry, git, read, sharebox, sleep, snapshot, useWorld, write } from "./harness.js"

type Snap = Record<string, SnapEntry>

/** binary: a NUL byte in every line, and otherwise lines apart as in notes.txt */
const BIN = BASE.map((l) => l.replace(" ", "\0"))

interface Versions {
  host: string | null
  writers?: Array<string>
  key: string | null
  deleted: boolean
}

const versionsOf = (file: string): Array<Versions> => {
  const r = sharebox(["versions", "--json", file])
  expect(r.code, r.stderr).toBe(0)
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Versions)
}

/**
 * Two hosts with `options`, a shared base from the first, concurrent offline edits, two rounds of
 * syncs (`unmounted`: of the gitdirs, by `sharebox sync GITDIR` with no daemon, then mounted again).
 */
const world = (label: string, options: ReadonlyArray<string>, files: Record<string, { base: string; a: string; b: string }>, unmounted = false) => {
  const w = useWorld(label)
  const state = { a: undefined as unknown as HostDirs, b: undefined as unknown as HostDirs, final: {} as Snap }
  beforeAll(async () => {
    state.a = w.host("alpha")
    state.b = w.host("bravo")
    for (const h of [state.a, state.b]) w.mount(h, "writeback=off", ...options)
    w.connectAll()
    for (const [p, f] of Object.entries(files)) write(path.join(state.a.mnt, p), f.base)
    for (const h of [state.a, state.b]) syncOk(w, h)
    for (const [p, f] of Object.entries(files)) expect(read(path.join(state.b.mnt, p))).toBe(f.base)
    for (const [p, f] of Object.entries(files)) write(path.join(state.a.mnt, p), f.a)
    await sleep(50)
    for (const [p, f] of Object.entries(files)) write(path.join(state.b.mnt, p), f.b)
    if (unmounted) {
      for (const h of [state.a, state.b]) {
        w.unmount(h)
        expect(await w.settled(h), `${h.name}'s daemon let go`).toBe(true)
      }
      for (let i = 0; i < 2; i++) {
        for (const h of [state.a, state.b]) {
          const r = sharebox(["sync", h.gitdir])
          expect(r.code, `sync ${h.gitdir}: ${r.stderr}`).toBe(0)
        }
      }
      for (const h of [state.a, state.b]) w.mount(h, "writeback=off", ...options)
    } else for (let i = 0; i < 2; i++) for (const h of [state.a, state.b]) syncOk(w, h)
    state.final = snapshot(state.a.mnt, { mtimes: false })
    expect(snapshot(state.b.mnt, { mtimes: false }), "bravo shows what alpha shows").toEqual(state.final)
    const trees = [state.a, state.b].map((h) => git(h.gitdir, ["rev-parse", "HEAD^{tree}"]).stdout.trim())
    expect(trees[0], "the same stored tree, writers and mtimes included").toBe(trees[1])
  }, 120_000)
  return state
}

describe("text merges (automerge on, the default)", () => {
  const s = world("sharebox-textmerge", [], {
    "notes.txt": { base: BASE.join(""), a: edit(BASE, 0, "alpha's first line\n"), b: edit(BASE, 7, "bravo's last line\n") },
    "same.txt": { base: BASE.join(""), a: edit(BASE, 3, "alpha's line 4\n"), b: edit(BASE, 3, "bravo's line 4\n") },
    "data.bin": { base: BIN.join(""), a: edit(BIN, 0, "alpha\0first\n"), b: edit(BIN, 7, "bravo\0last\n") }
  })
  const merged = ["alpha's first line\n", ...BASE.slice(1, 7), "bravo's last line\n"].join("")

  it("edits of different lines of a text file merge: no conflict copy, the same merged text on both hosts", () => {
    for (const h of [s.a, s.b]) expect(read(path.join(h.mnt, "notes.txt")), h.name).toBe(merged)
    expect(copiesIn(s.final).filter((p) => p.startsWith("notes."))).toEqual([])
  })

  it("`sharebox versions` lists the merged version last, with both writers, on both hosts", () => {
    for (const h of [s.a, s.b]) {
      const vs = versionsOf(path.join(h.mnt, "notes.txt"))
      const last = vs[vs.length - 1]!
      expect(last.writers, JSON.stringify(vs)).toEqual(["alpha", "bravo"])
      expect(last.host).toBe("alpha+bravo")
      expect(last.key).toMatch(/^SHA256E-s\d+--[0-9a-f]{64}\.txt$/)
      // the base and both edits are versions too
      expect(vs.filter((v) => !v.deleted).length, JSON.stringify(vs)).toBeGreaterThanOrEqual(3)
      const text = sharebox(["versions", path.join(h.mnt, "notes.txt")])
      expect(text.stdout.trim().split("\n").pop()).toContain("alpha+bravo")
    }
  })

  it("the merged content is in the annex of the host that merged, and fsck passes there", () => {
    const key = versionsOf(path.join(s.a.mnt, "notes.txt")).pop()!.key!
    const whereis = git(s.a.gitdir, ["annex", "whereis", "--key", key])
    expect(whereis.code, whereis.stderr).toBe(0)
    expect(whereis.stdout).toMatch(/copies|copy/)
  })

  it("edits of the same line give a conflict copy, as before", () => {
    const copies = copiesIn(s.final).filter((p) => p.startsWith("same."))
    expect(copies).toHaveLength(1)
    const texts = [read(path.join(s.a.mnt, "same.txt")), read(path.join(s.a.mnt, copies[0]!))].sort()
    expect(texts).toEqual([edit(BASE, 3, "alpha's line 4\n"), edit(BASE, 3, "bravo's line 4\n")])
  })

  it("a binary file (NUL bytes) edited in different places gives a conflict copy", () => {
    const copies = copiesIn(s.final).filter((p) => p.startsWith("data."))
    expect(copies).toHaveLength(1)
    const texts = [fs.readFileSync(path.join(s.b.mnt, "data.bin")), fs.readFileSync(path.join(s.b.mnt, copies[0]!))].map((b) => b.toString("latin1")).sort()
    expect(texts).toEqual([edit(BIN, 0, "alpha\0first\n"), edit(BIN, 7, "bravo\0last\n")])
  })
})

describe("-o automerge=off", () => {
  const s = world("sharebox-automerge-off", ["automerge=off"], {
    "notes.txt": { base: BASE.join(""), a: edit(BASE, 0, "alpha's first line\n"), b: edit(BASE, 7, "bravo's last line\n") }
  })

  it("edits of different lines of a text file give a conflict copy", () => {
    const copies = copiesIn(s.final)
    expect(copies).toHaveLength(1)
    const texts = [read(path.join(s.a.mnt, "notes.txt")), read(path.join(s.a.mnt, copies[0]!))].sort()
    expect(texts).toEqual([edit(BASE, 0, "alpha's first line\n"), edit(BASE, 7, "bravo's last line\n")])
  })

  it("a bad value is refused in one line, exit 64", () => {
    const r = sharebox([path.join(s.a.mnt, "..", "other"), "-o", `gitdir=${s.a.gitdir}-x,automerge=maybe`])
    expect(r.code).toBe(64)
    expect(r.stderr.trim().split("\n")).toHaveLength(1)
    expect(r.stderr).toContain("automerge must be on or off")
  })
})

describe("`sharebox sync GITDIR` with no daemon follows the last mount's automerge setting", () => {
  const files = { "notes.txt": { base: BASE.join(""), a: edit(BASE, 0, "alpha's first line\n"), b: edit(BASE, 7, "bravo's last line\n") } }
  const on = world("sharebox-automerge-direct-on", [], files, true)
  const off = world("sharebox-automerge-direct-off", ["automerge=off"], files, true)

  it("mounted last with the default: merged", () => {
    expect(copiesIn(on.final)).toEqual([])
    expect(read(path.join(on.b.mnt, "notes.txt"))).toBe(["alpha's first line\n", ...BASE.slice(1, 7), "bravo's last line\n"].join(""))
  })

  it("mounted last with -o automerge=off: a conflict copy", () => {
    expect(copiesIn(off.final)).toHaveLength(1)
  })
})

describe("a text edited here in a file still open across the sync", () => {
  const w = useWorld("sharebox-textmerge-open")
  let a: HostDirs
  let b: HostDirs
  beforeAll(async () => {
    ;[a, b] = await editedOnBoth(w)
    // alpha's sync makes the merge (bravo writes back first), while alpha's editor holds the file
    // open; it saves a second edit (of its own text, line 2) after the sync
    const fd = fs.openSync(path.join(a.mnt, "notes.txt"), "r+")
    const second = edit(["alpha's first line\n", ...BASE.slice(1)], 1, "alpha's line 2\n")
    try {
      syncOk(w, a)
      fs.ftruncateSync(fd, 0)
      fs.writeSync(fd, second, 0)
    } finally {
      fs.closeSync(fd)
    }
    for (let i = 0; i < 2; i++) for (const h of [a, b]) syncOk(w, h)
  }, 120_000)

  it("bravo's line is still in the file or in a conflict copy on both hosts, not only in the history", () => {
    for (const h of [a, b]) {
      const s = snapshot(h.mnt, { mtimes: false })
      const texts = Object.keys(s)
        .filter((p) => p.startsWith("notes."))
        .map((p) => read(path.join(h.mnt, p)))
      expect(texts.some((t) => t.includes("bravo's last line")), `${h.name}: ${JSON.stringify(texts)}`).toBe(true)
      expect(texts.some((t) => t.includes("alpha's line 2")), `${h.name}: ${JSON.stringify(texts)}`).toBe(true)
    }
  })
})

describe("-o automerge=off on one host only", () => {
  const w = useWorld("sharebox-automerge-mixed")
  let a: HostDirs
  let b: HostDirs
  beforeAll(async () => {
    a = w.host("alpha")
    b = w.host("bravo")
    w.mount(a, "writeback=off", "automerge=off")
    w.mount(b, "writeback=off")
    w.connectAll()
    write(path.join(a.mnt, "notes.txt"), BASE.join(""))
    for (const h of [a, b]) syncOk(w, h)
    write(path.join(a.mnt, "notes.txt"), edit(BASE, 0, "alpha's first line\n"))
    await sleep(50)
    write(path.join(b.mnt, "notes.txt"), edit(BASE, 7, "bravo's last line\n"))
    for (let i = 0; i < 2; i++) for (const h of [b, a]) syncOk(w, h)
  }, 120_000)

  it("turns off the merges this host makes, not the ones a peer sends: merged first by bravo, alpha takes the merged text", () => {
    const merged = ["alpha's first line\n", ...BASE.slice(1, 7), "bravo's last line\n"].join("")
    for (const h of [a, b]) {
      expect(read(path.join(h.mnt, "notes.txt")), h.name).toBe(merged)
      expect(copiesIn(snapshot(h.mnt, { mtimes: false })), h.name).toEqual([])
    }
  })
})
