/**
 * New files created by the FUSE binding on its own threads (packages/fuse-native/src/creates.c;
 * src/fuse/ops.ts, CreatesHere): a name that is certainly not in the view gets one of the empty
 * staging files the binding makes ahead, and the daemon adopts the file before anything else
 * touches it. These tests
 * hold that path to what a create in JavaScript promised: the file is there at once, whole, with
 * its mode, through renames while open, many at once, and while a peer's push replaces the view;
 * and `.sharebox/status` says the binding did make them, so the tests cannot pass by falling back.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, type HostDirs, World, bindingCreates, createdByBinding, eventually, execAsync, git, read, scaled, statusValue, write } from "./harness.js"

/** The files a commit of A's gitdir holds under `dir`, directory markers left out. */
const filesIn = (h: HostDirs, dir: string): Array<string> =>
  git(h.gitdir, ["ls-files", dir]).stdout.split("\n").filter((l) => l && !l.endsWith("/.shareboxdir"))

describe("new files created by the binding", () => {
  const w = new World("sharebox-creates")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    ;[A, B] = w.pair()
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  const at = (p: string) => path.join(A.mnt, p)

  it("one after another: each is there at once, whole, with its mode, and reaches history", async () => {
    expect(await bindingCreates(A)).toBe(true)
    const before = createdByBinding(A)
    fs.mkdirSync(at("one/two"), { recursive: true })
    for (let i = 0; i < 300; i++) {
      const f = at(`one/two/f${i}.txt`)
      fs.writeFileSync(f, `file ${i}\n`)
      const st = fs.statSync(f)
      expect(st.size).toBe(`file ${i}\n`.length)
      expect(st.mode & 0o777).toBe(0o644)
      expect(read(f)).toBe(`file ${i}\n`)
    }
    fs.writeFileSync(at("one/run.sh"), "#!/bin/sh\necho run\n", { mode: 0o755 })
    expect(fs.statSync(at("one/run.sh")).mode & 0o777).toBe(0o755)
    fs.closeSync(fs.openSync(at("one/empty"), "w"))
    expect(fs.statSync(at("one/empty")).size).toBe(0)
    expect(fs.readdirSync(at("one/two"))).toHaveLength(300)
    // a create that finds no spare staging file made yet (their thread starved on a loaded
    // machine) is JavaScript's, as right: nearly all are the binding's
    const made = createdByBinding(A) - before
    expect(made).toBeLessThanOrEqual(302)
    expect(made).toBeGreaterThanOrEqual(290)
    // names the binding leaves to JavaScript: not ASCII, and the virtual folder
    fs.writeFileSync(at("one/café.txt"), "accent\n")
    expect(read(at("one/café.txt"))).toBe("accent\n")
    expect(() => fs.writeFileSync(at(".sharebox/new"), "no\n")).toThrow()
    expect(createdByBinding(A) - before).toBe(made)

    const s = w.sync(A)
    expect(s.code, s.stderr).toBe(0)
    const files = git(A.gitdir, ["ls-files", "-s", "one"]).stdout
    expect(files.split("\n").filter((l) => /\tone\/two\/f\d+\.txt$/.test(l))).toHaveLength(300)
    expect(files).toMatch(/^100755 .*\tone\/run\.sh$/m)
    expect(files).toMatch(/\tone\/empty$/m)
    expect(git(A.gitdir, ["ls-files", "-z", "one"]).stdout.split("\0")).toContain("one/café.txt")
    // A's sync pushed into B's gitdir; B's daemon merges it
    expect(await eventually(() => fs.existsSync(path.join(B.mnt, "one/two/f123.txt")))).toBe(true)
    expect(read(path.join(B.mnt, "one/two/f123.txt"))).toBe("file 123\n")
    expect(fs.statSync(path.join(B.mnt, "one/run.sh")).mode & 0o777).toBe(0o755)
  })

  it("many open at once (more than the binding holds spares for), one renamed and one removed while open", async () => {
    const before = createdByBinding(A)
    fs.mkdirSync(at("many"))
    const fds: Array<number> = []
    for (let i = 0; i < 120; i++) fds.push(fs.openSync(at(`many/m${i}`), "wx"))
    expect(fs.readdirSync(at("many"))).toHaveLength(120)
    fs.renameSync(at("many/m7"), at("many/seven"))
    fs.unlinkSync(at("many/m8"))
    fds.forEach((fd, i) => fs.writeSync(fd, `open ${i}\n`))
    fds.forEach((fd) => fs.closeSync(fd))
    expect(read(at("many/seven"))).toBe("open 7\n")
    expect(fs.existsSync(at("many/m7"))).toBe(false)
    expect(fs.existsSync(at("many/m8"))).toBe(false)
    for (let i = 0; i < 120; i++) if (i !== 7 && i !== 8) expect(read(at(`many/m${i}`))).toBe(`open ${i}\n`)
    // some by the binding, the rest by JavaScript once its spares ran out
    const made = createdByBinding(A) - before
    expect(made).toBeGreaterThan(0)
    expect(made).toBeLessThanOrEqual(120)
    const s = w.sync(A)
    expect(s.code, s.stderr).toBe(0)
    expect(filesIn(A, "many")).toHaveLength(119)
    expect(await eventually(() => fs.existsSync(path.join(B.mnt, "many/seven")))).toBe(true)
    expect(read(path.join(B.mnt, "many/seven"))).toBe("open 7\n")
  })

  /** rounds of a peer's push into A while 150 files are created */
  const ROUNDS = scaled(1, 5)

  it("while peers' pushes replace the view: every file is found the moment it is closed, and all reach history", async () => {
    const before = createdByBinding(A)
    fs.mkdirSync(at("busy"))
    for (let round = 0; round < ROUNDS; round++) {
      write(path.join(B.mnt, `from-b-${round}.txt`), `round ${round}\n`)
      const pushing = execAsync(BIN, ["sync", B.mnt]) // pushes into A's gitdir: A's daemon merges it
      for (let i = 0; i < 150; i++) {
        const f = at(`busy/r${round}-${i}.txt`)
        fs.writeFileSync(f, `${round} ${i}\n`)
        expect(fs.statSync(f).size, f).toBe(`${round} ${i}\n`.length)
      }
      const r = await pushing
      expect(r.code, r.stderr).toBe(0)
    }
    expect(await eventually(() => fs.existsSync(at(`from-b-${ROUNDS - 1}.txt`)))).toBe(true)
    expect(fs.readdirSync(at("busy"))).toHaveLength(ROUNDS * 150)
    for (let round = 0; round < ROUNDS; round++) for (let i = 0; i < 150; i += 37) expect(read(at(`busy/r${round}-${i}.txt`))).toBe(`${round} ${i}\n`)
    // most by the binding; a create while its thread is still making spares goes to JavaScript
    expect(createdByBinding(A) - before).toBeGreaterThan((ROUNDS * 150) / 2)
    const s = w.sync(A)
    expect(s.code, s.stderr).toBe(0)
    expect(filesIn(A, "busy")).toHaveLength(ROUNDS * 150)
    expect(w.contractProblems(A)).toEqual([])
  })

  it("after a remount the binding creates again, and what it made before is there", async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    w.mount(A)
    expect(read(at("one/two/f5.txt"))).toBe("file 5\n")
    expect(read(at(`busy/r${ROUNDS - 1}-149.txt`))).toBe(`${ROUNDS - 1} 149\n`)
    expect(await bindingCreates(A)).toBe(true)
    fs.writeFileSync(at("one/after-remount.txt"), "again\n")
    expect(read(at("one/after-remount.txt"))).toBe("again\n")
  })
})
