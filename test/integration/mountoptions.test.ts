/**
 * Mount options are honoured or refused, never ignored: each one the kernel enforces shows in the
 * mount table (findmnt) and in the errno a caller gets; ro refuses every change while syncs still
 * bring peers' changes; uid=, gid= and umask= are what stat shows and what the kernel checks other
 * users against (default_permissions, on every mount); a bad value is one line and no mount.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, type Run, exec, execAsync, BIN, eventually, isMounted, read, sharebox, sleep, useWorld, write } from "./harness.js"

/** OPTIONS, FSTYPE and SOURCE of the mount at `mnt`, as findmnt shows them. */
const findmnt = (mnt: string): { options: Array<string>; fstype: string; source: string } => {
  const r = exec("findmnt", ["-n", "-r", "-o", "OPTIONS,FSTYPE,SOURCE", mnt])
  expect(r.code, r.stderr).toBe(0)
  const [options, fstype, source] = r.stdout.trim().split(" ")
  return { options: options!.split(","), fstype: fstype!, source: source!.replace(/\\x([0-9a-f]{2})/g, (_, h) => String.fromCharCode(parseInt(h, 16))) }
}

/** The errno code a file operation failed with, or "ok". */
const errnoOf = (f: () => unknown): string => {
  try {
    f()
    return "ok"
  } catch (e: any) {
    return e.code ?? String(e)
  }
}

/**
 * Runs `js` (a function body given `fs` and `f`, the path) in node as the user and group 65534 with
 * no supplementary groups; "ok" or the errno code it failed with.
 */
const errnoAsNobody = (js: string, f: string): string => {
  const r = exec("setpriv", [
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "--",
    process.execPath,
    "-e",
    `const fs = require("fs"); const f = process.argv[1]; try { ${js}; console.log("ok") } catch (e) { console.log(e.code) }`,
    f
  ])
  expect(r.code, r.stderr).toBe(0)
  return r.stdout.trim()
}

const ok = (r: Run, what: string): Run => {
  expect(r.code, `${what} failed (${r.code}):\n${r.stderr}${r.stdout}`).toBe(0)
  return r
}

describe("mount options reach the kernel", () => {
  const w = useWorld("sharebox-mountopts")

  beforeAll(() => {
    // mkdtemp makes its folder 0700: another user must be able to reach the mountpoints
    fs.chmodSync(w.root, 0o755)
  })

  it("by default: rw, nosuid, nodev, relatime, and the kernel checks the modes (default_permissions)", () => {
    const h = w.host("plain")
    w.mount(h)
    const m = findmnt(h.mnt)
    expect(m.fstype).toBe("fuse.sharebox")
    expect(m.source).toBe("sharebox")
    for (const o of ["rw", "nosuid", "nodev", "relatime", "default_permissions"]) expect(m.options, o).toContain(o)
    for (const o of ["ro", "noexec", "noatime", "allow_other"]) expect(m.options, o).not.toContain(o)
  })

  it("the defaults said aloud change nothing: rw, exec, atime, relatime, async, nosuid, nodev, default_permissions", () => {
    const h = w.host("said")
    w.mount(h, "rw", "exec", "atime", "relatime", "async", "nosuid", "nodev", "default_permissions")
    const m = findmnt(h.mnt)
    for (const o of ["rw", "nosuid", "nodev", "relatime", "default_permissions"]) expect(m.options, o).toContain(o)
    for (const o of ["ro", "noexec", "noatime", "sync"]) expect(m.options, o).not.toContain(o)
  })

  it("noexec: a 0755 script in the mount does not run (EACCES)", () => {
    const h = w.host("noexec")
    w.mount(h, "noexec")
    expect(findmnt(h.mnt).options).toContain("noexec")
    const script = path.join(h.mnt, "run.sh")
    fs.writeFileSync(script, "#!/bin/sh\necho ran\n", { mode: 0o755 })
    expect(fs.statSync(script).mode & 0o777).toBe(0o755)
    expect(spawnSync(script, { encoding: "utf8" }).error).toMatchObject({ code: "EACCES" })
    expect(errnoOf(() => fs.accessSync(script, fs.constants.X_OK))).toBe("EACCES")
    // it still reads, and runs from a mount without noexec
    expect(read(script)).toContain("echo ran")
    const plain = w.hosts.find((x) => x.name === "plain")!
    fs.writeFileSync(path.join(plain.mnt, "run.sh"), "#!/bin/sh\necho ran\n", { mode: 0o755 })
    expect(spawnSync(path.join(plain.mnt, "run.sh"), { encoding: "utf8" }).stdout).toBe("ran\n")
  })

  it("noatime, sync and dirsync reach the kernel, and the mount works as before", () => {
    const h = w.host("flags")
    w.mount(h, "noatime", "sync", "dirsync")
    const m = findmnt(h.mnt)
    for (const o of ["noatime", "sync", "dirsync"]) expect(m.options, o).toContain(o)
    expect(m.options).not.toContain("relatime")
    write(path.join(h.mnt, "a.txt"), "synchronous\n")
    fs.mkdirSync(path.join(h.mnt, "d"))
    expect(read(path.join(h.mnt, "a.txt"))).toBe("synchronous\n")
  })

  it("noatime, relatime and strictatime decide what reads do to the atimes stat shows", async () => {
    const hosts = { noatime: w.host("noatime"), relatime: w.host("relatime"), strictatime: w.host("strictatime") }
    const atimes: Record<string, Array<number>> = {}
    for (const [policy, h] of Object.entries(hosts)) {
      w.mount(h, policy)
      write(path.join(h.mnt, "f.txt"), "read me\n")
      atimes[policy] = [fs.statSync(path.join(h.mnt, "f.txt")).atimeMs]
    }
    // libfuse 2 hands the kernel noatime only: relatime, its default, shows for the other two
    expect(findmnt(hosts.noatime.mnt).options).toContain("noatime")
    expect(findmnt(hosts.strictatime.mnt).options).toContain("relatime")
    // the three hosts read in the same step (one wait for all three, not one each)
    for (let i = 0; i < 2; i++) {
      await sleep(1100) // past the kernel's attribute cache, and a visible step in the time
      for (const h of Object.values(hosts)) read(path.join(h.mnt, "f.txt"))
      await sleep(1100)
      for (const [policy, h] of Object.entries(hosts)) atimes[policy]!.push(fs.statSync(path.join(h.mnt, "f.txt")).atimeMs)
    }
    const moved = (ts: Array<number>) => ts.slice(1).map((t, i) => t > ts[i]!)
    // noatime never; relatime at the first read after the write, not again the same day; strict at every read
    expect(Object.fromEntries(Object.entries(atimes).map(([p, ts]) => [p, moved(ts)]))).toEqual({
      noatime: [false, false],
      relatime: [true, false],
      strictatime: [true, true]
    })
  })

  it("suid and dev (which mount.fuse adds to fstab mounts) are not honoured, and say so in one line", () => {
    const h = w.host("suid")
    const r = w.mount(h, "suid", "dev")
    expect(r.stderr).toMatch(/^sharebox: -o suid,dev not honoured: a sharebox mount is always nosuid,nodev[^\n]*\n$/)
    const m = findmnt(h.mnt)
    expect(m.options).toContain("nosuid")
    expect(m.options).toContain("nodev")
  })

  it("fsname= and subtype= are the source and type the mount table shows; commands still find the mount", () => {
    const h = w.host("named")
    w.mount(h, "fsname=my\\,box", "subtype=shared")
    const m = findmnt(h.mnt)
    expect(m.fstype).toBe("fuse.shared")
    expect(m.source).toBe("my,box")
    write(path.join(h.mnt, "f.txt"), "x\n")
    const st = sharebox(["status", h.mnt])
    expect(st.code, st.stderr).toBe(0)
    expect(st.stdout).toContain(h.gitdir)
    const where = sharebox(["whereis", path.join(h.mnt, "f.txt")])
    expect(where.code, where.stderr).toBe(0)
  })

  it("a bad value or an unknown option is one line, exit 64, and nothing is mounted", () => {
    const h = w.host("bad")
    const cases: Array<[string, RegExp]> = [
      ["uid=abc", /^sharebox: option uid needs a number: -o uid=1000\n$/],
      ["gid=-1", /^sharebox: option gid needs a number: -o gid=1000\n$/],
      ["uid=4294967295", /option uid needs a number/],
      ["umask=8", /^sharebox: option umask needs an octal number: -o umask=022\n$/],
      ["fsname=", /option fsname needs a name/],
      ["subtype=a/b", /option subtype needs a name/],
      ["ro=yes", /option ro takes no value/],
      ["snapdir=maybe", /^sharebox: option snapdir must be hidden or visible\n$/],
      ["nodiratime", /^sharebox: unknown option 'nodiratime' \(known: [^\n]*\)\n$/],
      ["frobnicate", /^sharebox: unknown option 'frobnicate'/]
    ]
    for (const [opt, message] of cases) {
      const r = sharebox([h.mnt, "-o", `gitdir=${h.gitdir},${opt}`])
      expect(r.code, opt).toBe(64)
      expect(r.stderr, opt).toMatch(message)
      expect(r.stdout, opt).toBe("")
      expect(isMounted(h.mnt), opt).toBe(false)
    }
    expect(fs.readdirSync(h.gitdir)).toEqual([])
  })

  it("snapdir: .sharebox/ is reached by name and not listed, so find goes through the files only; snapdir=visible lists it", async () => {
    const hidden = w.host("snaphidden")
    const visible = w.host("snapvisible")
    w.mount(hidden)
    w.mount(visible, "snapdir=visible")
    for (const h of [hidden, visible]) {
      fs.mkdirSync(path.join(h.mnt, "d"))
      for (let i = 0; i < 5; i++) write(path.join(h.mnt, "d", `f${i}.txt`), `${i}\n`)
      ok(sharebox(["replay", h.mnt]), "replay")
      // at/ lists one moment a second: the second version in a second of its own
      await sleep(1100)
      write(path.join(h.mnt, "d", "f0.txt"), "again\n")
      ok(sharebox(["replay", h.mnt]), "replay")
      // there by name either way: what commands and people reach
      expect(read(path.join(h.mnt, ".sharebox", "gitdir")).trim(), h.name).toBe(h.gitdir)
      expect(fs.readdirSync(path.join(h.mnt, ".sharebox")).sort(), h.name).toEqual(expect.arrayContaining(["at", "history", "status"]))
      expect(fs.readdirSync(path.join(h.mnt, ".sharebox", "history", "d", "f0.txt")), h.name).toHaveLength(2)
    }
    expect(fs.readdirSync(hidden.mnt)).toEqual(["d"])
    expect(fs.readdirSync(visible.mnt).sort()).toEqual([".sharebox", "d"])
    const found = (h: HostDirs) => ok(exec("find", [h.mnt, "-type", "f"]), "find").stdout.split("\n").filter(Boolean)
    expect(found(hidden).map((f) => path.relative(hidden.mnt, f)).sort()).toEqual([0, 1, 2, 3, 4].map((i) => `d/f${i}.txt`))
    // listed, the past trees and versions come with it: two moments of five files, six versions, and more
    const all = found(visible).map((f) => path.relative(visible.mnt, f)).sort()
    expect(all.length, all.join("\n")).toBeGreaterThan(5 + 2 * 5 + 6)
  })

  it("options for mount(8) and systemd are accepted and dropped", () => {
    const h = w.host("formount")
    w.mount(h, "_netdev", "nofail", "auto", "noauto", "user", "users", "nouser", "defaults", "x-systemd.automount", "x-gvfs-hide")
    const m = findmnt(h.mnt)
    for (const o of ["_netdev", "nofail", "user", "x-systemd.automount"]) expect(m.options, o).not.toContain(o)
    write(path.join(h.mnt, "f.txt"), "x\n")
  })
})

describe("ro: a read-only mount that still brings peers' changes", () => {
  const w = useWorld("sharebox-ro")
  let A: HostDirs
  let R: HostDirs
  const r = (p = "") => path.join(R.mnt, p)

  beforeAll(async () => {
    A = w.host("A")
    R = w.host("R")
    w.mount(A)
    w.mount(R, "ro")
    w.connectAll()
    fs.mkdirSync(path.join(A.mnt, "dir"))
    write(path.join(A.mnt, "dir", "old.txt"), "old\n")
    ok(await execAsync(BIN, ["sync", A.mnt]), "sync A")
    ok(await execAsync(BIN, ["sync", R.mnt]), "sync R")
  }, 120_000)

  it("shows ro in the mount table and reads what a peer wrote", () => {
    const m = findmnt(R.mnt)
    expect(m.options).toContain("ro")
    expect(m.options).not.toContain("rw")
    expect(read(r("dir/old.txt"))).toBe("old\n")
  })

  it("refuses every change with EROFS: write, create, mkdir, rm, rmdir, chmod, touch, rename, symlink, truncate", () => {
    const f = r("dir/old.txt")
    const refusals = {
      write: errnoOf(() => fs.appendFileSync(f, "more\n")),
      "open for writing": errnoOf(() => fs.openSync(f, "r+")),
      create: errnoOf(() => fs.writeFileSync(r("new.txt"), "x")),
      mkdir: errnoOf(() => fs.mkdirSync(r("newdir"))),
      rm: errnoOf(() => fs.unlinkSync(f)),
      rmdir: errnoOf(() => fs.rmdirSync(r("dir"))),
      chmod: errnoOf(() => fs.chmodSync(f, 0o755)),
      touch: errnoOf(() => fs.utimesSync(f, new Date(), new Date())),
      rename: errnoOf(() => fs.renameSync(f, r("dir/moved.txt"))),
      symlink: errnoOf(() => fs.symlinkSync("old.txt", r("dir/link"))),
      truncate: errnoOf(() => fs.truncateSync(f, 0))
    }
    expect(refusals).toEqual(Object.fromEntries(Object.keys(refusals).map((k) => [k, "EROFS"])))
    expect(read(f)).toBe("old\n")
    expect(fs.readdirSync(r("")).sort()).toEqual(["dir"])
    expect(fs.readdirSync(r("dir"))).toEqual(["old.txt"])
  })

  it("leaves atimes as they are, as Linux does on a read-only mount", async () => {
    const f = r("dir/old.txt")
    const before = fs.statSync(f).atimeMs
    await sleep(1100)
    read(f)
    await sleep(1100)
    expect(fs.statSync(f).atimeMs).toBe(before)
  })

  it("refuses a restore, which would change the tree, in one line", () => {
    const res = sharebox(["restore", r("dir/old.txt")])
    expect(res.code).not.toBe(0)
    expect(res.stderr).toMatch(/^sharebox: [^\n]*mounted read-only \(-o ro\)[^\n]*\n$/)
  })

  it("sync still fetches and merges a peer's new file, which then reads correctly", async () => {
    write(path.join(A.mnt, "dir", "new.txt"), "new from A\n")
    fs.unlinkSync(path.join(A.mnt, "dir", "old.txt"))
    ok(await execAsync(BIN, ["sync", A.mnt]), "sync A")
    ok(await execAsync(BIN, ["sync", R.mnt]), "sync R")
    expect(read(r("dir/new.txt"))).toBe("new from A\n")
    // the name R's kernel knew may linger for the entry timeout (1 s) after the view changed
    expect(await eventually(() => !fs.existsSync(r("dir/old.txt")), 3000)).toBe(true)
    expect(fs.readdirSync(r("dir"))).toEqual(["new.txt"])
    expect(errnoOf(() => fs.appendFileSync(r("dir/new.txt"), "more\n"))).toBe("EROFS")
  })
})

describe("uid=, gid=, umask= and allow_other: what stat shows is what the kernel enforces", () => {
  const w = useWorld("sharebox-owner")
  let own: HostDirs
  let given: HostDirs
  let masked: HostDirs

  beforeAll(() => {
    fs.chmodSync(w.root, 0o755)
    own = w.host("own")
    given = w.host("given")
    masked = w.host("masked")
    w.mount(own, "allow_other")
    w.mount(given, "uid=65534", "gid=65534", "allow_other")
    w.mount(masked, "umask=027", "allow_other")
    for (const h of [own, given, masked]) {
      write(path.join(h.mnt, "shared.txt"), "shared\n")
      fs.mkdirSync(path.join(h.mnt, "dir"))
    }
  }, 60_000)

  it("another user reads a 0644 file of an allow_other mount and cannot write it (EACCES)", () => {
    const f = path.join(own.mnt, "shared.txt")
    expect(fs.statSync(f).mode & 0o777).toBe(0o644)
    expect(errnoAsNobody("fs.readFileSync(f)", f)).toBe("ok")
    expect(errnoAsNobody("fs.appendFileSync(f, 'theirs')", f)).toBe("EACCES")
    expect(errnoAsNobody("fs.writeFileSync(f + '.new', 'theirs')", f)).toBe("EACCES")
    expect(errnoAsNobody("fs.unlinkSync(f)", f)).toBe("EACCES")
    expect(errnoAsNobody("fs.chmodSync(f, 0o666)", f)).toBe("EPERM")
    expect(read(f)).toBe("shared\n")
  })

  it("another user cannot read a file chmod 600 made private", () => {
    const f = path.join(own.mnt, "secret.txt")
    write(f, "secret\n")
    fs.chmodSync(f, 0o600)
    expect(fs.statSync(f).mode & 0o777).toBe(0o600)
    expect(errnoAsNobody("fs.readFileSync(f)", f)).toBe("EACCES")
    expect(read(f)).toBe("secret\n")
  })

  it("uid=65534,gid=65534: stat shows them, and that user writes the 0644 files it owns", () => {
    const f = path.join(given.mnt, "shared.txt")
    const st = fs.statSync(f)
    expect([st.uid, st.gid, st.mode & 0o777]).toEqual([65534, 65534, 0o644])
    const root = fs.statSync(given.mnt)
    expect([root.uid, root.gid]).toEqual([65534, 65534])
    const virtual = fs.statSync(path.join(given.mnt, ".sharebox", "status"))
    expect([virtual.uid, virtual.gid]).toEqual([65534, 65534])
    expect(errnoAsNobody("fs.appendFileSync(f, 'by nobody\\n')", f)).toBe("ok")
    expect(errnoAsNobody("fs.writeFileSync(f.replace('shared', 'dir/made'), 'made by nobody\\n')", f)).toBe("ok")
    expect(read(f)).toBe("shared\nby nobody\n")
    expect(read(path.join(given.mnt, "dir", "made.txt"))).toBe("made by nobody\n")
    const made = fs.statSync(path.join(given.mnt, "dir", "made.txt"))
    expect([made.uid, made.gid]).toEqual([65534, 65534])
  })

  it("chown to the owner shown is allowed, to any other owner EPERM", () => {
    const f = path.join(given.mnt, "shared.txt")
    expect(errnoOf(() => fs.chownSync(f, 65534, 65534))).toBe("ok")
    expect(errnoOf(() => fs.chownSync(f, 0, 0))).toBe("EPERM")
    expect(errnoOf(() => fs.chownSync(f, 1000, -1))).toBe("EPERM")
    expect(errnoOf(() => fs.chownSync(path.join(own.mnt, "shared.txt"), 65534, -1))).toBe("EPERM")
    expect(errnoOf(() => fs.chownSync(path.join(own.mnt, "shared.txt"), process.getuid!(), process.getgid!()))).toBe("ok")
  })

  it("a chown the binding answers (a name it knows, a file it just created and holds open) answers as the daemon's: the owner kept, any other EPERM", () => {
    const made = path.join(given.mnt, "dir", "chowned.txt")
    const fd = fs.openSync(made, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o644)
    try {
      fs.writeSync(fd, "made\n")
      expect(errnoOf(() => fs.fchownSync(fd, 65534, 65534))).toBe("ok")
      expect(errnoOf(() => fs.fchownSync(fd, -1, 65534))).toBe("ok")
      expect(errnoOf(() => fs.fchownSync(fd, 0, -1))).toBe("EPERM")
      expect(errnoOf(() => fs.fchownSync(fd, -1, 0))).toBe("EPERM")
    } finally {
      fs.closeSync(fd)
    }
    expect(errnoOf(() => fs.chownSync(made, 65534, -1))).toBe("ok")
    expect(errnoOf(() => fs.chownSync(path.join(given.mnt, "dir"), 0, 0))).toBe("EPERM")
    expect(errnoOf(() => fs.chownSync(path.join(given.mnt, "dir", "missing.txt"), 65534, 65534))).toBe("ENOENT")
    // the root and the virtual folder are answered by the daemon, as before
    expect(errnoOf(() => fs.chownSync(given.mnt, 65534, 65534))).toBe("ok")
    expect(errnoOf(() => fs.chownSync(given.mnt, 0, -1))).toBe("EPERM")
    const st = fs.statSync(made)
    expect([st.uid, st.gid]).toEqual([65534, 65534])
    expect(read(made)).toBe("made\n")
  })

  it("umask=027: every mode shown loses those bits, and another user gets nothing", () => {
    const modeOf = (p: string) => fs.lstatSync(path.join(masked.mnt, p)).mode & 0o777
    expect([modeOf(""), modeOf("shared.txt"), modeOf("dir"), modeOf(".sharebox"), modeOf(".sharebox/status")]).toEqual([0o750, 0o640, 0o750, 0o550, 0o440])
    fs.writeFileSync(path.join(masked.mnt, "script.sh"), "#!/bin/sh\n", { mode: 0o755 })
    expect(modeOf("script.sh")).toBe(0o750)
    expect(errnoAsNobody("fs.readFileSync(f)", path.join(masked.mnt, "shared.txt"))).toBe("EACCES")
    expect(errnoAsNobody("fs.readdirSync(f)", masked.mnt)).toBe("EACCES")
  })
})
