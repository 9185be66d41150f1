/**
 * The mount table as the kernel writes it: a mount point with any characters reads back as it is,
 * and only whole sharebox mounts of this user count (a peer's files never make a mount root).
 */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { isShareboxMount, mountOf, parseMountinfo } from "../../src/effects/mounts.js"

/** What the kernel's seq_path does to a path in /proc/PID/mountinfo (proc(5)). */
const escape = (p: string): string => p.replace(/[ \t\n\\]/g, (c) => "\\" + c.charCodeAt(0).toString(8).padStart(3, "0"))

const line = (point: string, opts: { root?: string; fstype?: string; uid?: number; optional?: string } = {}): string =>
  `45 26 0:40 ${escape(opts.root ?? "/")} ${escape(point)} rw,nosuid,nodev,relatime ${opts.optional ?? ""}${opts.optional ? " " : ""}- ${opts.fstype ?? "fuse.sharebox"} sharebox rw,user_id=${opts.uid ?? 1000},group_id=1000,max_read=131072`

const mountPoint = fc
  .array(fc.string({ unit: fc.constantFrom("a", "é", " ", "\t", "\n", "\\", "-", "0", "4"), minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 4 })
  .map((names) => "/" + names.join("/"))

describe("mountinfo", () => {
  it("reads back every mount point, whatever it contains, with or without optional fields", () => {
    fc.assert(
      fc.property(mountPoint, fc.constantFrom("", "shared:1", "master:2 propagate_from:1"), (p, optional) => {
        const [m] = parseMountinfo(line(p, { optional }) + "\n")
        expect(m?.point).toBe(p)
        expect(m?.fstype).toBe("fuse.sharebox")
        expect(isShareboxMount(m!, 1000)).toBe(true)
      })
    )
  })

  it("a sharebox mount counts only whole and only when this user mounted it", () => {
    const [whole, part, other, notOurs] = parseMountinfo(
      [line("/m"), line("/b", { root: "/sub" }), line("/o", { fstype: "fuse.sshfs" }), line("/u", { uid: 1001 })].join("\n")
    )
    expect([whole, part, other, notOurs].map((m) => isShareboxMount(m!, 1000))).toEqual([true, false, false, false])
    expect(isShareboxMount(parseMountinfo(line("/u", { uid: 10001 }))[0]!, 1000)).toBe(false)
  })

  it("a path belongs to the innermost mount it is in, and a name that only starts like a mount is outside", () => {
    const mounts = ["/home/u/S", "/home/u/S/inner"]
    expect(mountOf(mounts, "/home/u/S")).toEqual({ root: "/home/u/S", rel: "" })
    expect(mountOf(mounts, "/home/u/S/a/b")).toEqual({ root: "/home/u/S", rel: "a/b" })
    expect(mountOf(mounts, "/home/u/S/inner/x")).toEqual({ root: "/home/u/S/inner", rel: "x" })
    expect(mountOf(mounts, "/home/u/Sx/a")).toBeUndefined()
    expect(mountOf(mounts, "/home/u")).toBeUndefined()
  })
})
