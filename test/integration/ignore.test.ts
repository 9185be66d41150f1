/**
 * `.shareboxignore` end to end, on two real hosts: ignored paths stay on the host that made them
 * (never journalled, committed or synced, kept across a remount), the rule file itself travels and
 * holds on the peer too, a shared path that becomes ignored keeps its content on both hosts and its
 * history, renames across the boundary keep content, a rule removed shares again, status counts
 * the paths, and hostile rule files from a peer neither crash nor brick the host.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import fc from "fast-check"
import { beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, eventually, git, read, sharebox, sleep, statusValue, useWorld, write } from "./harness.js"

const at = (h: HostDirs, p: string) => path.join(h.mnt, p)
const put = (h: HostDirs, p: string, s: string | Buffer) => {
  fs.mkdirSync(path.dirname(at(h, p)), { recursive: true })
  fs.writeFileSync(at(h, p), s)
}
const exists = (h: HostDirs, p: string): boolean => fs.existsSync(at(h, p))
const localStore = (h: HostDirs, p: string) => path.join(h.gitdir, ".git", "sharebox", "local", p)

/** Every path any commit of any branch touched. */
const historyPaths = (h: HostDirs): string => git(h.gitdir, ["log", "--all", "--stat=1000", "--format="]).stdout
const trackedPaths = (h: HostDirs): Array<string> => git(h.gitdir, ["ls-files"]).stdout.split("\n").filter(Boolean)

describe(".shareboxignore: paths kept on this host only", () => {
  const w = useWorld("sharebox-ignore", 120_000)
  let A: HostDirs
  let B: HostDirs
  const sync = (h: HostDirs) => {
    const r = w.sync(h)
    expect(r.code, `sync ${h.name}: ${r.stderr}`).toBe(0)
  }
  const both = () => {
    sync(A)
    sync(B)
    sync(A)
  }
  /** The rules hold for MOVE_QUIET_MS (src/fuse/crossing.ts) before shared paths move; then write-back. */
  const moved = () => sleep(4000)

  beforeAll(() => {
    ;[A, B] = w.pair()
  })

  it("ignored files written on A never reach B or A's history and survive a remount; the rules reach B and hold there", async () => {
    put(A, ".shareboxignore", "node_modules/\n*.swp\n")
    put(A, "node_modules/pkg/index.js", "module.exports = 1\n")
    put(A, "node_modules/pkg/lib/deep.js", "deep\n")
    put(A, "notes.txt.swp", "swap of A\n")
    put(A, "src/main.ts", "shared code\n")
    put(A, "src/.main.ts.swp", "swap below a shared folder\n")
    expect(read(at(A, "node_modules/pkg/index.js"))).toBe("module.exports = 1\n")
    expect(fs.readdirSync(at(A, "src")).sort()).toEqual([".main.ts.swp", "main.ts"])
    expect(read(localStore(A, "node_modules/pkg/lib/deep.js"))).toBe("deep\n")
    both()
    expect(read(at(B, ".shareboxignore"))).toBe("node_modules/\n*.swp\n")
    expect(read(at(B, "src/main.ts"))).toBe("shared code\n")
    expect(exists(B, "node_modules")).toBe(false)
    expect(exists(B, "notes.txt.swp")).toBe(false)
    expect(exists(B, "src/.main.ts.swp")).toBe(false)
    const history = historyPaths(A)
    expect(history).toContain("src/main.ts")
    expect(history).not.toContain("node_modules")
    expect(history).not.toContain(".swp")
    // plain git in the gitdir sees none of them either
    expect(git(A.gitdir, ["status", "--porcelain", "--ignored"]).stdout).toBe("")

    // B's own matching files stay on B
    put(B, "node_modules/b-only.js", "B's module\n")
    put(B, "draft.swp", "swap of B\n")
    both()
    expect(exists(A, "node_modules/b-only.js")).toBe(false)
    expect(exists(A, "draft.swp")).toBe(false)
    expect(historyPaths(B)).not.toContain(".swp")
    expect(read(at(B, "node_modules/b-only.js"))).toBe("B's module\n")

    // a remount keeps them
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    w.mount(A)
    expect(read(at(A, "node_modules/pkg/index.js"))).toBe("module.exports = 1\n")
    expect(read(at(A, "notes.txt.swp"))).toBe("swap of A\n")
    expect(fs.readdirSync(at(A, "node_modules/pkg")).sort()).toEqual(["index.js", "lib"])
  })

  it("counts the paths kept here in sharebox status and .sharebox/status", () => {
    // node_modules, pkg, index.js, lib, deep.js, notes.txt.swp, src/.main.ts.swp
    expect(statusValue(A, "ignored")).toBe("7")
    const r = sharebox(["status", "--json", A.mnt])
    expect(r.code, r.stderr).toBe(0)
    expect((JSON.parse(r.stdout) as { ignored: number }).ignored).toBe(7)
    const text = sharebox(["status", B.mnt])
    expect(text.stdout).toMatch(/^ignored: +3 path\(s\)/m)
  })

  it("a file the binding or the handlers create, write, truncate, chmod, rename and remove behaves as on a plain folder", () => {
    const f = at(A, "node_modules/pkg/tmp.js")
    fs.writeFileSync(f, "0123456789")
    fs.truncateSync(f, 4)
    fs.appendFileSync(f, "!")
    expect(read(f)).toBe("0123!")
    fs.chmodSync(f, 0o600)
    expect(fs.statSync(f).mode & 0o777).toBe(0o600)
    // chown keeps the owner or is refused, as for a shared file (the binding answers it: the name is in its table)
    fs.chownSync(f, process.getuid!(), -1)
    expect(() => fs.chownSync(f, 65534, -1)).toThrow(/EPERM/)
    fs.symlinkSync("index.js", at(A, "node_modules/pkg/link.js"))
    expect(fs.readlinkSync(at(A, "node_modules/pkg/link.js"))).toBe("index.js")
    expect(read(at(A, "node_modules/pkg/link.js"))).toBe("module.exports = 1\n")
    fs.renameSync(f, at(A, "node_modules/pkg/tmp2.js"))
    expect(read(at(A, "node_modules/pkg/tmp2.js"))).toBe("0123!")
    fs.unlinkSync(at(A, "node_modules/pkg/tmp2.js"))
    fs.unlinkSync(at(A, "node_modules/pkg/link.js"))
    fs.mkdirSync(at(A, "node_modules/empty"))
    fs.rmdirSync(at(A, "node_modules/empty"))
    expect(() => fs.rmdirSync(at(A, "node_modules/pkg"))).toThrow(/ENOTEMPTY/)
    expect(fs.readdirSync(at(A, "node_modules/pkg")).sort()).toEqual(["index.js", "lib"])
    expect(git(A.gitdir, ["status", "--porcelain"]).stdout).toBe("")
  })

  it("a rename from an ignored name to a shared one shares the content; the reverse keeps it here only", async () => {
    put(A, "report.swp", "written as a swap file\n")
    fs.renameSync(at(A, "report.swp"), at(A, "report.txt"))
    put(A, "keep.txt", "shared, then kept here\n")
    both()
    expect(read(at(B, "report.txt"))).toBe("written as a swap file\n")
    expect(read(at(B, "keep.txt"))).toBe("shared, then kept here\n")
    fs.renameSync(at(A, "keep.txt"), at(A, "keep.swp"))
    expect(read(at(A, "keep.swp"))).toBe("shared, then kept here\n")
    expect(read(localStore(A, "keep.swp"))).toBe("shared, then kept here\n")
    both()
    expect(exists(B, "keep.txt")).toBe(false)
    expect(exists(B, "keep.swp")).toBe(false)
    expect(read(at(A, "keep.swp"))).toBe("shared, then kept here\n")
    expect(historyPaths(A)).toContain("keep.txt")
  })

  it("a shared file that becomes ignored keeps its content on both hosts and its history", async () => {
    put(A, "logs/app.log", "log line\n")
    both()
    expect(read(at(B, "logs/app.log"))).toBe("log line\n") // B now has the content
    put(A, ".shareboxignore", "node_modules/\n*.swp\n*.log\n")
    await moved()
    both()
    expect(await eventually(() => exists(B, "logs/app.log"))).toBe(true)
    for (const h of [A, B]) {
      expect(read(at(h, "logs/app.log")), h.name).toBe("log line\n")
      expect(trackedPaths(h), h.name).not.toContain("logs/app.log")
      expect(historyPaths(h), h.name).toContain("logs/app.log")
    }
    expect(fs.existsSync(localStore(B, "logs/app.log"))).toBe(true)
  })

  it("a rule removed shares the files it kept, from every host", async () => {
    put(A, ".shareboxignore", "node_modules/\n*.log\n")
    await moved()
    both()
    await moved()
    both()
    expect(read(at(B, "notes.txt.swp"))).toBe("swap of A\n")
    expect(read(at(A, "draft.swp"))).toBe("swap of B\n")
    expect(trackedPaths(A)).toContain("notes.txt.swp")
    expect(exists(B, "node_modules/pkg")).toBe(false)
  })

  it("hostile rule files from a peer (huge, many rules, not UTF-8, with ..) neither crash nor brick the host", async () => {
    put(B, "huge/.shareboxignore", "*\n".repeat(100_000))
    put(B, "huge/kept.txt", "still shared\n")
    put(B, "many/.shareboxignore", Array.from({ length: 2000 }, (_, i) => `f${i}`).join("\n") + "\n*\n")
    put(B, "many/kept.txt", "still shared\n")
    put(B, "odd/.shareboxignore", Buffer.concat([Buffer.from([0xff, 0xfe, 0x80, 0x0a]), Buffer.from("../*\n/../x\n..\n[z-a]\n\\\n!\na/**/b\nodd.bin\n")]))
    put(B, "odd/odd.bin", "ignored by a rule after the bad bytes\n")
    put(B, "odd/fine.txt", "shared\n")
    both()
    await moved()
    expect(read(at(A, "huge/kept.txt"))).toBe("still shared\n")
    expect(read(at(A, "many/kept.txt"))).toBe("still shared\n")
    expect(read(at(A, "odd/fine.txt"))).toBe("shared\n")
    expect(exists(A, "odd/odd.bin")).toBe(false)
    // the rule after the bad bytes holds on A too
    put(A, "odd/odd.bin", "A's own\n")
    expect(read(localStore(A, "odd/odd.bin"))).toBe("A's own\n")
    // still serving, still syncing
    put(A, "after.txt", "after the hostile rules\n")
    both()
    expect(read(at(B, "after.txt"))).toBe("after the hostile rules\n")
    expect(await eventually(() => read(path.join(A.gitdir, ".git", "sharebox", "daemon.log")).includes("huge/.shareboxignore is not used"))).toBe(true)
  })
})

/**
 * An ignored folder behaves as a plain one: random sequences of file operations applied to
 * `node_modules/` in a mount and to a folder on the disk give the same outcomes (success or the
 * same error code) and leave the same tree (names, types, modes, content, link targets).
 */
describe(".shareboxignore: an ignored folder behaves as a plain folder", () => {
  const w = useWorld("sharebox-ignore-model")
  let A: HostDirs
  let plain: string

  beforeAll(() => {
    A = w.host("A")
    w.mount(A)
    fs.writeFileSync(at(A, ".shareboxignore"), "node_modules/\n")
    plain = path.join(w.root, "plain")
  })

  const names = ["a", "b", "d/a", "d/e", "d/e/f"]
  type Op =
    | { readonly op: "write" | "append"; readonly p: string; readonly data: string }
    | { readonly op: "truncate"; readonly p: string; readonly size: number }
    | { readonly op: "mkdir" | "rmdir" | "unlink" | "read" | "readdir"; readonly p: string }
    | { readonly op: "rename"; readonly p: string; readonly to: string }
    | { readonly op: "symlink"; readonly p: string; readonly target: string }
    | { readonly op: "chmod"; readonly p: string; readonly mode: number }
  const name = fc.constantFrom(...names)
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constantFrom("write" as const, "append" as const), p: name, data: fc.string({ maxLength: 20 }) }),
    fc.record({ op: fc.constant("truncate" as const), p: name, size: fc.nat(30) }),
    fc.record({ op: fc.constantFrom("mkdir" as const, "rmdir" as const, "unlink" as const, "read" as const, "readdir" as const), p: name }),
    fc.record({ op: fc.constant("rename" as const), p: name, to: name }),
    fc.record({ op: fc.constant("symlink" as const), p: name, target: fc.constantFrom("a", "../b", "nowhere") }),
    fc.record({ op: fc.constant("chmod" as const), p: name, mode: fc.constantFrom(0o600, 0o644, 0o755, 0o700) })
  )

  /** What an operation gave: its result, or its error's code. */
  const apply = (root: string, o: Op): string => {
    const f = path.join(root, o.p)
    try {
      switch (o.op) {
        case "write":
          fs.writeFileSync(f, o.data)
          return "ok"
        case "append":
          fs.appendFileSync(f, o.data)
          return "ok"
        case "truncate":
          fs.truncateSync(f, o.size)
          return "ok"
        case "mkdir":
          fs.mkdirSync(f)
          return "ok"
        case "rmdir":
          fs.rmdirSync(f)
          return "ok"
        case "unlink":
          fs.unlinkSync(f)
          return "ok"
        case "read":
          return fs.readFileSync(f, "utf8")
        case "readdir":
          return fs.readdirSync(f).sort().join(",")
        case "rename":
          fs.renameSync(f, path.join(root, o.to))
          return "ok"
        case "symlink":
          fs.symlinkSync(o.target, f)
          return "ok"
        case "chmod":
          fs.chmodSync(f, o.mode)
          return "ok"
      }
    } catch (e: unknown) {
      return (e as { code?: string }).code ?? String(e)
    }
  }

  /** The tree below `root`, as a listing with each entry's type, mode and content or target. */
  const tree = (root: string, dir = ""): Array<string> =>
    fs.readdirSync(path.join(root, dir)).sort().flatMap((n) => {
      const p = dir === "" ? n : `${dir}/${n}`
      const st = fs.lstatSync(path.join(root, p))
      if (st.isDirectory()) return [`${p}/ ${(st.mode & 0o7777).toString(8)}`, ...tree(root, p)]
      if (st.isSymbolicLink()) return [`${p} -> ${fs.readlinkSync(path.join(root, p))}`]
      return [`${p} ${(st.mode & 0o7777).toString(8)} ${JSON.stringify(fs.readFileSync(path.join(root, p), "utf8"))} ${st.size}`]
    })

  it("random operations give the same outcomes and the same tree as on the disk", () => {
    let run = 0
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 25 }), (ops) => {
        const mine = at(A, "node_modules")
        const theirs = plain
        for (const d of [mine, theirs]) {
          fs.rmSync(d, { recursive: true, force: true })
          fs.mkdirSync(d)
        }
        run++
        for (const o of ops) expect([run, o, apply(mine, o)]).toEqual([run, o, apply(theirs, o)])
        expect(tree(mine)).toEqual(tree(theirs))
      }),
      { numRuns: 40 }
    )
    // none of it reached the journal or history
    expect(sharebox(["log", A.mnt]).stdout).not.toContain("node_modules")
    expect(historyPaths(A)).not.toContain("node_modules")
  })
})

describe(".shareboxignore: ignored paths below shared folders", () => {
  const w = useWorld("sharebox-ignore-shadow")
  let A: HostDirs

  beforeAll(() => {
    A = w.host("A")
    w.mount(A)
    fs.writeFileSync(at(A, ".shareboxignore"), "node_modules/\n")
  })

  it("move with their shared folder's rename and go with its removal", () => {
    put(A, "proj/a.txt", "shared\n")
    put(A, "proj/node_modules/m.js", "local\n")
    expect(fs.readdirSync(at(A, "proj")).sort()).toEqual(["a.txt", "node_modules"])
    fs.renameSync(at(A, "proj"), at(A, "proj2"))
    expect(read(at(A, "proj2/node_modules/m.js"))).toBe("local\n")
    expect(read(at(A, "proj2/a.txt"))).toBe("shared\n")
    expect(fs.existsSync(localStore(A, "proj"))).toBe(false)
    expect(read(localStore(A, "proj2/node_modules/m.js"))).toBe("local\n")
    fs.rmSync(at(A, "proj2"), { recursive: true })
    expect(fs.existsSync(at(A, "proj2"))).toBe(false)
    expect(fs.existsSync(localStore(A, "proj2"))).toBe(false)
    expect(statusValue(A, "ignored")).toBe("0")
  })
})
