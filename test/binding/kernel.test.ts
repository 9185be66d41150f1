/**
 * The kernel's passthrough (fuse_native_kernel_passthrough, _stats): with it asked for and offered
 * (Linux 6.9+, CAP_SYS_ADMIN), a read-only open the file system allowed (passthrough_open's kernel)
 * is answered with a backing file and its reads never reach this process; a write open of a file
 * the kernel is reading gets a new inode (ESTALE, then an alias). Turned off, the same open is
 * served on the FUSE thread. Where the kernel does not offer it, the "on" tests say why and check
 * what _stats reports instead.
 */
import { randomBytes } from "node:crypto"
import * as fs from "node:fs"
import { afterEach, describe, expect, it } from "vitest"
import { TestFs, native, py } from "./harness.js"

/** [offered, on, opens handed to the kernel, inodes renewed, refused, last refusal's errno, unprivileged] */
const stats = () => {
  const s = native.fuse_native_kernel_passthrough_stats()
  return { offered: s[0]!, on: s[1]!, opens: s[2]!, renewed: s[3]!, refused: s[4]!, errno: s[5]!, unprivileged: s[6]! }
}

const data = randomBytes(1 << 20)
let t: TestFs | undefined

/** A mount whose read-only opens may go to the kernel; every handle is tied. */
const mountWith = async (kernel: boolean): Promise<TestFs> => {
  native.fuse_native_kernel_passthrough(kernel ? 1 : 0)
  t = new TestFs(kernel ? "kernel-on" : "kernel-off")
  t.put("file.bin", data)
  t.tie = (_p, flags) => ({ thread: true, kernel: (flags & 3) === fs.constants.O_RDONLY })
  await t.mount()
  return t
}

afterEach(async () => {
  await t?.close()
  t = undefined
})

const READ_ALL = `
with open(ARG, "rb") as f:
    print(json.dumps(f.read().hex()))
`

it("_stats gives seven numbers, all zero before any mount", () => {
  const s = native.fuse_native_kernel_passthrough_stats()
  expect(s).toEqual([0, 0, 0, 0, 0, 0, 0])
})

describe("turned off before the mount", () => {
  it("no open goes to the kernel: the FUSE thread serves the read, with the file's bytes", async () => {
    const m = await mountWith(false)
    const before = stats()
    const hex = await py<string>(READ_ALL, m.at("file.bin"))
    expect(Buffer.from(hex, "hex").equals(data)).toBe(true)
    const after = stats()
    expect(after.on).toBe(0)
    expect(after.unprivileged, "not asked for, so not refused either").toBe(0)
    expect(after.opens).toBe(before.opens)
    expect(m.opened.at(-1)).toMatchObject({ path: "/file.bin", tied: true })
    expect(m.count("read", "/file.bin")).toBe(0)
    console.log(`kernel passthrough off: the kernel ${after.offered ? "offered" : "did not offer"} it at INIT`)
  })
})

describe("asked for", () => {
  it("is on where the kernel offers it, and a read-only open is read by the kernel", async () => {
    const m = await mountWith(true)
    const s = stats()
    if (!s.offered || s.unprivileged) {
      console.log(
        `kernel passthrough "on" is not exercised here: ${!s.offered ? `the kernel (${fs.readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()}) did not offer FUSE_PASSTHROUGH at INIT (Linux 6.9+ with CONFIG_FUSE_PASSTHROUGH)` : "this process has no CAP_SYS_ADMIN to register backing files"}`
      )
      expect(s.on).toBe(0)
      // the open is still served, on the FUSE thread
      const hex = await py<string>(READ_ALL, m.at("file.bin"))
      expect(Buffer.from(hex, "hex").equals(data)).toBe(true)
      expect(stats().opens).toBe(s.opens)
      return
    }
    expect(s.on).toBe(1)
    const hex = await py<string>(READ_ALL, m.at("file.bin"))
    expect(Buffer.from(hex, "hex").equals(data)).toBe(true)
    expect(stats().opens, "opens handed to the kernel").toBe(s.opens + 1)
    expect(stats().refused).toBe(s.refused)
    expect(m.count("read", "/file.bin")).toBe(0)
  })

  it("a write open beside the kernel's reader gets a new inode; the write lands and a new open reads it", async () => {
    const m = await mountWith(true)
    const s = stats()
    if (!s.on) {
      console.log(`renewing inodes beside the kernel's readers is not exercised: kernel passthrough is off (offered ${s.offered}, unprivileged ${s.unprivileged})`)
      return
    }
    const got = await py<{ old: string; fresh: string; ino: Array<number> }>(
      `
p = ARG
r = os.open(p, os.O_RDONLY)
old = os.pread(r, 8, 0).hex()
ino1 = os.fstat(r).st_ino
w = os.open(p, os.O_WRONLY)
os.pwrite(w, b"NEWBYTES", 0)
os.close(w)
r2 = os.open(p, os.O_RDONLY)
fresh = os.pread(r2, 8, 0).hex()
os.close(r2)
os.close(r)
print(json.dumps({"old": old, "fresh": fresh, "ino": [ino1]}))
`,
      m.at("file.bin")
    )
    expect(got.old).toBe(data.subarray(0, 8).toString("hex"))
    expect(Buffer.from(got.fresh, "hex").toString()).toBe("NEWBYTES")
    expect(fs.readFileSync(m.real("file.bin")).subarray(0, 8).toString()).toBe("NEWBYTES")
    const after = stats()
    expect(after.renewed, "inodes renewed beside the kernel's opens").toBe(s.renewed + 1)
    expect(after.opens).toBeGreaterThanOrEqual(s.opens + 2)
    // the kernel forgets every inode it can, the alias among them: the file still reads right
    await fs.promises.writeFile("/proc/sys/vm/drop_caches", "2")
    const hex = await py<string>(READ_ALL, m.at("file.bin"))
    expect(Buffer.from(hex, "hex").subarray(0, 8).toString()).toBe("NEWBYTES")
    expect(Buffer.from(hex, "hex").subarray(8).equals(data.subarray(8))).toBe(true)
  })

  it("a handle not allowed to the kernel (passthrough_open's kernel 0) is served on the FUSE thread", async () => {
    const m = await mountWith(true)
    m.tie = () => ({ thread: true, kernel: false })
    const s = stats()
    const hex = await py<string>(READ_ALL, m.at("file.bin"))
    expect(Buffer.from(hex, "hex").equals(data)).toBe(true)
    expect(stats().opens).toBe(s.opens)
    expect(m.count("read", "/file.bin")).toBe(0)
  })
})
