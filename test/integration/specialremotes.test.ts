/**
 * Special remotes a peer made: a host enables at its sync those git-annex can enable from its
 * branch alone (here an rsync remote), and reads content from them with no peer online; for one
 * that needs a person (a directory remote: where the disk is mounted is each host's own), the sync
 * says once the exact command.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { git, read, sharebox, useWorld, write } from "./harness.js"

describe("special remotes", () => {
  const w = useWorld("sharebox-special")

  it("an rsync remote made on A is enabled by B's sync and serves B when A is away; a directory remote gets one line with the command", async () => {
    const [A, B] = w.pair()
    const rs = path.join(w.root, "rsync-remote")
    const usb = path.join(w.root, "usb")
    fs.mkdirSync(rs)
    fs.mkdirSync(usb)
    for (const args of [
      ["annex", "initremote", "rs", "type=rsync", `rsyncurl=${rs}`, "encryption=none"],
      ["annex", "initremote", "usb", "type=directory", `directory=${usb}`, "encryption=none"]
    ]) {
      const r = git(A.gitdir, args)
      expect(r.code, r.stderr).toBe(0)
    }
    write(path.join(A.mnt, "kept.txt"), "on the rsync remote\n")
    expect(w.sync(A).code).toBe(0)
    const copy = git(A.gitdir, ["annex", "copy", "--all", "--to", "rs"])
    expect(copy.code, copy.stderr).toBe(0)
    expect(w.sync(A).code).toBe(0)

    const first = w.sync(B)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stderr).toContain("enabled special remote rs (rsync)")
    expect(first.stderr).toContain(`special remote usb (directory) is not enabled here: it needs where the directory is on this host; to enable it: git -C ${B.gitdir} annex enableremote usb directory=/PATH/ON/THIS/HOST`)
    expect(git(B.gitdir, ["config", "remote.rs.annex-uuid"]).code).toBe(0)
    // said once: the next sync is quiet
    const second = w.sync(B)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stderr).toBe("")

    // A goes away: B reads the content from the rsync remote
    await w.whileAway(A, () => expect(read(path.join(B.mnt, "kept.txt"))).toBe("on the rsync remote\n"))
  }, 180_000)

  it("the command line names a peer's odd remote name quoted for a shell", () => {
    const h = w.host("C")
    w.mount(h)
    const dir = path.join(w.root, "odd")
    fs.mkdirSync(dir)
    const D = w.host("D")
    w.mount(D)
    git(h.gitdir, ["remote", "add", "D", D.gitdir])
    const r = git(D.gitdir, ["annex", "initremote", "it's here", "type=directory", `directory=${dir}`, "encryption=none"])
    expect(r.code, r.stderr).toBe(0)
    write(path.join(D.mnt, "x.txt"), "x\n")
    expect(sharebox(["sync", D.mnt]).code).toBe(0)
    const s = w.sync(h)
    expect(s.code, s.stderr).toBe(0)
    expect(s.stderr).toContain(`annex enableremote 'it'\\''s here' directory=/PATH/ON/THIS/HOST`)
  }, 120_000)
})
