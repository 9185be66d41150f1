/**
 * Modes are kept and synced: a file's and a directory's permission bits and sticky bit, as chmod,
 * open(O_CREAT, mode) and mkdir(mode) gave them (the caller's umask applied), shown by stat on every
 * host and after a remount; git's own 100644/100755 stays what stock git-annex expects.
 * Set-user-ID and set-group-ID are refused.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { type HostDirs, eventually, exec, git, sh, useWorld, write } from "./harness.js"

const ok = (r: { code: number; stderr: string }, what: string) => expect(r.code, `${what}: ${r.stderr}`).toBe(0)
const modeOf = (p: string): number => fs.statSync(p).mode & 0o7777
const octal = (m: number): string => m.toString(8).padStart(4, "0")
const errnoOf = (f: () => void): string | undefined => {
  try {
    f()
    return undefined
  } catch (e: any) {
    return e.code
  }
}

describe("modes", () => {
  const w = useWorld("sharebox-modes")
  let A: HostDirs
  let B: HostDirs
  const at = (h: HostDirs, p: string) => path.join(h.mnt, p)

  beforeAll(() => {
    ;[A, B] = w.pair()
  }, 60_000)

  it("chmod keeps every permission bit of files and directories; creates and mkdir keep their mode, the umask applied", () => {
    write(at(A, "secret.key"), "key\n")
    fs.chmodSync(at(A, "secret.key"), 0o600)
    expect(octal(modeOf(at(A, "secret.key")))).toBe("0600")
    write(at(A, "run.sh"), "#!/bin/sh\necho ran\n")
    fs.chmodSync(at(A, "run.sh"), 0o750)
    expect(octal(modeOf(at(A, "run.sh")))).toBe("0750")
    for (const m of [0o111, 0o222, 0o444, 0o000, 0o604]) {
      fs.chmodSync(at(A, "secret.key"), m)
      expect(octal(modeOf(at(A, "secret.key")))).toBe(octal(m))
    }
    fs.chmodSync(at(A, "secret.key"), 0o600)
    // the shell's umask reaches the mount through the kernel
    ok(sh(`umask 077 && echo x > ${JSON.stringify(at(A, "umasked.txt"))} && mkdir ${JSON.stringify(at(A, "umasked-dir"))}`), "umask 077")
    expect(octal(modeOf(at(A, "umasked.txt")))).toBe("0600")
    expect(octal(modeOf(at(A, "umasked-dir")))).toBe("0700")
    const fd = fs.openSync(at(A, "created.txt"), fs.constants.O_CREAT | fs.constants.O_WRONLY | fs.constants.O_EXCL, 0o640)
    fs.writeSync(fd, "created\n")
    fs.closeSync(fd)
    expect(octal(modeOf(at(A, "created.txt")))).toBe("0640")
    fs.mkdirSync(at(A, "private"), { mode: 0o700 })
    expect(octal(modeOf(at(A, "private")))).toBe("0700")
    fs.mkdirSync(at(A, "shared"))
    fs.chmodSync(at(A, "shared"), 0o1777)
    expect(octal(modeOf(at(A, "shared")))).toBe("1777")
    // an existing file opened with O_CREAT keeps its mode
    fs.writeFileSync(at(A, "secret.key"), "key 2\n", { mode: 0o666 })
    expect(octal(modeOf(at(A, "secret.key")))).toBe("0600")
  })

  it("set-user-ID and set-group-ID are refused (EPERM), and nothing changes", () => {
    expect(errnoOf(() => fs.chmodSync(at(A, "run.sh"), 0o4755))).toBe("EPERM")
    expect(errnoOf(() => fs.chmodSync(at(A, "shared"), 0o2775))).toBe("EPERM")
    expect(octal(modeOf(at(A, "run.sh")))).toBe("0750")
    expect(octal(modeOf(at(A, "shared")))).toBe("1777")
    // the mount's root is the mount's: its mode stays 0755
    expect(errnoOf(() => fs.chmodSync(A.mnt, 0o700))).toBe("EPERM")
    expect(errnoOf(() => fs.chmodSync(A.mnt, 0o755))).toBeUndefined()
  })

  it("git keeps the executable bit as stock git-annex expects; the other bits travel in the markers", () => {
    ok(w.sync(A), "sync A")
    const ls = git(A.gitdir, ["ls-tree", "HEAD", "secret.key", "run.sh"]).stdout
    expect(ls).toMatch(/^120000 blob \S+\tsecret\.key$/m) // a locked annexed file
    expect(ls).toMatch(/^100755 blob \S+\trun\.sh$/m) // an unlocked, executable one
    const marker = git(A.gitdir, ["show", "HEAD:.shareboxdir"]).stdout
    expect(marker).toContain("/mode\t0600\tsecret.key\n")
    expect(marker).toContain("/mode\t0700\tprivate\n")
  })

  it("a peer shows the same modes after a sync", () => {
    ok(w.sync(B), "sync B")
    expect(octal(modeOf(at(B, "secret.key")))).toBe("0600")
    expect(octal(modeOf(at(B, "run.sh")))).toBe("0750")
    expect(octal(modeOf(at(B, "private")))).toBe("0700")
    expect(octal(modeOf(at(B, "shared")))).toBe("1777")
    expect(octal(modeOf(at(B, "created.txt")))).toBe("0640")
    expect(fs.readFileSync(at(B, "secret.key"), "utf8")).toBe("key 2\n")
    const r = exec(at(B, "run.sh"), [])
    expect(r.stdout).toBe("ran\n")
  })

  it("a chmod on one host and an edit on the other, both offline: both apply everywhere", async () => {
    write(at(A, "notes.txt"), "first\n")
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    fs.chmodSync(at(A, "notes.txt"), 0o600)
    fs.chmodSync(at(A, "private"), 0o750)
    write(at(B, "notes.txt"), "edited on B\n")
    ok(w.sync(A), "sync A")
    ok(w.sync(B), "sync B")
    ok(w.sync(A), "sync A again")
    for (const h of [A, B]) {
      expect(fs.readFileSync(at(h, "notes.txt"), "utf8"), h.name).toBe("edited on B\n")
      expect(octal(modeOf(at(h, "notes.txt"))), h.name).toBe("0600")
      expect(octal(modeOf(at(h, "private"))), h.name).toBe("0750")
    }
    expect(fs.readdirSync(A.mnt).filter((n) => n.includes("conflict"))).toEqual([])
  })

  it("modes survive a remount", async () => {
    w.unmount(A)
    expect(await w.settled(A)).toBe(true)
    w.mount(A)
    expect(await eventually(() => fs.existsSync(at(A, "secret.key")))).toBe(true)
    expect(octal(modeOf(at(A, "secret.key")))).toBe("0600")
    expect(octal(modeOf(at(A, "private")))).toBe("0750")
    expect(octal(modeOf(at(A, "shared")))).toBe("1777")
    expect(octal(modeOf(at(A, "umasked-dir")))).toBe("0700")
  })
})
