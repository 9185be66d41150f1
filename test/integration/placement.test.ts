/**
 * Where data lives: whereis names the hosts by description, get fetches, drop refuses to drop the
 * only copy and succeeds when a peer has one, xattrs tell the key, presence and locations, pinned
 * folders stay readable with the peer gone while absent content fails fast with EIO (and the
 * daemon log says which file), -o getall fetches everything at sync, and -o cachesize evicts the
 * least recently read content first, never pinned content and never a last copy.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, World, eventually, exec, execAsync, git, sharebox, sleep } from "./harness.js"

interface Whereis {
  readonly path: string
  readonly key: string
  readonly here: boolean
  readonly locations: ReadonlyArray<{ uuid: string; description: string; here: boolean }>
}

const ok = (r: { code: number; stderr: string }, what = "") => expect(r.code, `${what} ${r.stderr}`).toBe(0)

const whereis = (...ps: Array<string>): Array<Whereis> => {
  const r = sharebox(["whereis", "--json", ...ps])
  ok(r, "whereis")
  return r.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Whereis)
}

const hostsOf = (w: Whereis): Array<string> => w.locations.map((l) => l.description).sort()

/** All user.* xattrs of a file, as `getfattr -d` prints them. */
const xattrs = (file: string): Record<string, string> => {
  const r = exec("getfattr", ["-d", "--absolute-names", file])
  expect(r.code, r.stderr).toBe(0)
  const out: Record<string, string> = {}
  for (const line of r.stdout.split("\n")) {
    const m = /^([\w.]+)="(.*)"$/.exec(line)
    if (m) out[m[1]!] = m[2]!
  }
  return out
}

const present = (file: string): string | undefined => xattrs(file)["user.sharebox.present"]

const blocks = (file: string): number => fs.statSync(file).blocks

/** Writes random bytes through the mount; returns them. */
const writeRandom = (file: string, size: number): Buffer => {
  const data = randomBytes(size)
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, data)
  return data
}

describe("where data lives: whereis, get, drop, xattrs, pins, offline", () => {
  const w = new World("sharebox-placement")
  let A: HostDirs
  let B: HostDirs
  let awayFrom: string | undefined
  const data: Record<string, Buffer> = {}

  beforeAll(() => {
    ;[A, B] = w.pair()
    for (const f of ["data/one.bin", "data/two.bin", "pinned/p1.bin", "pinned/p2.bin", "pinned/sub/p3.bin", "loose/l1.bin", "loose/l2.bin"]) {
      data[f] = writeRandom(path.join(A.mnt, f), 4000 + Object.keys(data).length)
    }
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
  }, 90_000)

  afterAll(async () => {
    // bring A back where it was, so the contracts can be checked on it too
    if (awayFrom) fs.renameSync(awayFrom, A.gitdir)
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("whereis lists the hosts that have the content, by description", () => {
    const [one] = whereis(path.join(B.mnt, "data", "one.bin"))
    expect(one!.path).toBe("data/one.bin")
    expect(one!.key).toMatch(/^SHA256E-s4000--[0-9a-f]{64}\.bin$/)
    expect(one!.here).toBe(false)
    expect(hostsOf(one!)).toEqual(["A"])
    // a folder: every file below it
    const all = whereis(path.join(B.mnt, "pinned"))
    expect(all.map((x) => x.path).sort()).toEqual(["pinned/p1.bin", "pinned/p2.bin", "pinned/sub/p3.bin"])
    for (const x of all) expect(hostsOf(x), x.path).toEqual(["A"])
    const text = sharebox(["whereis", path.join(A.mnt, "data", "one.bin")])
    ok(text)
    expect(text.stdout).toMatch(/data\/one\.bin \(1 copy\)/)
    expect(text.stdout).toMatch(/-- A \[here\]/)
  })

  it("a file whose content is elsewhere shows its real size and no blocks; get fetches it", async () => {
    const f = path.join(B.mnt, "data", "one.bin")
    expect(fs.statSync(f).size).toBe(4000)
    expect(blocks(f)).toBe(0)
    expect(present(f)).toBe("0")
    const r = sharebox(["get", f])
    ok(r, "get")
    expect(present(f)).toBe("1")
    // the kernel may cache attributes for a second
    expect(await eventually(() => blocks(f) > 0, 5000, 100)).toBe(true)
    expect(fs.readFileSync(f).equals(data["data/one.bin"]!)).toBe(true)
    const [one] = whereis(f)
    expect(one!.here).toBe(true)
    expect(hostsOf(one!)).toEqual(["A", "B"])
    expect(one!.locations.find((l) => l.here)?.description).toBe("B")
  })

  it("getfattr -d shows user.sharebox.key, .present and .whereis", () => {
    const x = xattrs(path.join(B.mnt, "data", "one.bin"))
    const [one] = whereis(path.join(B.mnt, "data", "one.bin"))
    expect(x["user.sharebox.key"]).toBe(one!.key)
    expect(x["user.sharebox.present"]).toBe("1")
    expect(x["user.sharebox.whereis"]?.split(/,\s*/).sort()).toEqual(["A", "B"])
    const y = xattrs(path.join(B.mnt, "data", "two.bin"))
    expect(y["user.sharebox.key"]).toMatch(/^SHA256E-s4001--/)
    expect(y["user.sharebox.present"]).toBe("0")
    expect(y["user.sharebox.whereis"]).toBe("A")
  })

  it("drop refuses to drop the only copy: non-zero exit, a clear message, the content stays", () => {
    // written on B, so B holds the only copy
    const mine = writeRandom(path.join(B.mnt, "mine.bin"), 3000)
    ok(sharebox(["replay", B.mnt]), "replay")
    let r = sharebox(["drop", path.join(B.mnt, "mine.bin")])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/mine\.bin/)
    expect(r.stderr).toMatch(/not dropped|cop(y|ies)/i)
    expect(r.stderr).not.toMatch(/^\s+at /m)
    expect(present(path.join(B.mnt, "mine.bin"))).toBe("1")
    expect(fs.readFileSync(path.join(B.mnt, "mine.bin")).equals(mine)).toBe(true)
    // A's only copy of two.bin, likewise
    r = sharebox(["drop", path.join(A.mnt, "data", "two.bin")])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/two\.bin/)
    expect(present(path.join(A.mnt, "data", "two.bin"))).toBe("1")
    expect(git(A.gitdir, ["annex", "contentlocation", whereis(path.join(A.mnt, "data", "two.bin"))[0]!.key]).code).toBe(0)
  })

  it("drop succeeds when the peer has a copy; reading fetches it again", async () => {
    const f = path.join(B.mnt, "data", "one.bin")
    const r = sharebox(["drop", f])
    ok(r, "drop")
    expect(present(f)).toBe("0")
    expect(await eventually(() => blocks(f) === 0, 5000, 100)).toBe(true)
    expect(hostsOf(whereis(f)[0]!)).toEqual(["A"])
    // the file is still in the tree, and comes back when read
    expect(fs.readdirSync(path.join(B.mnt, "data")).sort()).toEqual(["one.bin", "two.bin"])
    expect(fs.readFileSync(f).equals(data["data/one.bin"]!)).toBe(true)
    expect(present(f)).toBe("1")
  })

  it("pin a folder on B: sync fetches everything below it (also files added later), and status lists the pin", () => {
    const r = sharebox(["pin", path.join(B.mnt, "pinned")])
    ok(r, "pin")
    expect(r.stdout).toMatch(/pinned: pinned/)
    const st = sharebox(["status", "--json", B.mnt])
    ok(st, "status")
    expect(JSON.parse(st.stdout).pins).toEqual(["pinned"])
    for (const f of ["pinned/p1.bin", "pinned/p2.bin", "pinned/sub/p3.bin"]) expect(present(path.join(B.mnt, f)), f).toBe("0")
    ok(w.sync(B), "sync B")
    for (const f of ["pinned/p1.bin", "pinned/p2.bin", "pinned/sub/p3.bin"]) expect(present(path.join(B.mnt, f)), f).toBe("1")
    for (const f of ["loose/l1.bin", "loose/l2.bin", "data/two.bin"]) expect(present(path.join(B.mnt, f)), f).toBe("0")
    // a file added to the pinned folder later is fetched at the next sync too
    data["pinned/later.bin"] = writeRandom(path.join(A.mnt, "pinned", "later.bin"), 2500)
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    expect(present(path.join(B.mnt, "pinned", "later.bin"))).toBe("1")
  })

  it("pinned files read fine with the peer unreachable", async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    awayFrom = `${A.gitdir}.away`
    fs.renameSync(A.gitdir, awayFrom)
    for (const f of ["pinned/p1.bin", "pinned/p2.bin", "pinned/sub/p3.bin", "pinned/later.bin"]) {
      expect(fs.readFileSync(path.join(B.mnt, f)).equals(data[f]!), f).toBe(true)
    }
    // and so does content fetched earlier
    expect(fs.readFileSync(path.join(B.mnt, "data", "one.bin")).equals(data["data/one.bin"]!)).toBe(true)
  })

  it("absent content with the peer unreachable: open fails with EIO within seconds, the daemon log names the file", async () => {
    const log = path.join(B.gitdir, ".git", "sharebox", "daemon.log")
    const before = fs.existsSync(log) ? fs.readFileSync(log, "utf8").length : 0
    const file = path.join(B.mnt, "loose", "l1.bin")
    // stat still works, with the real size
    expect(fs.statSync(file).size).toBe(data["loose/l1.bin"]!.length)
    const t0 = Date.now()
    const r = await execAsync("cat", [file], { timeoutMs: 30_000 })
    const took = Date.now() - t0
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/Input\/output error/)
    expect(took).toBeLessThan(10_000)
    expect(await eventually(() => fs.readFileSync(log, "utf8").slice(before).includes("loose/l1.bin"), 5000, 100)).toBe(true)
    // the mount still works, and the rest of the tree is still listed
    expect(fs.readdirSync(path.join(B.mnt, "loose")).sort()).toEqual(["l1.bin", "l2.bin"])
    expect(present(file)).toBe("0")
  })
})

describe("-o getall", () => {
  const w = new World("sharebox-getall")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    ;[A, B] = w.pair([], ["getall"])
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("after a sync, all content is present on B", async () => {
    const files = ["a.bin", "d/b.bin", "d/e/c.bin", "small.txt"]
    const data = new Map(files.map((f, i) => [f, writeRandom(path.join(A.mnt, f), 1500 * (i + 1))]))
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    for (const f of files) expect(present(path.join(B.mnt, f)), f).toBe("1")
    // git-annex agrees: nothing in B's tree lacks its content
    expect(git(B.gitdir, ["annex", "find", "--not", "--in=here"]).stdout.trim()).toBe("")
    expect(git(B.gitdir, ["annex", "find", "--in=here"]).stdout.split("\n").filter(Boolean)).toHaveLength(files.length)
    for (const f of files) expect(await eventually(() => blocks(path.join(B.mnt, f)) > 0, 5000, 100), f).toBe(true)
    for (const [f, d] of data) expect(fs.readFileSync(path.join(B.mnt, f)).equals(d), f).toBe(true)
  })
})

describe("-o getall, with content no reachable peer holds", () => {
  const w = new World("sharebox-getall-absent")
  let A: HostDirs
  let B: HostDirs

  beforeAll(() => {
    // X wrote the file; A has synced with X (so A knows of the file, not its content); B knows only A
    const X = w.host("X")
    A = w.host("A")
    B = w.host("B")
    w.mount(X)
    w.mount(A)
    w.mount(B, "getall")
    git(A.gitdir, ["remote", "add", "X", X.gitdir])
    git(B.gitdir, ["remote", "add", "A", A.gitdir])
    fs.writeFileSync(path.join(X.mnt, "on-x.bin"), randomBytes(3000))
    ok(w.sync(A), "sync A")
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("a sync that could not fetch what getall wants exits 1, says which file, and status says so", () => {
    const r = w.sync(B)
    expect(r.code, r.stderr).toBe(1)
    expect(r.stderr).toContain("could not get on-x.bin")
    expect(present(path.join(B.mnt, "on-x.bin"))).toBe("0")
    expect(sharebox(["status", B.mnt]).stdout).toMatch(/content policy: needs attention: .*could not be fetched/)
  })
})

describe("-o cachesize", () => {
  const w = new World("sharebox-cache")
  let A: HostDirs
  let B: HostDirs
  const SIZE = 2000

  beforeAll(() => {
    // four files' worth
    ;[A, B] = w.pair([], [`cachesize=${4 * SIZE}`])
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  it("evicts the least recently read first, down to the budget; never pinned content, never the only copy", async () => {
    const names = ["f1.bin", "f2.bin", "f3.bin", "f4.bin", "f5.bin", "pin.bin"]
    const data = new Map(names.map((n) => [n, writeRandom(path.join(A.mnt, "c", n), SIZE)]))
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    const at = (n: string) => path.join(B.mnt, "c", n)
    // B's own file: the only copy is here
    const own = writeRandom(path.join(B.mnt, "own.bin"), SIZE)
    ok(sharebox(["pin", at("pin.bin")]), "pin")
    ok(w.sync(B), "sync B")
    expect(present(at("pin.bin"))).toBe("1")
    expect(present(path.join(B.mnt, "own.bin"))).toBe("1")
    // read in a known order: f3 is the least recently read, f4 the most
    for (const n of ["f3.bin", "f1.bin", "f5.bin", "f2.bin", "f4.bin"]) {
      expect(fs.readFileSync(at(n)).equals(data.get(n)!), n).toBe(true)
      await sleep(50)
    }
    for (const n of names) expect(present(at(n)), n).toBe("1")
    // 7 files here (14000 B) over a budget of 8000 B: the three least recently read go
    ok(w.sync(B), "sync B")
    const state = Object.fromEntries(names.map((n) => [n, present(at(n))]))
    expect(state).toEqual({ "f1.bin": "0", "f2.bin": "1", "f3.bin": "0", "f4.bin": "1", "f5.bin": "0", "pin.bin": "1" })
    expect(present(path.join(B.mnt, "own.bin"))).toBe("1")
    expect(fs.readFileSync(path.join(B.mnt, "own.bin")).equals(own)).toBe(true)
    // still on A, and fetched again when read
    for (const n of ["f1.bin", "f3.bin", "f5.bin"]) expect(present(path.join(A.mnt, "c", n)), n).toBe("1")
    // own.bin is only here
    const w2 = sharebox(["whereis", "--json", path.join(B.mnt, "own.bin")])
    ok(w2)
    expect(JSON.parse(w2.stdout).locations.map((l: { description: string }) => l.description)).toEqual(["B"])
    expect(fs.readFileSync(at("f3.bin")).equals(data.get("f3.bin")!)).toBe(true)
    expect(present(at("f3.bin"))).toBe("1")
  })

  it("far over budget, pinned content and the only copy still stay", async () => {
    // read everything unpinned again (f4 last), then add a big file of B's own
    for (const n of ["f1.bin", "f2.bin", "f3.bin", "f5.bin", "f4.bin"]) {
      fs.readFileSync(path.join(B.mnt, "c", n))
      await sleep(50)
    }
    writeRandom(path.join(B.mnt, "own2.bin"), 5 * SIZE)
    ok(w.sync(B), "sync B")
    for (const n of ["f1.bin", "f2.bin", "f3.bin", "f4.bin", "f5.bin"]) expect(present(path.join(B.mnt, "c", n)), n).toBe("0")
    expect(present(path.join(B.mnt, "c", "pin.bin"))).toBe("1")
    expect(present(path.join(B.mnt, "own.bin"))).toBe("1")
    expect(present(path.join(B.mnt, "own2.bin"))).toBe("1")
  })
})
