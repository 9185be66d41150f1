/**
 * Reads by the kernel's own passthrough (packages/fuse-native/src/passthrough.c;
 * Linux 6.9 and later, as root): an open for reading of a file is handed to the kernel, which then
 * reads the file underneath with no request to the daemon. The kernel allows one mode per inode,
 * so these tests hold the binding to what a plain file system promises around it: a file being
 * read can be written, appended to and replaced at the same time (the readers keep what they
 * opened, later opens see the new content), a peer's new version reaches new opens, executables
 * run, the kernel may forget every inode in between, and `-o passthrough=off` turns it off.
 * `.sharebox/status` says how many opens went to the kernel, so the tests cannot pass by never
 * using it.
 */
import { createHash, randomBytes } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { kernelStatusOf } from "../../src/fuse/mount.js"
import { type HostDirs, World, eventually, exec, read, sharebox, statusValue, write } from "./harness.js"

const statusLine = (h: HostDirs): string => {
  const v = statusValue(h, "reads by the kernel (passthrough)")
  expect(v, "the status line").toBeDefined()
  return v!
}

/** Opens read by the kernel and inodes renewed so far, from the status line (undefined: off). */
const kernelFigures = (h: HostDirs): { opens: number; renewed: number } | undefined => {
  const m = /^on: (\d+) open\(s\) read by the kernel, (\d+) file\(s\) given a new inode/.exec(statusLine(h))
  return m ? { opens: Number(m[1]), renewed: Number(m[2]) } : undefined
}

const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex")

/** Lets the kernel forget every inode it can (as memory pressure would). */
const forgetInodes = () => {
  exec("sync", [])
  fs.writeFileSync("/proc/sys/vm/drop_caches", "2")
}

const replay = (h: HostDirs) => {
  const r = sharebox(["replay", h.mnt])
  expect(r.code, r.stderr).toBe(0)
}

const root = process.getuid?.() === 0
const offered = root && fs.existsSync("/dev/fuse")

describe("reads by the kernel's passthrough", () => {
  const w = new World("sharebox-passthrough")
  let A: HostDirs
  let B: HostDirs
  let on = false

  beforeAll(() => {
    ;[A, B] = w.pair()
    on = kernelFigures(A) !== undefined
    if (!on) console.log(`reads by the kernel are not on here, so only the fallback is tested: ${statusLine(A)}`)
  }, 60_000)

  afterAll(async () => {
    expect(await w.cleanup()).toEqual([])
  }, 60_000)

  const at = (p: string) => path.join(A.mnt, p)

  it("is on where the kernel offers it (Linux 6.9+, as root), and a read is the file's bytes", () => {
    const release = exec("uname", ["-r"]).stdout.trim().split(".").map(Number)
    const recent = release[0]! > 6 || (release[0] === 6 && release[1]! >= 9)
    if (offered && recent) expect(statusLine(A)).toMatch(/^on: /)
    const data = randomBytes(3 * 1024 * 1024 + 17)
    fs.writeFileSync(at("big.bin"), data)
    replay(A) // committed: read from the annex object from here on
    const before = kernelFigures(A)
    const fd = fs.openSync(at("big.bin"), "r")
    const got = Buffer.alloc(data.length)
    expect(fs.readSync(fd, got, 0, data.length, 0)).toBe(data.length)
    for (const pos of [0, 1, 4095, 4096, 131071, 1 << 20, data.length - 1]) {
      const b = Buffer.alloc(3)
      const n = fs.readSync(fd, b, 0, 3, pos)
      expect(b.subarray(0, n).equals(data.subarray(pos, pos + 3))).toBe(true)
    }
    fs.closeSync(fd)
    expect(md5(got)).toBe(md5(data))
    if (on) expect(kernelFigures(A)!.opens).toBeGreaterThan(before!.opens)
  })

  it("a file the kernel is reading can be written, truncated and appended to at the same time", () => {
    const old = randomBytes(1024 * 1024)
    fs.writeFileSync(at("shared.bin"), old)
    replay(A)
    const before = kernelFigures(A)
    const reader = fs.openSync(at("shared.bin"), "r")
    const head = Buffer.alloc(16)
    fs.readSync(reader, head, 0, 16, 0)
    expect(head.equals(old.subarray(0, 16))).toBe(true)
    // in place, while the reader is open: every kind of write open works
    const inPlace = fs.openSync(at("shared.bin"), "r+")
    fs.writeSync(inPlace, "NEW", 0, "utf8")
    fs.closeSync(inPlace)
    fs.appendFileSync(at("shared.bin"), "appended")
    expect(fs.statSync(at("shared.bin")).size).toBe(old.length + "appended".length)
    const now = fs.readFileSync(at("shared.bin"))
    expect(now.subarray(0, 3).toString()).toBe("NEW")
    expect(now.subarray(3, old.length).equals(old.subarray(3))).toBe(true)
    expect(now.subarray(old.length).toString()).toBe("appended")
    // the reader keeps the content it opened, as with a file replaced under it
    const again = Buffer.alloc(16)
    fs.readSync(reader, again, 0, 16, 0)
    expect(again.equals(old.subarray(0, 16))).toBe(true)
    fs.writeFileSync(at("shared.bin"), "replaced\n") // O_TRUNC, the reader still open
    expect(read(at("shared.bin"))).toBe("replaced\n")
    fs.closeSync(reader)
    if (on) expect(kernelFigures(A)!.renewed).toBeGreaterThan(before!.renewed)
    // the kernel forgets the inodes, the alias among them; the file is still one file
    forgetInodes()
    expect(read(at("shared.bin"))).toBe("replaced\n")
    fs.renameSync(at("shared.bin"), at("moved.bin"))
    expect(read(at("moved.bin"))).toBe("replaced\n")
    replay(A)
    expect(exec("git", ["-C", A.gitdir, "annex", "find", "--include=*", "moved.bin"]).stdout.trim()).toBe("moved.bin")
    expect(read(at("moved.bin"))).toBe("replaced\n")
    fs.unlinkSync(at("moved.bin"))
    expect(fs.existsSync(at("moved.bin"))).toBe(false)
  })

  it("a reader opened while a writer is open reads what the writer wrote", () => {
    fs.writeFileSync(at("live.txt"), "first\n")
    replay(A)
    const writer = fs.openSync(at("live.txt"), "r+")
    fs.writeSync(writer, "FIRST", 0, "utf8")
    expect(read(at("live.txt"))).toBe("FIRST\n")
    fs.writeSync(writer, "more\n", 6, "utf8")
    expect(read(at("live.txt"))).toBe("FIRST\nmore\n")
    fs.closeSync(writer)
    expect(read(at("live.txt"))).toBe("FIRST\nmore\n")
  })

  it("a peer's new version reaches new opens while an old one is still being read", async () => {
    fs.writeFileSync(at("peer.txt"), "version one\n")
    expect(w.sync(A).code).toBe(0)
    const onB = path.join(B.mnt, "peer.txt")
    expect(await eventually(() => fs.existsSync(onB) && read(onB) === "version one\n")).toBe(true)
    const reader = fs.openSync(at("peer.txt"), "r")
    const before = kernelFigures(A)
    write(onB, "version two, from B\n")
    const s = w.sync(B)
    expect(s.code, s.stderr).toBe(0)
    expect(await eventually(() => read(at("peer.txt")) === "version two, from B\n")).toBe(true)
    const b = Buffer.alloc(64)
    const n = fs.readSync(reader, b, 0, 64, 0)
    expect(b.subarray(0, n).toString()).toBe("version one\n")
    fs.closeSync(reader)
    // the new content is another file underneath, which the old inode's reads cannot join
    if (on) expect(kernelFigures(A)!.renewed).toBeGreaterThan(before!.renewed)
    forgetInodes()
    expect(read(at("peer.txt"))).toBe("version two, from B\n")
  })

  it("programs run from the mount (their pages mapped from the file underneath)", () => {
    fs.copyFileSync("/bin/echo", at("echo"))
    fs.chmodSync(at("echo"), 0o755)
    replay(A)
    const r = exec(at("echo"), ["from", "the", "mount"])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toBe("from the mount\n")
  })

  it("no file is ever set-user-ID or set-group-ID, so writes have no such bit to clear (FUSE_HANDLE_KILLPRIV_V2)", () => {
    fs.writeFileSync(at("tool.sh"), "#!/bin/sh\necho tool\n")
    // asking for the bits is refused (EPERM), and nothing changes
    fs.chmodSync(at("tool.sh"), 0o755)
    expect(() => fs.chmodSync(at("tool.sh"), 0o6755)).toThrow(/EPERM/)
    expect(fs.statSync(at("tool.sh")).mode & 0o7777).toBe(0o755)
    const fd = fs.openSync(at("tool.sh"), "r+")
    for (let i = 0; i < 50; i++) fs.writeSync(fd, "#", 20 + i) // 4 KiB-sized and smaller writes, one request each
    fs.closeSync(fd)
    expect(fs.statSync(at("tool.sh")).mode & 0o7777).toBe(0o755)
    expect(read(at("tool.sh")).slice(20, 70)).toBe("#".repeat(50))
    const r = exec("sh", [at("tool.sh")])
    expect(r.code, r.stderr).toBe(0)
  })

  it("-o passthrough=off: the daemon serves every read, and says so", async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    w.mount(A, "passthrough=off")
    expect(statusLine(A)).toBe("off (-o passthrough=off)")
    const data = fs.readFileSync(at("big.bin"))
    expect(data.length).toBe(3 * 1024 * 1024 + 17)
    fs.writeFileSync(at("off.txt"), "served by the daemon\n")
    expect(read(at("off.txt"))).toBe("served by the daemon\n")
    const bad = sharebox([path.join(w.root, "nowhere"), "-o", `gitdir=${A.gitdir},passthrough=maybe`])
    expect(bad.code).not.toBe(0)
    expect(bad.stderr.trim().split("\n")).toEqual(["sharebox: option passthrough must be on or off"])
  })
})

describe("the status line's words for the binding's figures", () => {
  const EPERM = 1
  const ELOOP = 40
  it("names why it is off, and what it did when on", () => {
    expect(kernelStatusOf([1, 1, 5, 2, 0, 0, 0], false)).toBe("off (-o passthrough=off)")
    expect(kernelStatusOf([0, 0, 0, 0, 0, 0, 0])).toMatch(/^off \(this kernel does not offer it/)
    expect(kernelStatusOf([1, 1, 5, 2, 0, 0, 0])).toBe("on: 5 open(s) read by the kernel, 2 file(s) given a new inode beside the kernel's readers (a write, or a newer version)")
    // not root: not asked for at all, or (a capability lost after the mount) the first backing file
    // is refused and the binding stops asking
    expect(kernelStatusOf([1, 0, 0, 0, 0, 0, 1])).toBe("off (it takes root: the daemon has no CAP_SYS_ADMIN to hand files to the kernel)")
    expect(kernelStatusOf([1, 0, 0, 0, 1, EPERM, 0])).toBe("off; the kernel refused 1 backing file(s), last with EPERM (it takes root)")
    // a file underneath on a stacked file system: refused one by one, the rest still go
    expect(kernelStatusOf([1, 1, 3, 0, 2, ELOOP, 0])).toBe("on: 3 open(s) read by the kernel, 0 file(s) given a new inode beside the kernel's readers (a write, or a newer version); the kernel refused 2 backing file(s), last with ELOOP")
  })
})
