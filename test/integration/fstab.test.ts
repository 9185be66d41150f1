/**
 * An fstab line of type fuse.sharebox mounts with mount(8), for real: mount(8) runs fuse3's
 * mount.fuse, which runs `sharebox SOURCE MOUNTPOINT -o OPTIONS` through /bin/sh, found on the
 * shell's own PATH (mount(8) clears the caller's). That is where an installed sharebox is: the test
 * puts one there (a link to this checkout's bin/sharebox in /usr/local/sbin) in a mount namespace
 * of its own, so nothing outside it changes, and runs every step in that namespace.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { BIN, type HostDirs, type Run, daemonPids, eventually, exec, git, useWorld } from "./harness.js"

describe("an fstab line mounts with mount(8)", () => {
  const w = useWorld("sharebox-fstab")
  /** the process holding the mount namespace the steps run in */
  let holder: number
  let h: HostDirs
  let fstab: string

  /** Runs a command in the test's mount namespace. */
  const inNs = (cmd: string, args: ReadonlyArray<string>): Run => exec("nsenter", ["-t", String(holder), "-m", "--", cmd, ...args])
  /** A path as the namespace sees it. */
  const seen = (p: string) => `/proc/${holder}/root${p}`
  const mounted = (mnt: string) => inNs("findmnt", ["-n", "-r", "-o", "OPTIONS,FSTYPE,SOURCE", mnt])

  beforeAll(async () => {
    h = w.host("box")
    fstab = path.join(w.root, "fstab")
    const child = spawn(
      "unshare",
      ["--mount", "--propagation", "private", "--", "sh", "-c", 'mount -t tmpfs sharebox-bin /usr/local/sbin && ln -s "$1" /usr/local/sbin/sharebox && echo ready && exec sleep 3600', "sh", BIN],
      { stdio: ["ignore", "pipe", "inherit"], detached: true }
    )
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d) => String(d).includes("ready") && resolve())
      child.on("exit", (code) => reject(new Error(`unshare exited (${code}) before its namespace was ready`)))
    })
    holder = child.pid!
    child.unref()
  }, 30_000)

  afterAll(async () => {
    // whatever a failed step left mounted in the namespace, and then the namespace itself
    if (holder) {
      inNs("umount", ["-l", h.mnt])
      await eventually(() => daemonPids(h.gitdir).length === 0, 15_000)
      for (const pid of daemonPids(h.gitdir)) process.kill(pid, "SIGKILL")
      process.kill(holder, "SIGKILL")
    }
  }, 30_000)

  it("finds sharebox where mount.fuse's shell looks, and nowhere in the namespace outside it", () => {
    const r = inNs("env", ["-i", "/bin/sh", "-c", "command -v sharebox"])
    expect(r.stdout.trim()).toBe("/usr/local/sbin/sharebox")
    expect(fs.existsSync("/usr/local/sbin/sharebox")).toBe(false)
  })

  it("`mount MNT` mounts the line's gitdir: type fuse.sharebox, its options, the source it names", () => {
    fs.writeFileSync(fstab, `# a test fstab\n${h.gitdir} ${h.mnt} fuse.sharebox gitdir=${h.gitdir},_netdev,nofail,noatime,noexec,nosuid,nodev,x-systemd.automount 0 0\n`)
    const r = inNs("mount", ["-T", fstab, h.mnt])
    expect(r.code, r.stderr).toBe(0)
    // nosuid,nodev said, so mount.fuse adds no suid,dev and sharebox has nothing to warn about
    expect(r.stderr).toBe("")
    const m = mounted(h.mnt)
    expect(m.code, m.stderr).toBe(0)
    const [options, fstype, source] = m.stdout.trim().split(" ")
    expect(fstype).toBe("fuse.sharebox")
    expect(source).toBe(h.gitdir)
    for (const o of ["rw", "noatime", "noexec", "nosuid", "nodev", "default_permissions"]) expect(options!.split(","), o).toContain(o)
  })

  it("the mount works, and `mount -a` sees it mounted (its source is the line's)", () => {
    fs.writeFileSync(seen(path.join(h.mnt, "from-fstab.txt")), "mounted by mount(8)\n")
    expect(fs.readFileSync(seen(path.join(h.mnt, "from-fstab.txt")), "utf8")).toBe("mounted by mount(8)\n")
    const again = inNs("mount", ["-a", "-T", fstab])
    expect(again.code, again.stderr).toBe(0)
    expect(inNs("findmnt", ["-n", "-o", "TARGET", h.mnt]).stdout.trim().split("\n")).toEqual([h.mnt])
  })

  it("umount unmounts it, the daemon ends, and what was written is in the gitdir", async () => {
    const pids = daemonPids(h.gitdir)
    expect(pids).toHaveLength(1)
    const r = inNs("umount", [h.mnt])
    expect(r.code, r.stderr).toBe(0)
    expect(mounted(h.mnt).code).not.toBe(0)
    expect(await eventually(() => daemonPids(h.gitdir).length === 0, 15_000)).toBe(true)
    expect(await w.settled(h)).toBe(true)
    expect(git(h.gitdir, ["ls-files"]).stdout.split("\n")).toContain("from-fstab.txt")
    expect(fs.readFileSync(path.join(h.gitdir, "from-fstab.txt"), "utf8")).toBe("mounted by mount(8)\n")
  })

  it("a line without nosuid,nodev mounts too (mount.fuse adds suid,dev, which sharebox names in one line and does not honour)", async () => {
    fs.writeFileSync(fstab, `${h.gitdir} ${h.mnt} fuse.sharebox gitdir=${h.gitdir},_netdev,nofail 0 0\n`)
    const r = inNs("mount", ["-T", fstab, h.mnt])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/^sharebox: -o dev,suid not honoured[^\n]*\n$/)
    const options = mounted(h.mnt).stdout.trim().split(" ")[0]!.split(",")
    expect(options).toContain("nosuid")
    expect(options).toContain("nodev")
    expect(inNs("umount", [h.mnt]).code).toBe(0)
    expect(await eventually(() => daemonPids(h.gitdir).length === 0, 15_000)).toBe(true)
  })

  it("a line whose source and gitdir= disagree, or whose source is no folder, is refused in one line", () => {
    const other = path.join(w.root, "other")
    fs.mkdirSync(other)
    for (const [line, message] of [
      [`${other} ${h.mnt} fuse.sharebox gitdir=${h.gitdir} 0 0`, /^sharebox: the source \S+ and -o gitdir=\S+ are different folders: name the gitdir once\n$/],
      [`${path.join(w.root, "missing")} ${h.mnt} fuse.sharebox defaults 0 0`, /^sharebox: source \S+ is not a directory[^\n]*\n$/]
    ] as const) {
      fs.writeFileSync(fstab, line + "\n")
      const r = inNs("mount", ["-T", fstab, h.mnt])
      expect(r.code, line).not.toBe(0)
      expect(r.stderr, line).toMatch(message)
      expect(mounted(h.mnt).code, line).not.toBe(0)
    }
    expect(fs.readdirSync(other)).toEqual([])
  })
})
